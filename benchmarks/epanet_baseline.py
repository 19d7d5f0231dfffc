"""The bare-engine baseline the EPANET benchmarks divide by: open, solve the hydraulics, close."""

from __future__ import annotations

import ctypes
import tempfile
import time
from pathlib import Path

from hydro.supply.epanet import TimeParameter, library


def _timed(inp: Path, duration: int | None, solve) -> float:
    """Seconds for EN_open, ``solve(lib, handle)`` (returns an error code), EN_close."""
    lib = library()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        handle = ctypes.c_void_p()
        lib.EN_createproject(ctypes.byref(handle))
        lib.EN_open(handle, str(inp).encode(), f"{tmp}/x.rpt".encode(), b"")
        if duration is not None:
            lib.EN_settimeparam(handle, int(TimeParameter.DURATION), duration)
        code = solve(lib, handle)
        lib.EN_close(handle)
        lib.EN_deleteproject(handle)
        elapsed = time.perf_counter() - start
    if code >= 100:
        raise RuntimeError(f"EPANET failed on {inp}: error {code}")
    return elapsed


def bare_solve(inp: Path, duration: int | None = None) -> float:
    """Seconds for the bare EPANET toolkit: EN_open, EN_solveH (``duration`` s), EN_close."""
    return _timed(inp, duration, lambda lib, handle: lib.EN_solveH(handle))


def bare_stepping(inp: Path, duration: int | None = None) -> float:
    """Seconds for the bare toolkit stepping the hydraulics as hydro does, reading nothing:
    EN_open, EN_openH, EN_initH, EN_runH/EN_nextH to the end, EN_closeH, EN_close."""

    def step(lib, handle) -> int:
        t, tstep = ctypes.c_long(), ctypes.c_long(1)
        code = lib.EN_openH(handle) or lib.EN_initH(handle, 0)
        while code < 100 and tstep.value > 0:
            code = max(lib.EN_runH(handle, ctypes.byref(t)), 0)
            code = max(code, lib.EN_nextH(handle, ctypes.byref(tstep)))
        lib.EN_closeH(handle)
        return code

    return _timed(inp, duration, step)
