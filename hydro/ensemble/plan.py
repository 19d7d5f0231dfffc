"""The city's standing study: many scenario files at once, each written in full, summarised together.

An ensemble file lists supply and drainage scenario files (globs, relative to it)::

    # Question: every bundled Xuancheng scenario, with answers and scores.
    supply = ["../supply/*.toml"]
    drainage = ["../drainage/*.toml"]
    workers = 2

:func:`run_plan` runs every scenario (a *member*) on worker processes started once for the whole
ensemble. Each worker writes its member's full result itself, atomically, to
``<output>/supply/<name>.nc`` or ``<output>/drainage/<name>.nc`` -- with the member's summary (the
supply answers per zone, or the drainage scores per point and station) in the file's ``summary``
group -- and sends back only the summary. The summaries are joined into ``supply_answers.nc`` and
``drainage_scores.nc`` (plus CSV tables). Full results never travel back, so peak memory stays that
of one run per worker.

Nothing is lost to one bad member: a member whose scenario is wrong (a :class:`HydroError`) is
recorded with its file and the error in one line; a member whose worker fails otherwise (a crash,
an unexpected error) is run once more first. The others complete, the summaries cover what
finished, ``failed.csv`` lists what did not, and :attr:`EnsembleRun.failed` tells the caller (the
command exits non-zero). Running the same ensemble again resumes: a member whose result file holds
the same inputs digest (scenario and included files, network and its sidecars, data files, hydro
version) is not run again.

Safety: member files are named after the scenario's name, which must be a plain file name; member
files must lie inside the ensemble file's bundle (see :mod:`hydro.paths`), and so must everything
they name; a scheduler address is never read from an ensemble file (see
:mod:`hydro.ensemble.workers`).
"""

from __future__ import annotations

import contextlib
import csv
import functools
import glob
import hashlib
import io
import json
import signal
import threading
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xarray as xr
from pydantic import Field

from hydro import __version__
from hydro.ensemble.workers import MAX_WORKERS, Progress, combine, each_job
from hydro.errors import HydroError, ScenarioError
from hydro.paths import (
    check_file_name,
    check_inside,
    check_output_folder,
    inside,
    read_roots,
    write_error,
)
from hydro.results import atomic_path, file_sha256, read_netcdf, write_netcdf
from hydro.scenario.loader import read_scenario, read_toml, validate
from hydro.scenario.schema import Strict, parse_duration

KINDS = ("supply", "drainage")
SUMMARIES = {"supply": "supply_answers.nc", "drainage": "drainage_scores.nc"}
TABLES = "drainage_tables"
FAILED = "failed.csv"
DIGEST_ATTR = "hydro_inputs_sha256"
SUMMARY_GROUP = "summary"

# Dimensions of per-element results: what stays in the per-scenario files, not in the summary.
_ELEMENT_DIMS = {"node", "link", "subcatchment", "gauge"}


class EnsembleSpec(Strict):
    supply: list[str] = []
    drainage: list[str] = []
    workers: int | None = Field(default=None, ge=1, le=MAX_WORKERS)


@dataclass(frozen=True)
class Member:
    """One scenario of an ensemble: its kind, file and name (the name of its result file)."""

    kind: str
    path: Path
    name: str

    @property
    def file_name(self) -> str:
        return f"{self.name}.nc"


@dataclass(frozen=True)
class Failure:
    """A member that did not finish: its file and what went wrong, in one line."""

    kind: str
    path: Path
    name: str
    error: str
    attempts: int = 1

    def line(self) -> str:
        """'<scenario file>: <error>' (errors that name the file already are left as they are)."""
        return (
            self.error if self.error.startswith(f"{self.path}:") else f"{self.path}: {self.error}"
        )


@dataclass(frozen=True)
class EnsemblePlan:
    """An ensemble file read: its members (in file order) and those refused before running."""

    path: Path
    members: list[Member]
    refused: list[Failure]
    workers: int | None
    roots: tuple[Path, ...]

    @property
    def supply(self) -> list[Path]:
        return [m.path for m in self.members if m.kind == "supply"] + [
            f.path for f in self.refused if f.kind == "supply"
        ]

    @property
    def drainage(self) -> list[Path]:
        return [m.path for m in self.members if m.kind == "drainage"] + [
            f.path for f in self.refused if f.kind == "drainage"
        ]

    @property
    def size(self) -> int:
        return len(self.members) + len(self.refused)


