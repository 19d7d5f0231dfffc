"""The bare-engine baseline the EPANET benchmarks divide by: open, solve the hydraulics, close."""

from __future__ import annotations

import ctypes
import tempfile
import time
from pathlib import Path

from hydro.supply.epanet import TimeParameter, library


def bare_solve(inp: Path, duration: int | None = None) -> float:
    """Seconds for the bare EPANET toolkit: EN_open, EN_solveH (``duration`` s), EN_close."""
    lib = library()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        handle = ctypes.c_void_p()
        lib.EN_createproject(ctypes.byref(handle))
        lib.EN_open(handle, str(inp).encode(), f"{tmp}/x.rpt".encode(), b"")
        if duration is not None:
            lib.EN_settimeparam(handle, int(TimeParameter.DURATION), duration)
        code = lib.EN_solveH(handle)
        lib.EN_close(handle)
        lib.EN_deleteproject(handle)
        elapsed = time.perf_counter() - start
    if code >= 100:
        raise RuntimeError(f"EPANET failed on {inp}: error {code}")
    return elapsed
