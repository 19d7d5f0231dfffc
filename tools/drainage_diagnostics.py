"""Run the bundled drainage scenarios, rerun each saved engine input in SWMM alone, and print
the figures a reviewer checks: routing steps not converging, the largest node continuity error,
the flooding loss, SWMM's Node Flooding Summary total against hydro's city flood volume.

    python tools/drainage_diagnostics.py [scenario names] [--out folder]

Each scenario is run with ``hydro drainage run``'s machinery (``run_scenario(save_input=...)``);
the saved input (and, after a spin-up, its spin-up input and hotstart) is rerun with
swmm-toolkit's ``swmm_run`` in that folder, and its report read with hydro's parser. Prints one
markdown table row per scenario (networks/xuancheng/README.md keeps the table).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time
from pathlib import Path

from swmm.toolkit import solver

from hydro.drainage.scenario import run_scenario
from hydro.drainage.swmm.report import read_report
from hydro.scoring import score

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios" / "drainage"
HEADER = (
    "| scenario | steps not converging | largest node continuity error | flooding loss "
    "(% of inflow) | SWMM Node Flooding Summary m³ | hydro city flood volume m³ | "
    "routing continuity % | run s |"
)


@contextlib.contextmanager
def quiet():
    """Silence what the SWMM library prints on the process's standard output."""
    saved = os.dup(1)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def bare_rerun(inp: Path) -> Path:
    """Run the saved input (after its spin-up, if saved) in SWMM alone; returns the report."""
    spin = inp.with_name(inp.stem + "_spinup.inp")
    with contextlib.chdir(inp.parent), quiet():
        if spin.is_file():
            solver.swmm_run(spin.name, spin.with_suffix(".rpt").name, spin.with_suffix(".out").name)
        solver.swmm_run(inp.name, inp.with_suffix(".rpt").name, inp.with_suffix(".out").name)
    for out in (inp.with_suffix(".out"), spin.with_suffix(".out")):
        out.unlink(missing_ok=True)
    return inp.with_suffix(".rpt")


def row(name: str, folder: Path) -> str:
    saved = folder / f"{name}.inp"
    start = time.perf_counter()
    ds = run_scenario(SCENARIOS / f"{name}.toml", save_input=saved)
    seconds = time.perf_counter() - start
    hydro_total = float(score(ds)["total_flood_volume"].values[0])
    rpt = read_report(bare_rerun(saved))
    steps = rpt.routing_steps()
    routing = rpt.flow_routing_continuity()
    nodes = rpt.node_inflow()
    worst = nodes["flow_balance_error"].abs()
    inflow = sum(
        routing.get(k, 0.0)
        for k in ("dry_weather_inflow", "wet_weather_inflow", "groundwater_inflow", "rdii_inflow")
    )
    flooding = rpt.node_flooding()["flood_volume"].sum()
    return (
        f"| {name} | {steps['not_converging_share']:.2%} | "
        f"{worst.max():.1%} ({worst.idxmax()}) | "
        f"{routing['flooding_loss']:,.0f} m³ ({routing['flooding_loss'] / inflow:.2%}) | "
        f"{flooding:,.0f} | {hydro_total:,.0f} | {routing['continuity_error']:.3f} | "
        f"{seconds:.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="scenario names (default: all bundled)")
    parser.add_argument("--out", type=Path, help="folder for the saved inputs (default: temp)")
    args = parser.parse_args()
    names = args.names or sorted(p.stem for p in SCENARIOS.glob("*.toml"))
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.out or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        print(HEADER)
        print("|" + "---|" * HEADER.count(" | ") + "---|")
        for name in names:
            print(row(name, folder), flush=True)


if __name__ == "__main__":
    main()