@dataclass
class EnsembleRun:
    """What :func:`run_plan` did: the joined summaries, and which members ran, were reused from
    an earlier run, or failed."""

    output: Path
    summaries: dict[str, xr.Dataset] = field(default_factory=dict)
    finished: list[Member] = field(default_factory=list)
    reused: list[Member] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)


class EnsembleInterrupted(KeyboardInterrupt):
    """An ensemble stopped by SIGINT or SIGTERM, after cleaning up; ``str()`` says what was
    kept."""


# ------------------------------------------------------------------------------------------------
# Reading an ensemble file


def load_plan(path: str | Path, *, allow: Iterable[str | Path] = ()) -> EnsemblePlan:
    """Read an ensemble file and expand its globs; every pattern must match something inside
    the ensemble's bundle (or a folder of ``allow``).

    A member whose file cannot be read, whose name cannot be a file name, or whose name another
    member of its kind already has, is *refused*: listed in :attr:`EnsemblePlan.refused` (and
    reported as failed by :func:`run_plan`) while the others run.
    """
    path = Path(path)
    roots = read_roots(path, allow)
    table = read_toml(path, allow=allow)
    if "address" in table:
        raise ScenarioError(
            f"{path}: address: a Dask scheduler is never taken from an ensemble file; pass "
            "--scheduler on the command line or set HYDRO_SCHEDULER"
        )
    spec = validate(EnsembleSpec, table, path)
    members: list[Member] = []
    refused: list[Failure] = []
    for kind in KINDS:
        taken: dict[str, Path] = {}
        for member_path in _expand(path, kind, getattr(spec, kind), roots):
            try:
                name = _member_name(member_path, roots)
                if name.casefold() in taken:
                    raise ScenarioError(
                        f"name {name!r} is also the name of {taken[name.casefold()]}; "
                        "every member needs its own name (its result file)"
                    )
            except HydroError as err:
                refused.append(Failure(kind, member_path, member_path.stem, _one_line(err)))
                continue
            taken[name.casefold()] = member_path
            members.append(Member(kind, member_path, name))
    if not members and not refused:
        raise ScenarioError(f"{path}: lists no supply or drainage scenario files")
    return EnsemblePlan(path, members, refused, spec.workers, roots)


def _expand(path: Path, kind: str, patterns: list[str], roots: tuple[Path, ...]) -> list[Path]:
    files: list[Path] = []
    for pattern in patterns:
        matches = sorted(Path(p) for p in glob.glob(str(path.parent / pattern)))
        if not matches:
            raise ScenarioError(f"{path}: {kind}: {pattern!r} matches no file")
        for match in matches:
            if match.suffix == ".toml" and match.resolve() != path.resolve():
                check_inside(match, roots, source=path, key=kind, error=ScenarioError)
                files.append(match.resolve())
    return list(dict.fromkeys(files))


def _member_name(path: Path, roots: tuple[Path, ...]) -> str:
    table = read_scenario(path, allow=roots).table
    name = table.get("name") or path.stem
    if not isinstance(name, str):
        raise ScenarioError(f"{path}: name: expected a text (got {type(name).__name__})")
    return check_file_name(name, source=path, key="name")


# ------------------------------------------------------------------------------------------------
# Running it


def run_plan(
    plan: EnsemblePlan | str | Path,
    output: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    security=None,
    allow: Iterable[str | Path] = (),
    resume: bool = True,
    progress: Progress | None = None,
) -> EnsembleRun:
    """Run every member of the ensemble; see the module docstring for what is written where.

    ``workers``: processes (default: the file's, else one per CPU; 1 runs in this process).
    ``scheduler``/``security``: a remote Dask scheduler and its TLS settings (default:
    ``$HYDRO_SCHEDULER`` and the Dask configuration). ``resume=False`` reruns finished members.
    ``progress(done, total)`` counts members, reused ones first.

    Interrupted (SIGINT, or SIGTERM under the command line), it stops the workers, removes their
    temporary files and any half-written result, keeps every finished one and raises
    :class:`EnsembleInterrupted`.
    """
    plan = plan if isinstance(plan, EnsemblePlan) else load_plan(plan, allow=allow)
    output = Path(output)
    check_output_folder(output, inputs=[plan.path], what="folder for the ensemble's results")
    run = EnsembleRun(output, failed=list(plan.refused))
    total = plan.size
    digests = {m: inputs_digest(m, plan.roots) for m in plan.members}
    summaries: dict[Member, xr.Dataset] = {}
    todo: list[Member] = []
    for member in plan.members:
        earlier = _finished_summary(output / member.kind / member.file_name, digests[member])
        if resume and earlier is not None:
            summaries[member] = earlier
            run.reused.append(member)
        else:
            todo.append(member)
    done_before = len(run.reused) + len(plan.refused)
    if progress is not None and done_before:
        progress(done_before, total)
    if todo:
        jobs = [
            functools.partial(_member_job, m, output / m.kind / m.file_name, digests[m], plan.roots)
            for m in todo
        ]
        outcomes = each_job(
            jobs,
            workers=workers if workers is not None else plan.workers,
            address=scheduler,
            security=security,
            retry=_worth_retrying,
            priorities=[_estimated_seconds(m, plan.roots) for m in todo],
            meanwhile=_load_summary_writers if any(m.kind == "drainage" for m in todo) else None,
            progress=None
            if progress is None
            else (lambda done, _n: progress(done_before + done, total)),
        )
        with _interruptible(run, todo, output, outcomes), contextlib.closing(outcomes):
            for outcome in outcomes:
                member = todo[outcome.index]
                if outcome.error is None:
                    summaries[member] = outcome.value
                    run.finished.append(member)
                else:
                    run.failed.append(
                        Failure(
                            member.kind,
                            member.path,
                            member.name,
                            _one_line(outcome.error),
                            outcome.attempts,
                        )
                    )
    _write_summaries(run, plan, summaries, output)
    return run


