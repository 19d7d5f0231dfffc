"""Compile the numba kernels ahead of their first use: ``hydro compile``, and once in the
background when an engine command first runs on an install.

numba keeps each ``cache=True`` kernel it compiles in a cache folder, found the first way that
works (numba.core.caching, ``_CacheImpl._locator_classes``): ``$NUMBA_CACHE_DIR/<folder>_<sha1>``
when that variable is set, else the ``__pycache__`` beside the kernel's source when it can be
written, else numba's user-wide folder (``$XDG_CACHE_HOME/numba/<folder>_<sha1>`` on Linux). A
kernel is compiled once per set of argument types it is called with, so the signatures are got by
running the real code paths on tiny real inputs (a small synthetic drainage model scored from its
netCDF file as ``hydro score`` does, a small supply scenario with its source shares, a capacity
study, small flood cases, one coupled with a drainage model), never written by hand: they cannot
drift from what real runs use.

numba writes every cache file under a unique temporary name and renames it into place
(``IndexDataCacheFile._open_for_write``: ``os.replace``), so a process never reads a half-written
file while another compiles the same kernel. But adding a signature to a kernel's index is a
read-modify-write of the whole index, and the data file is named by the first free number: two
processes adding *different* signatures of one kernel at the same moment can leave an index entry
pointing at the other signature's code, which numba loads without checking. So a compile holds
an exclusive lock on the cache folder, any other process that imports the kernels first waits for
it (:func:`wait_for_background`), and the background compile is started only by commands that
call no kernel themselves while it runs (a drainage run: its answers come from SWMM's own
statistics). A marker file in the cache folder, named by a key of
hydro's and numba's versions and the size and modification time of every hydro source file, says
that ``hydro compile`` finished for this install; checking it reads only file metadata.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from hydro import __version__
from hydro.errors import HydroError

PACKAGE = Path(__file__).resolve().parent
# The folder of the kernels whose numba cache folder holds the marker, the lock and the log.
KERNELS = PACKAGE / "kernels"
MARKER_PREFIX = "hydro-compiled-"
LOCK_NAME = "hydro-compile.lock"
LOG_NAME = "hydro-compile.log"
OPT_OUT = "HYDRO_NO_PRECOMPILE"
# A background compile that has not finished in this long is stuck: it stops (its log says so).
BACKGROUND_LIMIT = 1800  # s


class CacheFolderError(HydroError):
    """numba's cache folder cannot be written: nothing can be compiled ahead."""


# ------------------------------------------------------------------------------------------------
# Where numba keeps the kernels (numba.core.caching's locators, without importing numba)


def cache_folder(source_dir: Path = KERNELS) -> Path:
    """The folder where numba caches the kernels defined in ``source_dir``: the first of
    $NUMBA_CACHE_DIR, the source's ``__pycache__`` and numba's user-wide folder that can be
    written (numba skips a folder it cannot write); the user-wide one when none can."""
    user_wide = _user_cache_root() / _subpath(source_dir)
    custom = os.environ.get("NUMBA_CACHE_DIR")
    candidates = [Path(custom) / _subpath(source_dir)] if custom else []
    candidates += [source_dir / "__pycache__", user_wide]
    return next((folder for folder in candidates if _writable(folder)), user_wide)


def _subpath(source_dir: Path) -> str:
    # _CacheLocator.get_suitable_cache_subpath: the folder's name and the SHA1 of its full path.
    path = os.path.abspath(source_dir)
    return "_".join([os.path.basename(path), hashlib.sha1(path.encode()).hexdigest()])


def _user_cache_root() -> Path:
    # numba.misc.appdirs.AppDirs("numba", appauthor=False).user_cache_dir
    if sys.platform.startswith("linux"):
        return Path(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")) / "numba"
    if sys.platform == "darwin":
        return Path(os.path.expanduser("~/Library/Caches")) / "numba"
    from numba.misc.appdirs import AppDirs  # other systems: ask numba (imports it)

    return Path(AppDirs(appname="numba", appauthor=False).user_cache_dir)


def _writable(folder: Path) -> bool:
    """Whether ``folder`` can be written, or created and written (metadata only)."""
    while not folder.exists():
        if folder.parent == folder:
            return False
        folder = folder.parent
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)


