"""The EPANET 2.3 library (bundled in owa-epanet) bound with ctypes: enums, units and errors.

This package is the only place that talks to the EPANET library. ctypes is used rather than the
owa-epanet wrapper because the bulk getters (``EN_getnodevalues``) then fill numpy arrays
directly: one C call per property and reporting step instead of one Python call per element.
"""

from __future__ import annotations

import ctypes
import enum
import functools
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from hydro.errors import EngineError
from hydro.inpfile import InputText
from hydro.units import (
    EPANET_FLOW_NAMES,
    EPANET_FLOW_TO_M3S,
    EPANET_PRESSURE_TO_M,
    EPANET_US_FLOWS,
    FOOT,
    INCH,
)

# ------------------------------------------------------------------------------------------------
# EPANET constants (epanet2_enums.h, version 2.3)


class NodeProperty(enum.IntEnum):
    ELEVATION = 0
    BASEDEMAND = 1
    PATTERN = 2
    EMITTER = 3
    INITQUAL = 4
    SOURCEQUAL = 5
    SOURCEPAT = 6
    SOURCETYPE = 7
    TANKLEVEL = 8
    DEMAND = 9
    HEAD = 10
    PRESSURE = 11
    QUALITY = 12
    MINLEVEL = 20
    MAXLEVEL = 21
    DEMANDDEFICIT = 27
    EMITTERFLOW = 29
    LEAKAGEFLOW = 30
    DEMANDFLOW = 31
    FULLDEMAND = 32
    # tanks only (read them with node_value): volumes in m3 once converted
    INITVOLUME = 14
    MIXMODEL = 15
    MIXZONEVOL = 16
    MINVOLUME = 18
    MIXFRACTION = 22
    TANK_KBULK = 23
    TANKVOLUME = 24
    MAXVOLUME = 25
    CANOVERFLOW = 26


class LinkProperty(enum.IntEnum):
    DIAMETER = 0
    LENGTH = 1
    ROUGHNESS = 2
    MINORLOSS = 3
    INITSTATUS = 4
    INITSETTING = 5
    KBULK = 6
    KWALL = 7
    FLOW = 8
    VELOCITY = 9
    HEADLOSS = 10
    STATUS = 11
    SETTING = 12
    ENERGY = 13
    LINKPATTERN = 15
    PUMP_STATE = 16  # EPANET's own status code: see PumpState
    PUMP_HCURVE = 19
    PUMP_ECURVE = 20
    LEAK_AREA = 26
    LEAK_EXPAN = 27


class TimeParameter(enum.IntEnum):
    DURATION = 0
    HYDSTEP = 1
    QUALSTEP = 2
    PATTERNSTEP = 3
    PATTERNSTART = 4
    REPORTSTEP = 5
    REPORTSTART = 6
    RULESTEP = 7
    STATISTIC = 8
    STARTTIME = 10


class LinkState(enum.IntEnum):
    """A link's status as EPANET holds it (EN_PUMP_STATE reads it for any link)."""

    XHEAD = 0  # pump closed: cannot deliver head
    TEMPCLOSED = 1  # closed for now (e.g. it would drain an empty tank)
    CLOSED = 2
    OPEN = 3
    ACTIVE = 4
    XFLOW = 5  # pump beyond the end of its curve
    XFCV = 6
    XPRESSURE = 7


class SourceType(enum.IntEnum):
    CONCEN = 0
    MASS = 1
    SETPOINT = 2
    FLOWPACED = 3


class NodeType(enum.IntEnum):
    JUNCTION = 0
    RESERVOIR = 1
    TANK = 2


class LinkType(enum.IntEnum):
    CVPIPE = 0
    PIPE = 1
    PUMP = 2
    PRV = 3
    PSV = 4
    PBV = 5
    FCV = 6
    TCV = 7
    GPV = 8
    PCV = 9


class QualityType(enum.IntEnum):
    NONE = 0
    CHEM = 1
    AGE = 2
    TRACE = 3


_NODECOUNT, _TANKCOUNT, _LINKCOUNT = 0, 1, 2
_OPTION_PRESS_UNITS = 25
_OPTION_DEMANDMULT = 4
_OPTION_UNBALANCED = 14  # EN_UNBALANCED: -1 stop, 0 continue, n > 0 n more trials, statuses held
_PATCOUNT, _CONTROLCOUNT, _RULECOUNT = 3, 5, 6
_OPTION_TOLERANCE = 2  # EN_TOLERANCE: water-quality tolerance
_OPTION_TRIALS = 0
_OPTION_GLOBALEFFIC = 8  # EN_GLOBALEFFIC: pumps' efficiency (%) where they have no curve
_OPTION_BULKORDER, _OPTION_WALLORDER, _OPTION_TANKORDER = 19, 20, 21
_OPTION_EMITBACKFLOW = 24  # EN_EMITBACKFLOW: 1 emitters may take water in, 0 they may not
_CONTROL_TYPES = {"low_level": 0, "hi_level": 1, "timer": 2, "timeofday": 3}

