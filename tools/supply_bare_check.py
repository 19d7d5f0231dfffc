"""Rerun a supply scenario's saved engine input in the bare EPANET toolkit and compare with hydro.

    hydro supply run scenarios/supply/qingyi_out.toml -o q.nc --save-inp q.inp
    python tools/supply_bare_check.py q.inp q.nc [--hold QY-LP1,QY-LP2 24 48]

The INP runs in owa-epanet's toolkit (EPANET 2.3.5) with nothing of hydro's; at every reporting
time node pressures, tank levels and link flows are compared with hydro's results. With
``--hold LINKS START END`` (hours) the script does by hand what hydro's ``force_status`` does over
a scenario's window and an INP cannot say: the links' own simple controls are disabled and their
status is set closed before every hydraulic solve. Independently of hydro it also checks at
every hydraulic step:

- the system's mass balance: what the reservoirs send in = what the junctions take (consumers
  and emitters) + the change of the tanks' volumes (EPANET's own volumes at the start and end);
- the clear wells: at any step where a well stands within 1 cm of its minimum level, what leaves
  it is no more than what enters (its net inflow is not negative).

Pressures are compared at demand junctions that stand at or above 0 m in both runs and at
nodes that carry flow: below 0 m a pressure-driven junction takes nothing and a stagnant
branch's head is not determined by the solution (the solver leaves any value there).
"""

from __future__ import annotations

import argparse

import epanet.toolkit as en
import numpy as np
import xarray as xr

CLEAR_WELLS = ("SY-CW", "QY-CW", "GKW-CW")
AT_MINIMUM = 0.01  # m
LPS = 1e-3  # the bundled model's flow units (LPS) to m3/s


def bare_run(inp: str, hold: tuple[list[str], float, float] | None) -> dict:
    ph = en.createproject()
    en.open(ph, inp, inp + ".bare.rpt", "")
    nn, nl = en.getcount(ph, en.NODECOUNT), en.getcount(ph, en.LINKCOUNT)
    types = np.array([en.getnodetype(ph, i) for i in range(1, nn + 1)])
    junctions, reservoirs, tanks = (
        [int(k) + 1 for k in np.flatnonzero(types == kind)]
        for kind in (en.JUNCTION, en.RESERVOIR, en.TANK)
    )
    wells = {w: en.getnodeindex(ph, w) for w in CLEAR_WELLS}
    held, controls = [], []
    if hold:
        held = [en.getlinkindex(ph, name) for name in hold[0]]
        controls = [
            c
            for c in range(1, en.getcount(ph, en.CONTROLCOUNT) + 1)
            if en.getcontrol(ph, c)[1] in held and en.getcontrol(ph, c)[0] != en.TIMER
        ]
    en.openH(ph)
    en.initH(ph, 0)
    volume0 = sum(en.getnodevalue(ph, k, en.TANKVOLUME) for k in tanks)
    out = {
        "t": [],
        "p": [],
        "level": [],
        "q": [],
        "steps": 0,
        "inflow": 0.0,
        "taken": 0.0,
        "well_worst": 0.0,
        "well_steps": 0,
        "well_lowest": dict.fromkeys(wells, np.inf),
    }
    now, suspended = 0, False
    while True:
        if hold:
            inside = hold[1] * 3600 <= now < hold[2] * 3600
            if inside != suspended:
                for c in controls:
                    en.setcontrolenabled(ph, c, 0 if inside else 1)
                suspended = inside
            if inside:
                for k in held:
                    en.setlinkvalue(ph, k, en.STATUS, 0)
        t = en.runH(ph)
        out["steps"] += 1
        demand = {k: en.getnodevalue(ph, k, en.DEMAND) * LPS for k in reservoirs + tanks}
        taken = sum(en.getnodevalue(ph, int(k), en.DEMAND) for k in junctions) * LPS
        for well, k in wells.items():
            level = en.getnodevalue(ph, k, en.PRESSURE)
            out["well_lowest"][well] = min(out["well_lowest"][well], level)
            if level <= en.getnodevalue(ph, k, en.MINLEVEL) + AT_MINIMUM:
                out["well_steps"] += 1
                out["well_worst"] = min(out["well_worst"], demand[k])  # net inflow, m3/s
        if t % 3600 == 0:
            out["t"].append(t)
            out["p"].append([en.getnodevalue(ph, k, en.PRESSURE) for k in range(1, nn + 1)])
            out["level"].append([en.getnodevalue(ph, k, en.PRESSURE) for k in tanks])
            out["q"].append([en.getlinkvalue(ph, k, en.FLOW) * LPS for k in range(1, nl + 1)])
        dt = en.nextH(ph)
        out["inflow"] += -sum(demand[k] for k in reservoirs) * dt
        out["taken"] += taken * dt
        now = t + dt
        if dt <= 0:
            break
    out["stored"] = sum(en.getnodevalue(ph, k, en.TANKVOLUME) for k in tanks) - volume0
    out["node_ids"] = [en.getnodeid(ph, k) for k in range(1, nn + 1)]
    out["tank_ids"] = [en.getnodeid(ph, k) for k in tanks]
    en.closeH(ph)
    en.close(ph)
    en.deleteproject(ph)
    for key in ("p", "level", "q"):
        out[key] = np.array(out[key])
    return out


