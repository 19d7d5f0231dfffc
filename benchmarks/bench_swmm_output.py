"""Reading a SWMM .out file: hydro's reader (``hydro.drainage.swmm.output.read_out``, one pass of
numpy over the file) against swmm-toolkit's own output API (``swmm.toolkit.output``, one call per
period and attribute, as pyswmm and swmm-toolkit users read results), on the corpus's user5.inp
(200 nodes, 1 day). Both must give the same numbers (checked here); the question is whether our
reader earns its place. Measured 2026-12-04 on the 2-core machine: see docs/design.md.

Run: python -m pytest benchmarks/bench_swmm_output.py --benchmark-only -s
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from swmm.toolkit import output, shared_enum, solver

from hydro.drainage.swmm.output import read_out

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "swmm"
MODEL = CORPUS / "user5.inp"

pytestmark = pytest.mark.skipif(not MODEL.exists(), reason=f"corpus model not found: {MODEL}")


@pytest.fixture(scope="module")
def out_file(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("swmm_out")
    model = folder / MODEL.name
    shutil.copy(MODEL, model)
    solver.swmm_run(str(model), str(folder / "run.rpt"), str(folder / "run.out"))
    return folder / "run.out"


def toolkit_read(path: Path) -> dict[str, np.ndarray]:
    """Every node, link and subcatchment value through swmm-toolkit: (n_vars, periods, elements)."""
    handle = output.init()
    output.open(handle, str(path))
    try:
        periods = output.get_times(handle, shared_enum.Time.NUM_PERIODS)
        found = {}
        for kind, attrs, getter in (
            ("node", shared_enum.NodeAttribute, output.get_node_attribute),
            ("link", shared_enum.LinkAttribute, output.get_link_attribute),
            ("subcatch", shared_enum.SubcatchAttribute, output.get_subcatch_attribute),
        ):
            found[kind] = np.array(
                [
                    [getter(handle, period, attr) for period in range(periods)]
                    for attr in attrs
                    if attr.value < _LIMIT[kind]
                ],
                dtype=np.float32,
            )
        return found
    finally:
        output.close(handle)


# Attributes without pollutants (the corpus model has none)
_LIMIT = {"node": 6, "link": 5, "subcatch": 8}


def test_both_readers_agree(out_file):
    ours = read_out(out_file)
    theirs = toolkit_read(out_file)
    np.testing.assert_array_equal(ours.node_values[:6], theirs["node"])
    np.testing.assert_array_equal(ours.link_values[:5], theirs["link"])
    np.testing.assert_array_equal(ours.subcatch_values[:8], theirs["subcatch"])


def test_read_out(benchmark, out_file):
    benchmark(read_out, out_file)


def test_toolkit_output_api(benchmark, out_file):
    benchmark(toolkit_read, out_file)