def _load_summary_writers() -> None:
    """The scores' tables are written with the drainage summaries: imported while the workers
    run (0.9 s after the last member otherwise; the workers score, not this process)."""
    import hydro.scoring  # noqa: F401


def _make_folder(folder: Path) -> None:
    """Made when the first result is written (by a worker), so that an ensemble that cannot
    start (a bad scheduler address) leaves nothing behind."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise write_error(folder, err) from None


def _worth_retrying(err: BaseException) -> bool:
    """A scenario's own mistake fails the same way twice; anything else may not."""
    return not isinstance(err, HydroError)


def _one_line(err: BaseException) -> str:
    text = str(err).strip() if isinstance(err, HydroError) else f"{type(err).__name__}: {err}"
    first = text.splitlines()[0] if text else type(err).__name__
    return first if len(first) <= 400 else first[:400] + "..."


def _estimated_seconds(member: Member, roots: tuple[Path, ...]) -> float:
    """Simulated time of a member, to start the longest first (the last to finish are short)."""
    try:
        table = read_toml(member.path, allow=roots)
    except HydroError:
        return 0.0
    time = table.get("time", {}) if isinstance(table.get("time"), dict) else {}
    rain = table.get("rainfall", {}) if isinstance(table.get("rainfall"), dict) else {}
    try:
        if "duration" in time:
            return float(parse_duration(time["duration"]))
        if member.kind == "supply":
            return 72 * 3600.0
        design = rain.get("design") if isinstance(rain.get("design"), dict) else None
        storm = parse_duration(design.get("duration", "2h")) if design else 24 * 3600
        return float(storm + parse_duration(time.get("recession", "6h")))
    except ValueError:
        return 0.0


# ------------------------------------------------------------------------------------------------
# One member, on a worker


def _member_job(member: Member, target: Path, digest: str, roots: tuple[Path, ...]) -> xr.Dataset:
    """Run one member on a worker: write its full result and summary, return the summary."""
    if member.kind == "supply":
        from hydro.supply.scenario import load_scenario, run_scenario

        loaded = load_scenario(member.path, allow=roots)
        inputs = [*(loaded.file.files if loaded.file else ()), loaded.network.path]
        ds = run_scenario(loaded)
        summary = ds[[v for v in ds.data_vars if not set(ds[v].dims) & _ELEMENT_DIMS]]
    else:
        from hydro.drainage.scenario import load_scenario as load_drainage
        from hydro.drainage.scenario import read_files
        from hydro.drainage.scenario import run_scenario as run_drainage
        from hydro.scoring import score

        scenario = load_drainage(member.path, allow=roots)
        inputs = [*(scenario.file.files if scenario.file else ()), *read_files(scenario)]
        ds = run_drainage(scenario)
        summary = score(ds)
    if str(ds["scenario"].values[0]) != member.name:
        raise HydroError(f"{member.path}: ran as {ds['scenario'].values[0]!r}, not {member.name!r}")
    ds.attrs[DIGEST_ATTR] = digest
    _make_folder(target.parent)
    write_netcdf(ds, target, inputs=inputs, groups={SUMMARY_GROUP: summary})
    return summary.load()