# Hydraulic warnings EPANET returns from EN_runH (codes below 100).
WARNINGS = {
    1: "system hydraulically unbalanced (did not converge within the trial limit)",
    2: "system may be hydraulically unstable",
    3: "system disconnected: some nodes cannot be reached from a source",
    4: "pumps cannot deliver enough flow or head",
    5: "valves cannot deliver enough flow",
    6: "system has negative pressures",
}

# ------------------------------------------------------------------------------------------------
# Units: factors from the engine's units to SI


@dataclass(frozen=True)
class Units:
    """Conversion factors from this project's engine units to SI."""

    flow_code: int
    pressure_code: int

    @property
    def flow_units(self) -> str:
        return EPANET_FLOW_NAMES[self.flow_code]

    @property
    def us(self) -> bool:
        return self.flow_units in EPANET_US_FLOWS

    @property
    def flow(self) -> float:
        return EPANET_FLOW_TO_M3S[self.flow_units]

    @property
    def length(self) -> float:
        return FOOT if self.us else 1.0

    @property
    def diameter(self) -> float:
        return INCH if self.us else 1e-3

    @property
    def pressure(self) -> float:
        return EPANET_PRESSURE_TO_M[self.pressure_code]

    def node_factor(self, prop: NodeProperty) -> float:
        return _node_factor(self, prop)

    def link_factor(self, prop: LinkProperty) -> float:
        return _link_factor(self, prop)


# ------------------------------------------------------------------------------------------------
# The library


# Toolkit calls that solve or read and write files: they release the GIL while they run, as
# ctypes.CDLL calls do. Every other call is short (a getter, a setter) and keeps the GIL, as
# ctypes.PyDLL calls do: a call that released it would, on return, wait for whichever thread
# took it meanwhile (the parse of the element tables, the transport's Python) -- up to a switch
# interval per call, tens of times per hydraulic step.
_RELEASE_GIL = frozenset(
    [
        "EN_open",
        "EN_close",
        "EN_createproject",
        "EN_deleteproject",
        "EN_saveinpfile",
        "EN_openH",
        "EN_initH",
        "EN_runH",
        "EN_nextH",
        "EN_closeH",
        "EN_solveH",
        "EN_saveH",
        "EN_openQ",
        "EN_initQ",
        "EN_runQ",
        "EN_nextQ",
        "EN_stepQ",
        "EN_closeQ",
        "EN_solveQ",
        "EN_report",
        "EN_runproject",
    ]
)


class _Library(ctypes.CDLL):
    """The EPANET library, its long calls releasing the GIL and its short ones keeping it."""

    def __init__(self, path: str):
        super().__init__(path)
        self._held = ctypes.PyDLL(path)

    def __getattr__(self, name: str):
        if name.startswith("EN_") and name not in _RELEASE_GIL:
            func = getattr(self._held, name)
            setattr(self, name, func)  # found once, as CDLL caches its own
            return func
        return super().__getattr__(name)


@functools.cache
def library() -> ctypes.CDLL:
    """The EPANET 2.3 shared library bundled with owa-epanet, loaded once per process."""
    import epanet  # the owa-epanet package; only its bundled library is used

    folder = Path(epanet.__file__).parent
    names = {"win32": "epanet2.dll", "darwin": "libepanet2.dylib"}
    path = folder / names.get(sys.platform, "libepanet2.so")
    if not path.exists():  # unusual wheel layouts: take whatever library file is there
        found = sorted(folder.glob("*epanet2*.*"))
        found = [p for p in found if p.suffix in (".so", ".dylib", ".dll")]
        if not found:
            raise EngineError(f"EPANET library not found in {folder}; reinstall owa-epanet")
        path = found[0]
    lib = _Library(str(path))
    lib.EN_getnodevalues.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    lib.EN_getlinkvalues.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    lib.EN_setnodevalue.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_double]
    lib.EN_setlinkvalue.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_double]
    lib.EN_setdemandmodel.argtypes = [
        ctypes.c_void_p,
        ctypes.c_int,
        ctypes.c_double,
        ctypes.c_double,
        ctypes.c_double,
    ]
    lib.EN_settimeparam.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_long]
    lib.EN_setoption.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_double]
    lib.EN_addcontrol.argtypes = [
        ctypes.c_void_p,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_double,
        ctypes.c_int,
        ctypes.c_double,
        ctypes.POINTER(ctypes.c_int),
    ]
    lib.EN_setpatternvalue.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_double]
    lib.EN_setqualtype.argtypes = [
        ctypes.c_void_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
    ]
    return lib