# ------------------------------------------------------------------------------------------------
# The marker: compiled for this install?


def install_key() -> str:
    """A key that changes when hydro, numba, Python or any hydro source file changes."""
    parts = [__version__, _numba_stamp(), sys.version, platform.machine()]
    for folder, _, files in os.walk(PACKAGE):
        for name in sorted(files):
            if name.endswith(".py"):
                st = os.stat(os.path.join(folder, name))
                parts.append(
                    f"{os.path.relpath(folder, PACKAGE)}/{name}:{st.st_size}:{st.st_mtime_ns}"
                )
    return hashlib.sha1("\n".join(sorted(parts)).encode()).hexdigest()[:20]


def _numba_stamp() -> str:
    """numba's install, from its files' metadata (importing numba, or importlib.metadata, costs
    more than the whole check may)."""
    spec = importlib.util.find_spec("numba")
    if spec is None or not spec.origin:
        return "no numba"
    version_file = Path(spec.origin).with_name("_version.py")
    st = os.stat(version_file if version_file.exists() else spec.origin)
    return f"{spec.origin}:{st.st_size}:{st.st_mtime_ns}"


def marker(folder: Path | None = None) -> Path:
    return (folder or cache_folder()) / f"{MARKER_PREFIX}{install_key()}"


def is_compiled(folder: Path | None = None) -> bool:
    """Whether ``hydro compile`` finished for this install (reads file metadata only)."""
    return marker(folder).is_file()


# ------------------------------------------------------------------------------------------------
# Compiling: the real code paths on tiny inputs


@dataclass
class CompileReport:
    folder: Path
    seconds: float = 0.0
    kernels: int = 0  # kernels with at least one compiled signature
    signatures: int = 0
    compiled: int = 0  # signatures compiled now (cache misses)
    loaded: int = 0  # signatures found in the cache
    steps: list[tuple[str, float]] = field(default_factory=list)


def compile_kernels(progress: Callable[[str], None] = lambda line: None) -> CompileReport:
    """Run every kernel on tiny real inputs so that numba caches them; wait for (not race) a
    compile already under way in another process. Raises CacheFolderError when the cache folder
    cannot be written."""
    folder = check_cache_folder()
    start = time.perf_counter()
    report = CompileReport(folder)
    with _compile_lock(folder, wait=True, waiting=progress), tempfile.TemporaryDirectory() as tmp:
        for label, step in STEPS:
            progress(f"compiling {label} ...")
            t0 = time.perf_counter()
            work = Path(tmp) / step.__name__.strip("_")
            work.mkdir()
            step(work)
            report.steps.append((label, time.perf_counter() - t0))
            progress(f"compiled {label} in {report.steps[-1][1]:.1f} s")
        _count(report)
        report.seconds = time.perf_counter() - start
        _write_marker(folder, report)
    return report


def check_cache_folder() -> Path:
    folder = cache_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as err:
        raise CacheFolderError(
            f"numba's cache folder {folder} cannot be written ({err.strerror or err}); set "
            "NUMBA_CACHE_DIR to a folder you can write, e.g. NUMBA_CACHE_DIR=~/.cache/numba"
        ) from None
    return folder


def kernel_dispatchers() -> dict[str, object]:
    """Every numba kernel hydro has imported so far, by qualified name."""
    from numba.core.registry import CPUDispatcher

    found: dict[str, object] = {}
    for name, module in list(sys.modules.items()):
        if name == "hydro" or name.startswith("hydro."):
            for obj in list(vars(module).values()):
                if isinstance(obj, CPUDispatcher):
                    found[f"{obj.py_func.__module__}.{obj.py_func.__qualname__}"] = obj
    return found


def _count(report: CompileReport) -> None:
    for dispatcher in kernel_dispatchers().values():
        stats = dispatcher.stats  # type: ignore[attr-defined]
        signatures = len(dispatcher.signatures)  # type: ignore[attr-defined]
        report.kernels += signatures > 0
        report.signatures += signatures
        report.compiled += sum(stats.cache_misses.values())
        report.loaded += sum(stats.cache_hits.values())


