"""Read a SWMM 5 binary output (.out) file with numpy, in one pass.

Layout (SWMM 5.2 output.c; all integers int32, reals float32 unless said, little-endian):

1. Opening records: magic number 516114522, version, flow units code, number of reported
   subcatchments, nodes, links and pollutants.
2. IDs: for each reported subcatchment, node, link and pollutant, an int32 length then its bytes;
   then one int32 concentration-units code per pollutant.
3. Properties: subcatchments ``1, AREA code`` then one area each; nodes ``3, codes`` then per node
   an int32 type, the invert and the full depth; links ``5, codes`` then per link an int32 type,
   two offsets, the full depth and the length.
4. Result variable codes: for subcatchments, nodes, links and the system, a count then the codes.
5. The start date (float64, days since 1899-12-30) and the report step (int32 seconds).
6. One record per reporting period: its date (float64) then float32 values, subcatchment-major
   (every variable of subcatchment 0, then of subcatchment 1...), then nodes, links, system.
7. Closing records (6 int32): byte positions of the IDs, the properties and the results, the number
   of periods, SWMM's error code, the magic number.

Values are in the model's units (see :func:`hydro.drainage.inp.si_factors`); the engine adapter
converts them. The reader memory-maps the results and copies each element kind once into a
variable-major array, so ``out.node_values[k]`` is a contiguous (time, node) block.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hydro.errors import InputError

MAGIC = 516114522
FLOW_UNITS = ("CFS", "GPM", "MGD", "CMS", "LPS", "MLD")
NODE_TYPES = ("junction", "outfall", "storage", "divider")
LINK_TYPES = ("conduit", "pump", "orifice", "weir", "outlet")

# Result variable positions in each record (output.c: SUBCATCH_*, NODE_*, LINK_*)
SUBCATCH_RAINFALL, SUBCATCH_SNOW_DEPTH, SUBCATCH_EVAPORATION, SUBCATCH_INFILTRATION = 0, 1, 2, 3
SUBCATCH_RUNOFF, SUBCATCH_GW_FLOW, SUBCATCH_GW_ELEVATION, SUBCATCH_SOIL_MOISTURE = 4, 5, 6, 7
NODE_DEPTH, NODE_HEAD, NODE_VOLUME, NODE_LATERAL_INFLOW, NODE_TOTAL_INFLOW, NODE_FLOODING = range(6)
LINK_FLOW, LINK_DEPTH, LINK_VELOCITY, LINK_VOLUME, LINK_CAPACITY = range(5)
SWMM_EPOCH = np.datetime64("1899-12-30T00:00:00", "ms")


@dataclass(frozen=True)
class SwmmOutput:
    """Everything in a SWMM .out file, in the model's units.

    Result arrays are variable-major: ``node_values`` has shape (n_node_vars, n_periods, n_nodes)
    (float32), likewise ``subcatch_values``, ``link_values``; ``system_values`` is
    (n_system_vars, n_periods). ``dates`` are float64 days since 1899-12-30 (SWMM's DateTime).
    """

    version: int
    flow_units: str
    subcatchments: tuple[str, ...]
    nodes: tuple[str, ...]
    links: tuple[str, ...]
    pollutants: tuple[str, ...]
    pollutant_units: tuple[int, ...]
    subcatch_area: np.ndarray
    node_type: np.ndarray
    node_invert: np.ndarray
    node_full_depth: np.ndarray
    link_type: np.ndarray
    link_offsets: np.ndarray
    link_full_depth: np.ndarray
    link_length: np.ndarray
    subcatch_codes: tuple[int, ...]
    node_codes: tuple[int, ...]
    link_codes: tuple[int, ...]
    system_codes: tuple[int, ...]
    start_date: float
    report_step: int
    dates: np.ndarray
    subcatch_values: np.ndarray
    node_values: np.ndarray
    link_values: np.ndarray
    system_values: np.ndarray
    error_code: int

    @property
    def n_periods(self) -> int:
        return int(self.dates.shape[0])

    def datetimes(self) -> np.ndarray:
        """The period dates as datetime64[ms], rounded to the millisecond."""
        return SWMM_EPOCH + np.round(self.dates * 86_400_000.0).astype("int64").astype(
            "timedelta64[ms]"
        )


class _Cursor:
    """Sequential reads over the header bytes."""

    def __init__(self, data: bytes, pos: int, path: Path) -> None:
        self.data, self.pos, self.path = data, pos, path

    def ints(self, n: int) -> np.ndarray:
        return self.array("<i4", n)

    def array(self, dtype: str | np.dtype, n: int) -> np.ndarray:
        dtype = np.dtype(dtype)
        end = self.pos + dtype.itemsize * n
        if end > len(self.data):
            raise InputError(f"{self.path}: SWMM output file is truncated")
        out = np.frombuffer(self.data, dtype=dtype, count=n, offset=self.pos)
        self.pos = end
        return out

    def name(self) -> str:
        (length,) = self.ints(1)
        if length < 0 or self.pos + length > len(self.data):
            raise InputError(f"{self.path}: SWMM output file has a corrupt ID table")
        raw = self.data[self.pos : self.pos + int(length)]
        self.pos += int(length)
        return raw.decode("utf-8", errors="replace")

    def codes(self) -> tuple[int, ...]:
        (n,) = self.ints(1)
        return tuple(int(c) for c in self.ints(int(n)))


def read_out(path: str | Path) -> SwmmOutput:
    """Read a whole SWMM 5 .out file; InputError if it is not one or is incomplete."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    size = path.stat().st_size
    if size < 7 * 4 + 6 * 4:
        raise InputError(f"{path}: not a SWMM output file (only {size} bytes)")
    with open(path, "rb") as fh:
        head = np.frombuffer(fh.read(7 * 4), dtype="<i4")
        fh.seek(size - 6 * 4)
        tail = np.frombuffer(fh.read(6 * 4), dtype="<i4")
    if head[0] != MAGIC or tail[5] != MAGIC:
        raise InputError(
            f"{path}: not a complete SWMM output file (magic number missing; "
            "did the run stop early?)"
        )
    version, units_code, n_sub, n_node, n_link, n_poll = (int(v) for v in head[1:])
    id_pos, prop_pos, out_pos, n_periods, error_code = (int(v) for v in tail[:5])
    with open(path, "rb") as fh:
        header = fh.read(out_pos)
    cur = _Cursor(header, id_pos, path)
    subcatchments = tuple(cur.name() for _ in range(n_sub))
    nodes = tuple(cur.name() for _ in range(n_node))
    links = tuple(cur.name() for _ in range(n_link))
    pollutants = tuple(cur.name() for _ in range(n_poll))
    pollutant_units = tuple(int(u) for u in cur.ints(n_poll))

    cur.pos = prop_pos
    cur.codes()
    subcatch_area = cur.array("<f4", n_sub).copy()
    cur.codes()
    node_props = cur.array(np.dtype([("type", "<i4"), ("invert", "<f4"), ("depth", "<f4")]), n_node)
    cur.codes()
    link_props = cur.array(
        np.dtype([("type", "<i4"), ("offsets", "<f4", (2,)), ("depth", "<f4"), ("length", "<f4")]),
        n_link,
    )
    subcatch_codes, node_codes, link_codes, system_codes = (cur.codes() for _ in range(4))
    (start_date,) = cur.array("<f8", 1)
    (report_step,) = cur.ints(1)
    if cur.pos != out_pos:
        raise InputError(
            f"{path}: SWMM output file header is inconsistent "
            f"(results expected at byte {out_pos}, header ends at {cur.pos})"
        )

    n_sv, n_nv, n_lv, n_yv = (
        len(c) for c in (subcatch_codes, node_codes, link_codes, system_codes)
    )
    record = np.dtype(
        [
            ("date", "<f8"),
            ("sub", "<f4", (n_sub * n_sv,)),
            ("node", "<f4", (n_node * n_nv,)),
            ("link", "<f4", (n_link * n_lv,)),
            ("sys", "<f4", (n_yv,)),
        ]
    )
    if out_pos + record.itemsize * n_periods > size - 6 * 4:
        raise InputError(f"{path}: SWMM output file is truncated ({n_periods} periods announced)")
    if n_periods:
        periods = np.memmap(path, dtype=record, mode="r", offset=out_pos, shape=(n_periods,))
        try:
            dates = np.array(periods["date"])
            sub = _variable_major(periods["sub"], n_sub, n_sv)
            node = _variable_major(periods["node"], n_node, n_nv)
            link = _variable_major(periods["link"], n_link, n_lv)
            system = np.ascontiguousarray(np.array(periods["sys"]).T)
        finally:
            del periods  # release the map before the caller deletes the file
    else:
        dates = np.zeros(0)
        sub = np.zeros((n_sv, 0, n_sub), np.float32)
        node = np.zeros((n_nv, 0, n_node), np.float32)
        link = np.zeros((n_lv, 0, n_link), np.float32)
        system = np.zeros((n_yv, 0), np.float32)

    return SwmmOutput(
        version=version,
        flow_units=FLOW_UNITS[units_code] if 0 <= units_code < len(FLOW_UNITS) else str(units_code),
        subcatchments=subcatchments,
        nodes=nodes,
        links=links,
        pollutants=pollutants,
        pollutant_units=pollutant_units,
        subcatch_area=subcatch_area,
        node_type=node_props["type"].copy(),
        node_invert=node_props["invert"].copy(),
        node_full_depth=node_props["depth"].copy(),
        link_type=link_props["type"].copy(),
        link_offsets=link_props["offsets"].copy(),
        link_full_depth=link_props["depth"].copy(),
        link_length=link_props["length"].copy(),
        subcatch_codes=subcatch_codes,
        node_codes=node_codes,
        link_codes=link_codes,
        system_codes=system_codes,
        start_date=float(start_date),
        report_step=int(report_step),
        dates=dates,
        subcatch_values=sub,
        node_values=node,
        link_values=link,
        system_values=system,
        error_code=error_code,
    )


def _variable_major(block: np.ndarray, n_elements: int, n_vars: int) -> np.ndarray:
    """(time, element*var) record slices -> one contiguous (var, time, element) float32 array."""
    n_periods = block.shape[0]
    out = np.empty((n_vars, n_periods, n_elements), dtype=np.float32)
    if n_elements and n_vars:
        out[...] = block.reshape(n_periods, n_elements, n_vars).transpose(2, 0, 1)
    return out
