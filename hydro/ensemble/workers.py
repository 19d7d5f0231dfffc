"""Many scenarios at once: one engine per process, on a local Dask cluster or a remote one.

Engines are not re-entrant (SWMM keeps global state) and swmm-toolkit's OpenMP oversubscribes a
core when runs share it, so every worker is its own process (started with spawn), runs one engine
at a time, and has OMP_NUM_THREADS=1. Results come back as Datasets and are joined along the
``scenario`` dimension in the order the jobs were given.

A job is any picklable callable returning a Dataset with a ``scenario`` dimension of size 1, for
instance ``functools.partial(hydro.supply.run, "net.inp", scenario="base")``; lambdas do not
survive the trip to another process.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence

import xarray as xr

from hydro.errors import HydroError

Job = Callable[[], xr.Dataset]
Progress = Callable[[int, int], None]

# Environment of every worker process: one OpenMP thread per engine.
WORKER_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def run_ensemble(
    jobs: Sequence[Job],
    *,
    workers: int | None = None,
    address: str | None = None,
    progress: Progress | None = None,
) -> xr.Dataset:
    """Run every job and join the results along ``scenario``.

    ``workers=1`` runs the jobs one after the other in this process (no Dask); otherwise a local
    Dask cluster of ``workers`` processes (default: the number of CPUs) is started for the call,
    or the cluster at ``address`` (``tcp://host:8786``) is used. ``progress(done, total)`` is
    called as jobs finish.
    """
    return combine(map_jobs(jobs, workers=workers, address=address, progress=progress))


def map_jobs(
    jobs: Sequence[Job],
    *,
    workers: int | None = None,
    address: str | None = None,
    progress: Progress | None = None,
) -> list[xr.Dataset]:
    """Run every job (as :func:`run_ensemble` does) and return the results in job order."""
    if not jobs:
        raise HydroError("an ensemble needs at least one scenario")
    if workers is not None and workers < 1:
        raise HydroError(f"workers must be at least 1 (got {workers})")
    if workers == 1 and address is None:
        results = []
        for k, job in enumerate(jobs):
            results.append(job())
            if progress is not None:
                progress(k + 1, len(jobs))
        return results
    with dask_client(workers=workers, address=address) as client:
        return _gather(client, jobs, progress)


def _gather(client, jobs: Sequence[Job], progress: Progress | None) -> list[xr.Dataset]:
    from distributed import as_completed

    futures = [client.submit(job, key=f"hydro-job-{k}", pure=False) for k, job in enumerate(jobs)]
    order = {f.key: k for k, f in enumerate(futures)}
    results: list[xr.Dataset | None] = [None] * len(jobs)
    try:
        for done, future in enumerate(as_completed(futures), start=1):
            results[order[future.key]] = future.result()  # re-raises a job's HydroError here
            if progress is not None:
                progress(done, len(jobs))
    finally:
        client.cancel(futures)
    return results  # type: ignore[return-value]


@contextlib.contextmanager
def dask_client(*, workers: int | None = None, address: str | None = None) -> Iterator:
    """A Dask client: to the cluster at ``address``, or to a local cluster made for the block."""
    import dask
    from distributed import Client, LocalCluster

    if address is not None:
        try:
            client = Client(address, timeout="10s")
        except OSError as err:
            raise HydroError(f"cannot reach the Dask scheduler at {address}: {err}") from None
        with client:
            yield client
        return
    n = workers or os.cpu_count() or 1
    saved = dict(os.environ)  # the nanny sets the workers' environment in this process too
    with (
        _restored_environ(saved),
        dask.config.set(
            {
                "distributed.nanny.pre-spawn-environ": WORKER_ENV,
                "distributed.worker.multiprocessing-method": "spawn",
                "distributed.logging.distributed": "error",
            }
        ),
        LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=40,
        ) as cluster,
        Client(cluster) as client,
    ):
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
