"""Raster grids: ESRI ASCII grids and GeoTIFFs in, the same out; CRS carried through.

A :class:`Grid` is a north-up regular raster: ``values`` (ny, nx) float64 with row 0 the northern
row and NaN where there is no data, the west and north edges ``x0``, ``y0`` [m], cell sizes ``dx``,
``dy`` [m] and the CRS as WKT (None when the file has none). ESRI ASCII grids are read here (the
``.prj`` beside them gives the CRS); GeoTIFFs through rasterio. Rotated or geographic (degree)
grids are refused: the solver needs cell sizes in metres.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hydro.errors import InputError

ASCII_SUFFIXES = (".asc", ".txt")
TIFF_SUFFIXES = (".tif", ".tiff")
_HEADER = (
    "ncols",
    "nrows",
    "xllcorner",
    "yllcorner",
    "xllcenter",
    "yllcenter",
    "cellsize",
    "dx",
    "dy",
    "nodata_value",
)


@dataclass(frozen=True, eq=False)
class Grid:
    values: np.ndarray
    x0: float
    y0: float
    dx: float
    dy: float
    crs: str | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape

    @property
    def x(self) -> np.ndarray:
        """Cell-centre eastings [m], west to east."""
        return self.x0 + self.dx * (np.arange(self.shape[1]) + 0.5)

    @property
    def y(self) -> np.ndarray:
        """Cell-centre northings [m], north to south."""
        return self.y0 - self.dy * (np.arange(self.shape[0]) + 0.5)

    def like(self, values: np.ndarray) -> Grid:
        """A grid on the same cells holding other values."""
        return Grid(
            np.asarray(values, dtype=np.float64), self.x0, self.y0, self.dx, self.dy, self.crs
        )

    def matches(self, other: Grid, *, tol: float = 1e-6) -> bool:
        """Same cells: shape, origin and cell size (to ``tol`` of a cell)."""
        return (
            self.shape == other.shape
            and abs(self.x0 - other.x0) <= tol * self.dx
            and abs(self.y0 - other.y0) <= tol * self.dy
            and abs(self.dx - other.dx) <= tol * self.dx
            and abs(self.dy - other.dy) <= tol * self.dy
        )

    def cell_of(self, x: float, y: float) -> tuple[int, int] | None:
        """(row, column) of the cell holding point (x, y) [m], None outside the grid."""
        j = int(np.floor((x - self.x0) / self.dx))
        i = int(np.floor((self.y0 - y) / self.dy))
        if 0 <= i < self.shape[0] and 0 <= j < self.shape[1]:
            return i, j
        return None


def read_grid(path: str | Path) -> Grid:
    """A grid from an ESRI ASCII grid (.asc, .txt) or a GeoTIFF (.tif, .tiff)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such grid file")
    suffix = path.suffix.lower()
    if suffix in ASCII_SUFFIXES:
        grid = _read_ascii(path)
    elif suffix in TIFF_SUFFIXES:
        grid = _read_tiff(path)
    else:
        raise InputError(
            f"{path}: unknown grid format {path.suffix!r}; expected an ESRI ASCII "
            "grid (.asc) or a GeoTIFF (.tif)"
        )
    _check_crs(path, grid.crs)
    return grid


def write_grid(grid: Grid, path: str | Path, *, nodata: float = -9999.0) -> Path:
    """Write ``grid`` as an ESRI ASCII grid (+ .prj when it has a CRS) or a GeoTIFF, atomically."""
    from hydro.results import atomic_path

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in ASCII_SUFFIXES + TIFF_SUFFIXES:
        raise InputError(f"{path}: cannot write {path.suffix!r}; use .asc or .tif")
    with atomic_path(path) as tmp:
        if suffix in ASCII_SUFFIXES:
            _write_ascii(grid, tmp, nodata)
        else:
            _write_tiff(grid, tmp, nodata)
    if suffix in ASCII_SUFFIXES and grid.crs:
        with atomic_path(path.with_suffix(".prj")) as tmp:
            tmp.write_text(grid.crs, encoding="utf-8")
    return path


# --- ESRI ASCII ---------------------------------------------------------------------------------


