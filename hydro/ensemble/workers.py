"""Many scenarios at once: one engine per process, on a local Dask cluster or a remote one.

Engines are not re-entrant (SWMM keeps global state) and swmm-toolkit's OpenMP oversubscribes a
core when runs share it, so every worker is its own process (started with spawn), runs one engine
at a time, and has OMP_NUM_THREADS=1. Workers are started once per call and take jobs until all
are done.

Security: the local cluster listens on 127.0.0.1 only, over TLS with credentials made for the
call and kept in memory (distributed's ``Security.temporary()``), so another process on the
machine can neither submit work to it nor read what travels. A remote scheduler is used only when
the caller names it (``address=``, the command line's ``--scheduler`` or the ``HYDRO_SCHEDULER``
environment variable; never a scenario or ensemble file), with the user's own Dask security
settings (``distributed.comm.tls.*`` in the Dask configuration) unless ``security=`` is given.

Worker processes write their temporary files into a private folder made for the call and removed
when it ends, however it ends (a worker killed mid-run cannot leave ``hydro-swmm-*`` folders
behind); Dask's workers exit by themselves when the process that started them goes away.

A job is any picklable callable, for instance ``functools.partial(hydro.supply.run, "net.inp",
scenario="base")``; lambdas do not survive the trip to another process.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import xarray as xr

from hydro.errors import HydroError

Job = Callable[[], Any]
Progress = Callable[[int, int], None]

SCHEDULER_ENV = "HYDRO_SCHEDULER"
MAX_WORKERS = 256

# Environment of every worker process: one OpenMP thread per engine.
WORKER_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


@dataclass
class Outcome:
    """What became of one job: its ``value``, or the ``error`` of its last attempt."""

    index: int
    value: Any = None
    error: BaseException | None = None
    attempts: int = 1
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def run_ensemble(
    jobs: Sequence[Job],
    *,
    workers: int | None = None,
    address: str | None = None,
    security=None,
    progress: Progress | None = None,
) -> xr.Dataset:
    """Run every job and join the results (Datasets) along ``scenario``.

    ``workers=1`` runs the jobs one after the other in this process (no Dask); otherwise a local
    Dask cluster of ``workers`` processes (default: the number of CPUs) is started for the call,
    or the cluster at ``address`` (``tls://host:8786``; default: ``$HYDRO_SCHEDULER``) is used.
    ``progress(done, total)`` is called as jobs finish. The first job to fail raises its error.
    """
    return combine(
        map_jobs(jobs, workers=workers, address=address, security=security, progress=progress)
    )


def map_jobs(
    jobs: Sequence[Job],
    *,
    workers: int | None = None,
    address: str | None = None,
    security=None,
    progress: Progress | None = None,
) -> list:
    """Run every job (as :func:`run_ensemble` does) and return the results in job order; the
    first job to fail raises its error and cancels the rest."""
    results: list = [None] * len(jobs)
    for outcome in each_job(
        jobs, workers=workers, address=address, security=security, progress=progress
    ):
        if outcome.error is not None:
            raise outcome.error
        results[outcome.index] = outcome.value
    return results


def each_job(
    jobs: Sequence[Job],
    *,
    workers: int | None = None,
    address: str | None = None,
    security=None,
    progress: Progress | None = None,
    retry: Callable[[BaseException], bool] = lambda err: False,
    priorities: Sequence[float] | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> Generator[Outcome, None, None]:
    """Run every job and yield an :class:`Outcome` per job as each finishes.

    A job whose error satisfies ``retry`` is run once more before its outcome is yielded.
    ``priorities`` (higher first) order the queue, e.g. longest jobs first so that the last
    ones to finish are short. ``meanwhile`` is called on this thread once the jobs are queued
    on a cluster (not when they run here), e.g. to import what handling their results will
    need while the workers are busy. Closing the generator early (or an interrupt) stops the
    workers.
    """
    if not jobs:
        raise HydroError("an ensemble needs at least one scenario")
    check_workers(workers)
    address = address or os.environ.get(SCHEDULER_ENV) or None
    if workers == 1 and address is None:
        yield from _in_process(jobs, progress, retry, priorities)
        return
    with dask_client(workers=workers, address=address, security=security) as client:
        yield from _on_dask(client, jobs, progress, retry, priorities, meanwhile)


def check_workers(workers: int | None) -> None:
    if workers is not None and not (1 <= workers <= MAX_WORKERS):
        raise HydroError(f"workers must be at least 1 and at most {MAX_WORKERS} (got {workers})")


def _in_process(jobs, progress, retry, priorities) -> Iterator[Outcome]:
    order = _order(len(jobs), priorities)
    for done, k in enumerate(order, start=1):
        outcome = Outcome(k)
        while True:
            start = time.perf_counter()
            try:
                outcome.value, outcome.error = jobs[k](), None
            except Exception as err:  # a job's failure is its outcome, not the caller's
                outcome.error = err
            outcome.seconds = time.perf_counter() - start
            if outcome.ok or outcome.attempts > 1 or not retry(outcome.error):
                break
            outcome.attempts += 1
        if progress is not None:
            progress(done, len(jobs))
        yield outcome


def _order(n: int, priorities: Sequence[float] | None) -> list[int]:
    if priorities is None:
        return list(range(n))
    return sorted(range(n), key=lambda k: -priorities[k])


def _on_dask(client, jobs, progress, retry, priorities, meanwhile=None) -> Iterator[Outcome]:
    from distributed import as_completed

    outcomes = {k: Outcome(k) for k in range(len(jobs))}
    started: dict[str, float] = {}

    def submit(k: int):
        key = f"hydro-job-{k}-{outcomes[k].attempts}-{os.getpid()}"
        started[key] = time.perf_counter()
        priority = 0 if priorities is None else priorities[k]
        return client.submit(jobs[k], key=key, pure=False, priority=priority, retries=0)

    futures = {}
    for k in _order(len(jobs), priorities):
        futures[submit(k)] = k
    # While the workers run, load what the results will need here: xarray imports dask.array
    # to combine Datasets once Dask is loaded (0.7 s, else after the last job).
    import dask.array  # noqa: F401

    if meanwhile is not None:
        meanwhile()
    pending = as_completed(list(futures))
    done = 0
    try:
        for future in pending:
            k = futures.pop(future)
            outcome = outcomes[k]
            outcome.seconds = time.perf_counter() - started.pop(future.key, time.perf_counter())
            try:
                outcome.value, outcome.error = future.result(), None
            except Exception as err:
                outcome.error = err
            future.release()
            if not outcome.ok and outcome.attempts == 1 and retry(outcome.error):
                outcome.attempts += 1
                again = submit(k)
                futures[again] = k
                pending.add(again)
                continue
            done += 1
            if progress is not None:
                progress(done, len(jobs))
            yield outcome
    finally:
        if futures:
            client.cancel(list(futures))


@contextlib.contextmanager
def dask_client(
    *, workers: int | None = None, address: str | None = None, security=None
) -> Iterator:
    """A Dask client: to the cluster at ``address`` (with ``security``, default: the user's Dask
    configuration), or to a local TLS cluster on 127.0.0.1 made for the block."""
    import dask

    # A Client makes itself dask's default scheduler for the whole process, and one that fails
    # to start may not undo it: keep the caller's setting, however the block ends.
    with dask.config.set({"scheduler": dask.config.get("scheduler", None)}):
        if address is not None:
            with _remote_client(address, security) as client:
                yield client
        else:
            with _local_client(workers, security) as client:
                yield client


@contextlib.contextmanager
def _local_client(workers: int | None, security) -> Iterator:
    import dask
    from distributed import Client, LocalCluster, Security

    n = workers or os.cpu_count() or 1
    security = security or Security.temporary()
    saved = dict(os.environ)  # the nanny sets the workers' environment in this process too
    private = tempfile.mkdtemp(prefix="hydro-ensemble-")
    try:
        with (
            _restored_environ(saved),
            dask.config.set(
                {
                    "distributed.nanny.pre-spawn-environ": {**WORKER_ENV, "TMPDIR": private},
                    "distributed.worker.multiprocessing-method": "spawn",
                    "distributed.logging.distributed": "error",
                    # No HTTP endpoints (dashboard, metrics, health) on any process.
                    "distributed.scheduler.http.routes": [],
                    "distributed.worker.http.routes": [],
                    # Nor the diagnostics only a dashboard shows: a worker's stack sampled every
                    # 10 ms, system counters every 0.5 s, the event loops timed every 20 ms
                    # (16 drainage members on 2 workers: 1.8 s sooner, 1.7 s less CPU here).
                    "distributed.worker.profile.enabled": False,
                    "distributed.admin.system-monitor.interval": "5s",
                    "distributed.admin.tick.interval": "1s",
                }
            ),
        ):
            try:
                with _workers_ignore_sigint():
                    cluster = LocalCluster(
                        n_workers=n,
                        threads_per_worker=1,
                        processes=True,
                        host="127.0.0.1",
                        protocol="tls://",
                        security=security,
                        dashboard_address=None,
                        # its (empty) HTTP server on a free loopback port, not 8787
                        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                        silence_logs=50,
                        local_directory=private,
                    )
            except Exception as err:  # e.g. no process can be spawned: one line, not Dask's log
                raise HydroError(f"cannot start {n} local worker processes: {err}") from None
            with cluster, Client(cluster, security=security) as client:
                from hydro.ensemble._plugin import QuickExit

                client.register_plugin(QuickExit(), name="hydro-quick-exit")
                yield client
    finally:
        shutil.rmtree(private, ignore_errors=True)


@contextlib.contextmanager
def _workers_ignore_sigint() -> Iterator[None]:
    """Start worker processes with SIGINT ignored (a disposition they inherit): Ctrl-C in a
    terminal reaches the whole process group, and it is this process that stops them, not a
    KeyboardInterrupt traceback in each worker."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, saved)


@contextlib.contextmanager
def _remote_client(address: str, security) -> Iterator:
    from distributed import Client, Security

    # Made in two steps so that a client that fails half-way can be closed here: left to the
    # garbage collector, it would try to close at exit and print tracebacks for a minute.
    client = Client.__new__(Client)
    try:
        security = security or Security()  # distributed.comm.tls.* from the Dask configuration
        client.__init__(address, timeout="10s", security=security)  # type: ignore[misc]
    except Exception as err:  # a bad address or certificate shows in many forms: one line
        with contextlib.suppress(Exception):
            client.close(timeout=1)
        reason = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
        raise HydroError(f"cannot use the Dask scheduler at {address!r}: {reason}") from None
    with client:
        yield client


@contextlib.contextmanager
def _restored_environ(saved: dict[str, str]) -> Iterator[None]:
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def combine(results: Sequence[xr.Dataset]) -> xr.Dataset:
    """Join single-scenario Datasets along ``scenario``; per-member provenance as coordinates."""
    names = [str(v) for ds in results for v in ds["scenario"].values]
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise HydroError(
            f"scenario names must be unique in an ensemble: {', '.join(dupes)} "
            "appear more than once"
        )
    combined = xr.concat(
        results,
        dim="scenario",
        join="outer",
        combine_attrs="drop_conflicts",
        data_vars="all",
        coords="different",
        compat="equals",
    )
    # What differs between members (provenance, convergence, engine options) becomes a
    # coordinate along `scenario` instead of being dropped.
    for key in sorted({k for ds in results for k in ds.attrs}):
        values = [ds.attrs.get(key) for ds in results]
        if key == "created" or len({str(v) for v in values}) == 1:
            continue
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        column = values if numeric else ["" if v is None else str(v) for v in values]
        name = key if key not in combined.variables else f"{key}_attr"
        combined = combined.assign_coords({name: ("scenario", column)})
        combined.attrs.pop(key, None)
    return combined
