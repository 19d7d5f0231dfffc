"""Many scenarios at once.

:mod:`hydro.ensemble.workers` runs jobs on worker processes (a local Dask cluster by default, or a
remote one), one engine per process; :mod:`hydro.ensemble.plan` reads an ensemble file (lists of
supply and drainage scenario files), runs every member, writes each full result and joins the
summaries.
"""

from hydro.ensemble.plan import EnsemblePlan, load_plan, run_plan
from hydro.ensemble.workers import combine, dask_client, map_jobs, run_ensemble

__all__ = [
    "EnsemblePlan",
    "combine",
    "dask_client",
    "load_plan",
    "map_jobs",
    "run_ensemble",
    "run_plan",
]