def engine_version() -> str:
    """EPANET's version as 'major.minor.patch', e.g. '2.3.5'."""
    v = ctypes.c_int()
    library().EN_getversion(ctypes.byref(v))
    return f"{v.value // 10000}.{v.value // 100 % 100}.{v.value % 100}"


def error_text(code: int) -> str:
    buf = ctypes.create_string_buffer(256)
    library().EN_geterror(code, buf, 255)
    return buf.value.decode("utf-8", "replace").strip()


_RPT_ERROR = re.compile(r"^\s*(Error \d+:.*?)\s*$")


def report_errors(rpt: Path, source: InputText) -> list[str]:
    """The input errors EPANET wrote to its report, each with the offending line of the INP.

    EPANET prints the error, then the offending input line; hydro finds that line in the file so
    the message can say 'line N'.
    """
    if not rpt.exists():
        return []
    lines = rpt.read_text(encoding="utf-8", errors="replace").splitlines()
    src_lines = [ln.strip() for ln in source.text.splitlines()]
    found: list[str] = []
    for i, line in enumerate(lines):
        m = _RPT_ERROR.match(line)
        if not m or m.group(1).startswith("Error 200"):
            continue
        message = m.group(1).rstrip(":")
        offending = lines[i + 1].split(";")[0].strip() if i + 1 < len(lines) else ""
        if offending and not _RPT_ERROR.match(lines[i + 1]):
            where = _find_line(src_lines, offending)
            message += (
                f" (line {where}: {' '.join(offending.split())})"
                if where
                else f" ({' '.join(offending.split())})"
            )
        found.append(message)
    return found


def report_warnings(rpt: Path) -> list[str]:
    """EPANET's own warning lines (they name the nodes and links involved)."""
    if not rpt.exists():
        return []
    text = rpt.read_text(encoding="utf-8", errors="replace")
    return [" ".join(line.split()) for line in text.splitlines() if "WARNING" in line]


def _find_line(src_lines: list[str], offending: str) -> int | None:
    target = offending.split()
    for number, line in enumerate(src_lines, start=1):
        if line.split(";")[0].split() == target:
            return number
    return None


def _check(code: int, what: str) -> None:
    if code >= 100:
        raise EngineError(f"{what}: {error_text(code)}")


def _units(handle: ctypes.c_void_p) -> Units:
    lib = library()
    flow = ctypes.c_int()
    lib.EN_getflowunits(handle, ctypes.byref(flow))
    press = ctypes.c_double()
    if lib.EN_getoption(handle, _OPTION_PRESS_UNITS, ctypes.byref(press)) != 0:
        press.value = 0 if EPANET_FLOW_NAMES[flow.value] in EPANET_US_FLOWS else 2
    return Units(flow.value, int(press.value))


@functools.cache
def _node_factor(units: Units, prop: NodeProperty) -> float:
    if prop in (
        NodeProperty.ELEVATION,
        NodeProperty.TANKLEVEL,
        NodeProperty.HEAD,
        NodeProperty.MINLEVEL,
        NodeProperty.MAXLEVEL,
    ):
        return units.length
    if prop in (
        NodeProperty.BASEDEMAND,
        NodeProperty.DEMAND,
        NodeProperty.DEMANDDEFICIT,
        NodeProperty.EMITTERFLOW,
        NodeProperty.LEAKAGEFLOW,
        NodeProperty.DEMANDFLOW,
        NodeProperty.FULLDEMAND,
    ):
        return units.flow
    if prop == NodeProperty.PRESSURE:
        return units.pressure
    if prop in (
        NodeProperty.INITVOLUME,
        NodeProperty.MIXZONEVOL,
        NodeProperty.MINVOLUME,
        NodeProperty.TANKVOLUME,
        NodeProperty.MAXVOLUME,
    ):
        return units.length**3  # ft3 or m3
    return 1.0


@functools.cache
def _link_factor(units: Units, prop: LinkProperty) -> float:
    if prop == LinkProperty.DIAMETER:
        return units.diameter
    if prop == LinkProperty.LENGTH:
        return units.length
    if prop == LinkProperty.FLOW:
        return units.flow
    if prop == LinkProperty.VELOCITY:
        return units.length  # ft/s or m/s
    if prop == LinkProperty.ENERGY:
        return 1000.0  # kW -> W
    return 1.0
