"""A Dask worker plugin of the local cluster (imported only when one starts: it loads Dask)."""

from __future__ import annotations

import atexit
import os

from distributed.diagnostics.plugin import WorkerPlugin


class QuickExit(WorkerPlugin):
    """The worker process ends at once when it is told to close.

    Every result is written (and renamed into place) before a job returns, so there is nothing
    left to flush; yet tearing down the engines' and numba's libraries took seconds per worker,
    past Dask's patience, which then killed it. ``os._exit`` in an atexit handler skips that.
    """

    def setup(self, worker) -> None:
        atexit.register(os._exit, 0)