def _write_marker(folder: Path, report: CompileReport) -> None:
    for old in folder.glob(f"{MARKER_PREFIX}*"):
        with contextlib.suppress(OSError):
            old.unlink()
    text = json.dumps(
        {
            "hydro": __version__,
            "numba": sys.modules["numba"].__version__,
            "python": sys.version.split()[0],
            "kernels": report.kernels,
            "signatures": report.signatures,
            "seconds": round(report.seconds, 1),
            "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
    )
    path = marker(folder)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, path)


_holding = False  # this process holds the compile lock (it is the compile)
_started_here = False  # this process started the background compile (it never waits for it)


def wait_for_background() -> None:
    """Wait for a compile under way in another process before this one loads or compiles a
    kernel (see the module docstring for why); called where the kernel modules are imported.
    Costs a failed open (no compile ever ran) or two flock calls."""
    if _holding or _started_here:
        return
    try:
        import fcntl

        fh = open(cache_folder() / LOCK_NAME, "rb")  # noqa: SIM115 (closed below)
    except (ImportError, OSError):  # no flock (Windows), or no compile ever ran here
        return
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            print(
                "hydro: waiting for the compile of its numba kernels started at its first run "
                "(once per install; `hydro compile` shows its progress)",
                file=sys.stderr,
                flush=True,
            )
            fcntl.flock(fh, fcntl.LOCK_SH)
        except OSError:
            return
        fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def _compile_lock(
    folder: Path, *, wait: bool, waiting: Callable[[str], None] = lambda line: None
) -> Iterator[bool]:
    """An exclusive lock on the cache folder for one compile at a time; yields False when
    ``wait`` is false and another process holds it."""
    try:
        import fcntl
    except ImportError:  # no flock (Windows): numba's renames still keep each file whole
        yield True
        return
    global _holding
    with open(folder / LOCK_NAME, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                yield False
                return
            waiting("another hydro compile is under way: waiting for it")
            fcntl.flock(fh, fcntl.LOCK_EX)
        _holding = True
        try:
            yield True
        finally:
            _holding = False
            fcntl.flock(fh, fcntl.LOCK_UN)


def _compile_drainage(work: Path) -> None:
    """A small synthetic drainage model, a 1-hour design storm, scored as `hydro score` does
    (from its netCDF file), in memory as an ensemble does, and with the other rules."""
    from hydro.api import run_scenario
    from hydro.results import read_netcdf, write_netcdf
    from hydro.scoring import ScoringRules, WaterloggingRules, score, score_file
    from hydro.scoring.surface import read_surface_tables
    from hydro.scoring.tables import display_tables
    from hydro.synth.drainage import write_drainage

    write_drainage(work / "drainage.inp", subcatchments=100)
    scenario = work / "storm.toml"
    scenario.write_text(
        'network = "drainage.inp"\n\n[time]\nrecession = "0h"\n\n[rainfall.design]\n'
        'return_period = 30\nduration = "1h"\nstep = "5min"\npattern = "chicago"\n'
        "peak_position = 0.375\n\n[rainfall.formula]\n"
        'kind = "chinese"\na = 3600.0\nc = 0.76\nb = 14.0\nn = 0.84\nname = "compile"\n',
        encoding="utf-8",
    )
    ds = run_scenario(scenario)
    results = write_netcdf(ds, work / "drainage.nc")
    display_tables(score_file(results))
    display_tables(score(ds))
    node = str(ds["node"].values[0])
    (work / "surface.csv").write_text(
        f"node,volume,depth\n{node},0,0\n{node},100,0.2\n{node},1000,0.6\n", encoding="utf-8"
    )
    other = ScoringRules(waterlogging=WaterloggingRules(rule="trapezoid", ponded_depth="volume"))
    score(read_netcdf(results), rules=other, surface=read_surface_tables(work / "surface.csv"))


# The share transport is compiled once per number of traced sources (its loops over the shares
# unroll for that number): 1 to this many are compiled ahead. The corpus's EPANET models have 1
# to 4 reservoirs, the Xuancheng model 3 sources; a run tracing more compiles once (~5 s).
TRACED_SOURCES = 4


def _compile_supply(work: Path) -> None:
    """A small synthetic supply model for 3 hours with its source shares, scored from its
    netCDF file and in memory; its shares of 1 to TRACED_SOURCES sources; the model run alone
    (`hydro run`) and scored with the layout inferred from its results, as a model without
    assets is; a capacity study of one short case."""
    import shutil

    from hydro.api import run, run_scenario
    from hydro.results import write_netcdf
    from hydro.scoring import score, score_file
    from hydro.scoring.tables import display_tables
    from hydro.supply.capacity_study import capacity_study, study_table
    from hydro.supply.epanet import TimeParameter
    from hydro.supply.scenario import load_scenario
    from hydro.supply.tracing import source_shares
    from hydro.synth.supply import write_supply

    write_supply(work / "supply.inp", junctions=240)
    scenario = work / "day.toml"
    scenario.write_text(
        'network = "supply.inp"\n\n[time]\nduration = "3h"\nreport_step = "1h"\n\n'
        "[answers]\nservice_head = 28\n",
        encoding="utf-8",
    )
    ds = run_scenario(scenario)
    display_tables(score_file(write_netcdf(ds, work / "supply.nc")))
    display_tables(score(ds))

    storage = [
        str(node)
        for kind in ("reservoir", "tank")
        for node, k in zip(ds["node"].values, ds["node_type"].values, strict=True)
        if str(k) == kind
    ]
    three_hours = [lambda project: project.set_time(TimeParameter.DURATION, 3 * 3600)]
    for n in range(1, TRACED_SOURCES + 1):
        source_shares(work / "supply.inp", storage[:n], edits=three_hours, hydraulics=False)

    alone = work / "alone"  # the INP without its assets sidecar
    alone.mkdir()
    shutil.copy(work / "supply.inp", alone / "model.inp")
    display_tables(score_file(write_netcdf(run(alone / "model.inp"), alone / "model.nc")))

    study = capacity_study(
        load_scenario(scenario), diameters=[0.8], binding=False, warmup=3600, window=3600, workers=1
    )
    study_table(study)


def _compile_flood(work: Path) -> None:
    """Flood cases of a few cells: one with every forcing (rain, infiltration with a capacity, an
    inflow, open and level boundaries, buildings), one with rain only, one with infiltration
    without a capacity (each takes other argument types in some kernels); then a coupled one."""
    import numpy as np

    from hydro.flood import run_case
    from hydro.flood.grid import Grid, write_grid

    ny, nx, dx = 6, 8, 10.0
    dem = Grid(np.add.outer(np.zeros(ny), np.linspace(2.0, 1.0, nx)), 0.0, ny * dx, dx, dx)
    buildings = np.zeros((ny, nx))
    buildings[2, 3] = 1
    write_grid(dem, work / "dem.asc")
    write_grid(Grid(buildings, 0.0, ny * dx, dx, dx), work / "buildings.asc")
    surface = (
        '[surface]\ndem = "dem.asc"\nmanning = 0.03\nduration = "10min"\n'
        'output_every = "5min"\n[rain]\nseries = [[0, "50 mm/h"], [300, "0 mm/h"]]\n'
        '[boundaries.east]\ntype = "open"\nslope = 0.01\n'
    )
    cases = {
        "full": surface + '[infiltration]\nrate = "5 mm/h"\ncapacity = "10 mm"\n'
        '[[inflows]]\nname = "pipe"\npoint = [15.0, 35.0]\nhydrograph = [[0, 0.1], [600, 0.0]]\n'
        '[boundaries.west]\ntype = "level"\nlevel = 2.1\n[buildings]\nmask = "buildings.asc"\n',
        "rain": surface,
        "soak": surface + '[infiltration]\nrate = "5 mm/h"\n',
    }
    for name, text in cases.items():
        (work / f"{name}.toml").write_text(text, encoding="utf-8")
        run_case(work / f"{name}.toml", output=work / f"{name}.nc")
    _compile_coupled(work / "coupled")


def _compile_coupled(work: Path) -> None:
    """A small synthetic drainage model coupled with its surface at 200 m cells (1D-2D), a
    10-minute design storm falling on its subcatchments, then on the surface."""
    from hydro.flood import run_case
    from hydro.flood.grid import write_grid
    from hydro.flood.xuancheng import xuancheng_surface
    from hydro.synth.drainage import write_drainage

    work.mkdir()
    write_drainage(work / "drainage.inp", subcatchments=100)
    dem, buildings = xuancheng_surface(work / "drainage.inp", cell=200.0)
    write_grid(dem, work / "dem.tif")
    write_grid(buildings, work / "buildings.tif")
    (work / "storm.toml").write_text(
        'network = "drainage.inp"\n\n[time]\nrecession = "0h"\n\n[rainfall.design]\n'
        'return_period = 30\nduration = "10min"\nstep = "5min"\npattern = "chicago"\n'
        "peak_position = 0.375\n\n[rainfall.formula]\n"
        'kind = "chinese"\na = 3600.0\nc = 0.76\nb = 14.0\nn = 0.84\nname = "compile"\n',
        encoding="utf-8",
    )
    case = (
        '[surface]\ndem = "dem.tif"\nmanning = 0.03\nduration = "10min"\noutput_every = "5min"\n'
        '[buildings]\nmask = "buildings.tif"\nheight = "10 m"\n[drainage]\nscenario = "storm.toml"\n'
    )
    for rain in ("subcatchments", "surface"):
        (work / f"{rain}.toml").write_text(f'{case}rain = "{rain}"\n', encoding="utf-8")
        run_case(work / f"{rain}.toml", output=work / f"{rain}.nc")


# What `hydro compile` runs, in order: the drainage score first (the one a user waits for).
STEPS: list[tuple[str, Callable[[Path], None]]] = [
    ("the drainage scoring kernels (a small synthetic model)", _compile_drainage),
    ("the supply kernels and source shares (a small synthetic model)", _compile_supply),
    ("the surface flooding kernels (flood cases of 48 cells, a coupled one)", _compile_flood),
]


# ------------------------------------------------------------------------------------------------
# The first run: compile in the background while the engine runs


def start_background() -> subprocess.Popen | None:
    """Start ``hydro compile`` as a detached, low-priority process when the kernels are not
    compiled for this install; its output goes to a log in the cache folder. Nothing when
    HYDRO_NO_PRECOMPILE is set, when the cache folder cannot be written, or when a compile is
    already under way. Returns the process (reaped by a daemon thread: never a zombie)."""
    if os.environ.get(OPT_OUT, "").strip() not in ("", "0"):
        return None
    try:
        folder = cache_folder()
        if is_compiled(folder) or not _writable(folder):
            return None
        folder.mkdir(parents=True, exist_ok=True)
        with _compile_lock(folder, wait=False) as free:
            if not free:
                return None
        log = open(folder / LOG_NAME, "w", encoding="utf-8")  # noqa: SIM115 (the child's)
    except OSError:
        return None
    with log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hydro.cli", "compile", "--background"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the terminal stops the run, not the compile
            env={**os.environ, OPT_OUT: "1", "OMP_NUM_THREADS": "1"},
            close_fds=True,
        )
    threading.Thread(target=proc.wait, name="hydro-compile-reaper", daemon=True).start()
    global _started_here
    _started_here = True
    return proc


def run_background() -> int:
    """The body of ``hydro compile --background``: lowest priority, one compile at a time, a
    time limit; its progress goes to the log."""
    with contextlib.suppress(OSError, AttributeError):
        os.nice(19)
    if hasattr(signal, "SIGALRM"):

        def stop(signum, frame):
            raise TimeoutError(f"stopped after {BACKGROUND_LIMIT} s")

        signal.signal(signal.SIGALRM, stop)
        signal.alarm(BACKGROUND_LIMIT)
    folder = check_cache_folder()
    with _compile_lock(folder, wait=False) as free:
        if not free:
            print("another hydro compile is under way: nothing to do", flush=True)
            return 0
    if is_compiled(folder):
        return 0
    report = compile_kernels(lambda line: print(line, flush=True))
    print(summary(report), flush=True)
    return 0


def summary(report: CompileReport) -> str:
    return (
        f"{report.kernels} kernels, {report.signatures} signatures ({report.compiled} compiled "
        f"now, {report.loaded} already cached) in {report.seconds:.1f} s; numba cache: "
        f"{report.folder}"
    )