def _finished_summary(path: Path, digest: str) -> xr.Dataset | None:
    """The summary stored in a member's result file, if that file was made from the same
    inputs; None when it is missing, unreadable or stale."""
    if not path.is_file():
        return None
    try:
        with xr.open_dataset(path, engine="netcdf4") as full:
            if full.attrs.get(DIGEST_ATTR) != digest:
                return None
        return read_netcdf(path, group=SUMMARY_GROUP)
    except (HydroError, OSError, ValueError, KeyError, RuntimeError):
        return None


# ------------------------------------------------------------------------------------------------
# What a member's result depends on


def inputs_digest(member: Member, roots: tuple[Path, ...]) -> str:
    """SHA-256 of what a member's result depends on: hydro's version, the scenario's merged
    table (its included fragments), and every file it names inside ``roots`` (network, rain
    series, hotstart) with the network's sidecars (``<model>_*`` files and ``rainfall.toml``
    beside it)."""
    file = read_scenario(member.path, allow=roots)
    digest = hashlib.sha256()
    digest.update(f"hydro {__version__}\n{member.kind}\n{member.name}\n".encode())
    digest.update(json.dumps(file.table, sort_keys=True, default=str).encode())
    for path in _named_files(file, roots):
        digest.update(f"\n{path.name} {file_sha256(path)}".encode())
    return digest.hexdigest()


def _named_files(file, roots: tuple[Path, ...]) -> list[Path]:
    found: set[Path] = set()
    folder = file.path.parent

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and 0 < len(value) < 1024 and "\n" not in value:
            candidate = folder / value
            with contextlib.suppress(OSError, ValueError):
                if candidate.is_file() and inside(candidate, roots):
                    found.add(candidate.resolve())

    walk(file.table)
    for model in [p for p in found if p.suffix.lower() == ".inp"]:
        for sidecar in model.parent.iterdir():
            if sidecar.is_file() and (
                sidecar.name.startswith(f"{model.stem}_") or sidecar.name == "rainfall.toml"
            ):
                found.add(sidecar.resolve())
    return sorted(found)


# ------------------------------------------------------------------------------------------------
# Summaries and the list of failures


def _write_summaries(
    run: EnsembleRun, plan: EnsemblePlan, summaries: dict[Member, xr.Dataset], output: Path
) -> None:
    """Join the summaries of every finished member (file order); list the failures. Summaries
    of an earlier run that no member of this one has are replaced or removed, never mixed."""
    _make_folder(output)
    for kind in KINDS:
        parts = [summaries[m] for m in plan.members if m.kind == kind and m in summaries]
        target = output / SUMMARIES[kind]
        if not parts:
            target.unlink(missing_ok=True)
            continue
        joined = combine(parts)
        failed = [f.line() for f in run.failed if f.kind == kind]
        if failed:
            joined.attrs["failed_members"] = "\n".join(failed)
        write_netcdf(joined, target)
        run.summaries[kind] = joined
        if kind == "drainage":
            from hydro.scoring import write_tables

            write_tables(joined, output / TABLES)
    _write_failures(run.failed, output / FAILED)


def _write_failures(failed: list[Failure], path: Path) -> None:
    if not failed:
        path.unlink(missing_ok=True)
        return
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["kind", "scenario_file", "name", "attempts", "error"])
    for f in failed:
        writer.writerow([f.kind, str(f.path), f.name, f.attempts, f.error])
    with atomic_path(path) as tmp:
        tmp.write_text(text.getvalue(), encoding="utf-8")


# ------------------------------------------------------------------------------------------------
# Interrupts


@contextlib.contextmanager
def _interruptible(
    run: EnsembleRun, todo: list[Member], output: Path, outcomes: Generator
) -> Iterator[None]:
    """On SIGINT/SIGTERM (a KeyboardInterrupt here): stop the workers, remove half-written
    member files, keep the finished ones, and raise EnsembleInterrupted saying so."""
    try:
        yield
    except KeyboardInterrupt as err:
        with _ignoring_signals():
            with contextlib.suppress(Exception):
                outcomes.close()  # the workers stop (and their temporary folder goes) here
            for member in todo:
                folder = output / member.kind
                for part in folder.glob(f".{glob.escape(member.file_name)}.*.part"):
                    part.unlink(missing_ok=True)
        kept = len(run.finished) + len(run.reused)
        raise EnsembleInterrupted(
            f"{kept} finished result(s) kept in {output}; run the same command again to "
            "finish the rest"
        ) from err


@contextlib.contextmanager
def _ignoring_signals() -> Iterator[None]:
    """Hold off a second Ctrl-C while cleaning up (only the main thread may set handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)
