"""Run the bundled supply scenarios in two checkouts of hydro and print the before/after table of
networks/xuancheng/README.md ("Supply answers before and after issue 13 (measured)").

    python tools/supply_before_after.py --before-hydro OLD/.venv/bin/hydro \
        --before-scenarios OLD/scenarios/supply [--out folder] [scenario names]

The "after" runs use the ``hydro`` of this checkout's environment on ``scenarios/supply``; the
"before" runs use the given ``hydro`` executable (another checkout's venv) on that checkout's
scenarios. Each scenario runs as its file says (72 h) through ``hydro supply run``; a result
already in the output folder is reused. The figures are read from the results as each version
reported them:

- city compliance: after, the share of demand-node time at or above the service head over every
  hydraulic step (``service_compliance``); before, the mean of the hourly shares (the only one
  it had). The after run's hourly mean is printed beside it, so that the two compare alike.
- unserved demand: the city's ``unserved_volume`` per day of run and ``unserved_fraction``
  (after: over every step; before: from the hourly snapshots).
- plant output: after, ``plant_volume`` (every step) per day; before, the mean of the hourly
  ``plant_output``.
- mass balance error and converged: the run's own (``mass_balance_error`` did not exist before).
- warnings: the lines of ``health_warnings`` (after) and of ``engine_warnings`` (both).
- empty-well excess: at the reporting times when a plant's clear well is within 1 cm of its
  minimum level, the plant's output above the flow its raw main brings in (m3/s, worst), and the
  number of such times; the same check for both versions, from the hourly records.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import xarray as xr

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios" / "supply"
DAY = 86400.0
CLEAR_WELLS = {"shuiyang": "SY-CW", "qingyi": "QY-CW", "gangkouwan": "GKW-CW"}
AT_MINIMUM = 0.01  # m: a well this close to its minimum level counts as empty


def run(hydro: str, toml: Path, nc: Path) -> float:
    """Run one scenario with the given hydro executable; seconds taken (0 if reused)."""
    if nc.exists():
        return 0.0
    start = time.perf_counter()
    done = subprocess.run(
        [hydro, "supply", "run", str(toml), "-o", str(nc)],
        cwd=toml.parent,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.exit(f"{toml}: hydro failed\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def tank_minimum_levels(inp: Path) -> dict[str, float]:
    """Each tank's minimum level (m) from the model's [TANKS] section (units of the model: the
    bundled model is SI)."""
    levels, section = {}, ""
    for line in inp.read_text(encoding="utf-8").splitlines():
        text = line.split(";")[0].strip()
        if text.startswith("["):
            section = text.upper()
        elif text and section == "[TANKS]":
            fields = text.split()
            levels[fields[0]] = float(fields[3])
    return levels


def lines(text: str) -> int:
    return len([line for line in str(text).splitlines() if line.strip()])


def ids(ds: xr.Dataset, dim: str) -> list[str]:
    """Element names along a dimension (``<dim>_id`` now, the dimension's coordinate before)."""
    return [str(v) for v in ds[f"{dim}_id" if f"{dim}_id" in ds.variables else dim].values]


def figures(nc: Path) -> dict:
    """What one run reported, as the table shows it."""
    ds = xr.open_dataset(nc).isel(scenario=0)
    days = (ds["time"].values[-1] - ds["time"].values[0]) / np.timedelta64(1, "s") / DAY
    city = {"zone": ids(ds, "zone").index("city")}
    plants = ids(ds, "plant")
    hourly = float(ds["pressure_compliance"].isel(city).mean())
    stepped = "service_compliance" in ds
    out = {
        "compliance": float(ds["service_compliance"].isel(city)) if stepped else hourly,
        "compliance_hourly": hourly,
        "unserved_m3d": float(ds["unserved_volume"].isel(city)) / days,
        "unserved_frac": float(ds["unserved_fraction"].isel(city)),
        "mass_balance": float(ds["mass_balance_error"]) if "mass_balance_error" in ds else None,
        "converged": str(ds.attrs.get("converged")) == "1",
        "health_warnings": lines(ds.attrs.get("health_warnings", "")),
        "engine_warnings": lines(ds.attrs.get("engine_warnings", "")),
        "stepped": stepped,
    }
    if stepped:
        output = ds["plant_volume"].values / days
    else:
        output = ds["plant_output"].mean("time").values * DAY
    out["plants"] = dict(zip(plants, output.tolist(), strict=True))
    minimum = tank_minimum_levels(Path(ds.attrs["network_source"]))
    tanks = ids(ds, "tank")
    worst, times = 0.0, 0
    for i, plant in enumerate(plants):
        well = CLEAR_WELLS.get(plant)
        if well not in tanks:
            continue
        level = ds["tank_level"].isel(tank=tanks.index(well)).values
        empty = level <= minimum[well] + AT_MINIMUM
        excess = ds["plant_output"].values[:, i] - ds["raw_main_flow"].values[:, i]
        times += int(empty.sum())
        if empty.any():
            worst = max(worst, float(excess[empty].max()))
    out["empty_well_times"], out["empty_well_excess"] = times, worst
    ds.close()
    return out


def pct(x: float | None, digits: int = 1) -> str:
    return "-" if x is None else f"{100 * x:.{digits}f} %"


def row(name: str, before: dict, after: dict) -> str:
    def both(key, fmt):
        return f"{fmt(before[key])} → {fmt(after[key])}"

    plants = " / ".join(
        f"{before['plants'].get(p, 0):,.0f} → {after['plants'].get(p, 0):,.0f}"
        for p in ("shuiyang", "qingyi", "gangkouwan")
    )
    return (
        "| "
        + " | ".join(
            [
                name,
                both("compliance", pct) + f" (hourly mean {pct(after['compliance_hourly'])})",
                both("unserved_m3d", lambda v: f"{v:,.0f}")
                + " ("
                + both("unserved_frac", lambda v: pct(v, 2))
                + ")",
                plants,
                f"- → {after['mass_balance'] * 100:.4f} %",
                both("converged", lambda v: "yes" if v else "**no**"),
                f"{before['engine_warnings']} → {after['health_warnings']} + {after['engine_warnings']}",
                f"{before['empty_well_times']}, {before['empty_well_excess']:.3f} → "
                f"{after['empty_well_times']}, {after['empty_well_excess']:.3f}",
            ]
        )
        + " |"
    )


HEADER = (
    "| scenario | city ≥ 28 m (before: hourly mean; after: every step) | unserved m³/d (%) | "
    "plant output m³/d: Shuiyang / Qingyi / Gangkouwan | mass balance error | converged | "
    "warnings: engine (before) → health + engine (after) | reporting times with a clear well "
    "empty, worst output − raw inflow m³/s |\n|---|---|---|---|---|---|---|---|"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="scenario names (default: all bundled)")
    parser.add_argument("--before-hydro", required=True, help="hydro executable of the old venv")
    parser.add_argument(
        "--before-scenarios",
        type=Path,
        required=True,
        help="the old checkout's scenarios/supply folder",
    )
    parser.add_argument("--out", type=Path, default=Path("supply_before_after"))
    args = parser.parse_args()
    after_hydro = shutil.which("hydro", path=str(Path(sys.executable).parent)) or "hydro"
    names = args.names or sorted(p.stem for p in SCENARIOS.glob("*.toml"))
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in names:
        results = {}
        for label, hydro, folder in (
            ("before", args.before_hydro, args.before_scenarios),
            ("after", after_hydro, SCENARIOS),
        ):
            nc = (args.out / f"{name}_{label}.nc").resolve()
            seconds = run(hydro, folder / f"{name}.toml", nc)
            print(f"{name} {label}: {seconds:.0f} s", file=sys.stderr)
            results[label] = figures(nc)
        rows.append(row(name, results["before"], results["after"]))
    print(HEADER)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