def _read_ascii(path: Path) -> Grid:
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except UnicodeDecodeError:
        raise InputError(f"{path}: not an ESRI ASCII grid (not plain text)") from None
    header: dict[str, float] = {}
    k = 0
    while k < len(lines):
        words = lines[k].split()
        if not words:
            k += 1
            continue
        key = words[0].lower()
        if key not in _HEADER:
            break
        if len(words) != 2:
            raise InputError(f"{path}, line {k + 1}: expected '{words[0]} <number>'")
        try:
            header[key] = float(words[1])
        except ValueError:
            raise InputError(
                f"{path}, line {k + 1}: {words[0]} is not a number ({words[1]!r})"
            ) from None
        k += 1
    missing = [key for key in ("ncols", "nrows") if key not in header]
    if "cellsize" not in header and not {"dx", "dy"} <= header.keys():
        missing.append("cellsize")
    if not (
        {"xllcorner", "yllcorner"} <= header.keys() or {"xllcenter", "yllcenter"} <= header.keys()
    ):
        missing.append("xllcorner/yllcorner")
    if missing:
        raise InputError(f"{path}: not an ESRI ASCII grid, header lacks {', '.join(missing)}")
    ny, nx = int(header["nrows"]), int(header["ncols"])
    # either dx and dy, or cellsize, was checked above
    dx = header["dx"] if "dx" in header else header["cellsize"]
    dy = header["dy"] if "dy" in header else header["cellsize"]
    if ny < 1 or nx < 1 or not dx > 0 or not dy > 0:
        raise InputError(f"{path}: ncols, nrows and the cell size must be positive")
    if "xllcorner" in header:
        x0, south = header["xllcorner"], header["yllcorner"]
    else:
        x0, south = header["xllcenter"] - dx / 2, header["yllcenter"] - dy / 2
    try:
        data = np.array(" ".join(lines[k:]).split(), dtype=np.float64)
    except ValueError:
        raise InputError(f"{path}: the grid holds a value that is not a number") from None
    if data.size != nx * ny:
        raise InputError(
            f"{path}: expected {nrows_ncols(ny, nx)} = {nx * ny} values, found {data.size}"
        )
    values = data.reshape(ny, nx)
    if "nodata_value" in header:
        values[values == header["nodata_value"]] = np.nan
    prj = path.with_suffix(".prj")
    crs = prj.read_text(encoding="utf-8", errors="replace").strip() if prj.is_file() else None
    return Grid(values, x0, south + ny * dy, dx, dy, crs or None)


def nrows_ncols(ny: int, nx: int) -> str:
    return f"{ny} rows x {nx} columns"


def _write_ascii(grid: Grid, path: Path, nodata: float) -> None:
    ny, nx = grid.shape
    head = [
        f"ncols {nx}",
        f"nrows {ny}",
        f"xllcorner {float(grid.x0)!r}",
        f"yllcorner {float(grid.y0 - ny * grid.dy)!r}",
    ]
    if grid.dx == grid.dy:
        head.append(f"cellsize {float(grid.dx)!r}")
    else:
        head += [f"dx {float(grid.dx)!r}", f"dy {float(grid.dy)!r}"]
    head.append(f"NODATA_value {nodata:g}")
    values = np.where(np.isnan(grid.values), nodata, grid.values)
    with open(path, "w", encoding="ascii") as fh:
        fh.write("\n".join(head) + "\n")
        np.savetxt(fh, values, fmt="%.17g")


# --- GeoTIFF ------------------------------------------------------------------------------------


def _read_tiff(path: Path) -> Grid:
    import rasterio
    from rasterio.errors import RasterioIOError

    try:
        with rasterio.open(path) as src:
            t = src.transform
            if t.b != 0 or t.d != 0 or t.a <= 0 or t.e >= 0:
                raise InputError(
                    f"{path}: the raster is rotated or not north-up; hydro needs a "
                    "north-up regular grid"
                )
            values = src.read(1, masked=True).astype(np.float64).filled(np.nan)
            crs = src.crs.to_wkt() if src.crs else None
    except RasterioIOError as err:
        raise InputError(f"{path}: not a readable GeoTIFF ({err})") from None
    return Grid(values, t.c, t.f, t.a, -t.e, crs)


def _write_tiff(grid: Grid, path: Path, nodata: float) -> None:
    import rasterio
    from affine import Affine

    ny, nx = grid.shape
    profile = {
        "driver": "GTiff",
        "height": ny,
        "width": nx,
        "count": 1,
        "dtype": "float64",
        "transform": Affine(grid.dx, 0.0, grid.x0, 0.0, -grid.dy, grid.y0),
        "nodata": nodata,
        "crs": grid.crs,
        "compress": "deflate",
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.where(np.isnan(grid.values), nodata, grid.values), 1)


def _check_crs(path: Path, wkt: str | None) -> None:
    if not wkt:
        return
    from rasterio.crs import CRS
    from rasterio.errors import CRSError

    try:
        crs = CRS.from_user_input(wkt)
    except CRSError as err:
        raise InputError(
            f"{path}: cannot read the grid's coordinate reference system ({err})"
        ) from None
    if crs.is_geographic:
        raise InputError(
            f"{path}: the grid is in a geographic CRS (degrees); reproject it to a "
            "projected CRS in metres (e.g. a UTM zone)"
        )
