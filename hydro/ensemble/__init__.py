"""Many scenarios at once.

:mod:`hydro.ensemble.workers` runs jobs on worker processes (a local Dask cluster by default, or a
remote one), one engine per process; :mod:`hydro.ensemble.plan` reads an ensemble file (lists of
supply and drainage scenario files), runs every member (each worker writes its result), joins
the summaries, lists the failures and resumes what an earlier run left.
"""

from hydro.ensemble.plan import (
    EnsembleInterrupted,
    EnsemblePlan,
    EnsembleRun,
    Failure,
    Member,
    load_plan,
    run_plan,
)
from hydro.ensemble.workers import combine, dask_client, each_job, map_jobs, run_ensemble

__all__ = [
    "EnsembleInterrupted",
    "EnsemblePlan",
    "EnsembleRun",
    "Failure",
    "Member",
    "combine",
    "dask_client",
    "each_job",
    "load_plan",
    "map_jobs",
    "run_ensemble",
    "run_plan",
]