def compare(bare: dict, nc: str) -> None:
    ds = xr.open_dataset(nc).isel(scenario=0)
    assert [str(v) for v in ds["node_id"].values] == bare["node_ids"], "node order differs"
    n = min(ds.sizes["time"], len(bare["t"]))
    p_hydro, p_bare = ds["pressure_head"].values[:n], bare["p"][:n]
    demand = ds["node_required_volume"].values > 0
    wet = demand & (p_hydro >= 0) & (p_bare >= 0)
    dp = np.abs(p_hydro - p_bare)
    tank_ids = [str(v) for v in ds["tank_id"].values]
    order = [tank_ids.index(t) for t in bare["tank_ids"]]
    dl = np.abs(ds["tank_level"].values[:n][:, order] - bare["level"][:n])
    dq = np.abs(ds["flow"].values[:n] - bare["q"][:n])
    worst_t, worst_n = np.unravel_index(np.argmax(np.where(wet, dp, 0)), dp.shape)
    tl_t, tl_k = np.unravel_index(np.argmax(dl), dl.shape)
    q_t, q_k = np.unravel_index(np.argmax(dq), dq.shape)
    links = [str(v) for v in ds["link_id"].values]
    print(f"hydraulic steps: hydro {int(ds['hydraulic_steps'])}, bare {bare['steps']}")
    print(
        f"pressure, demand junctions >= 0 m in both: max |diff| {dp[wet].max():.4f} m "
        f"({bare['node_ids'][worst_n]} at {bare['t'][worst_t] / 3600:.0f} h); "
        f"{(dp[wet] > 0.01).sum()} of {wet.sum()} node-times differ by more than 1 cm"
    )
    print(f"pressure, every node: max |diff| {dp.max():.3f} m")
    print(
        f"tank level: max |diff| {dl.max():.4f} m ({bare['tank_ids'][tl_k]} at "
        f"{bare['t'][tl_t] / 3600:.0f} h)"
    )
    print(
        f"link flow: max |diff| {dq.max():.2e} m3/s ({links[q_k]} at {bare['t'][q_t] / 3600:.0f} h)"
    )
    error = (bare["inflow"] - bare["taken"] - bare["stored"]) / bare["inflow"]
    print(
        f"bare mass balance: in {bare['inflow']:,.0f} m3 = taken {bare['taken']:,.0f} + "
        f"stored {bare['stored']:,.0f}; error {100 * error:.4f} % "
        f"(hydro's mass_balance_error {100 * float(ds['mass_balance_error']):.4f} %)"
    )
    print(
        f"clear wells within {AT_MINIMUM} m of their minimum: {bare['well_steps']} bare steps, "
        f"lowest net inflow there {bare['well_worst']:.4f} m3/s (>= 0: nothing drawn from "
        "an empty well)"
    )
    empty = ds["tank_empty_outflow_time"].values
    print(
        "hydro's own check, time a clear well at its minimum level gave water out: "
        + ", ".join(
            f"{w} {float(empty[tank_ids.index(w)]):.0f} s" for w in CLEAR_WELLS if w in tank_ids
        )
    )
    print(
        "lowest clear-well levels, hydro / bare (every step): "
        + ", ".join(
            f"{w} {float(ds['tank_level_min'].values[tank_ids.index(w)]):.3f} / "
            f"{bare['well_lowest'][w]:.3f} m"
            for w in CLEAR_WELLS
            if w in tank_ids
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inp")
    parser.add_argument("nc")
    parser.add_argument("--hold", nargs=3, metavar=("LINKS", "START_H", "END_H"))
    args = parser.parse_args()
    hold = None
    if args.hold:
        hold = (args.hold[0].split(","), float(args.hold[1]), float(args.hold[2]))
    compare(bare_run(args.inp, hold), args.nc)


if __name__ == "__main__":
    main()
