"""Source shares: one transport pass for every source, checked against EPANET's own TRACE runs.

EPANET traces one node per run (QUALITY TRACE, through hydro.supply.run's trace_fraction). Each
source's share must match that run within 1 percentage point at every node and reporting time,
on hand-made networks (three reservoirs, tanks with each mixing model, pumps under controls and
rules, a negative demand, an emitter, a check valve, tanks that fill and spill) and on corpus
models; shares sum to 1 with the 'initial' and 'other' water. The numba kernel is also checked
against its slow, readable twin on random networks and flows.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

from hydro.errors import InputError, ScenarioError
from hydro.kernels.transport import (
    FIFO,
    JUNCTION,
    LIFO,
    MIXED,
    RESERVOIR,
    TANK,
    TWO_COMPARTMENT,
    Network,
    Transport,
    adjacency,
    transport,
)
from hydro.kernels.transport.kernel import _adjacency
from hydro.kernels.transport.reference import transport_reference
from hydro.results import read_netcdf, write_netcdf
from hydro.supply import run
from hydro.supply.epanet import QualityType, TimeParameter
from hydro.supply.tracing import INITIAL, OTHER, _Feeder, _Step, source_shares
from tests.conftest import REPO

PP = 0.01  # one percentage point

THREE = """[TITLE]
three reservoirs, four tanks (one per mixing model), pumps under controls and rules

[JUNCTIONS]
;ID  Elev  Demand  Pattern
J1   10    5       D
J2   12    8       D
J3   8     6       D
J4   15    10      D
J5   11    4       D
J6   9     7       D
J7   14    3       D
J8   10    -2
J9   10    2       D
PS   10    0

[RESERVOIRS]
;ID  Head  Pattern
R1   60    H1
R2   58    H2
R3   20

[TANKS]
;ID  Elev  InitLvl MinLvl MaxLvl Diam MinVol
T1   45    4       1      8      12   0
T2   44    3       1      7      10   0
T3   46    5       1      8      9    0
T4   43    2       0.5    6      8    0

[PIPES]
;ID  N1  N2  Length  Diam  Rough  Minor Status
P1   R1  J1  800     300   120    0     Open
P2   J1  J2  600     250   120    0     Open
P3   J2  J3  500     200   120    0     Open
P4   J3  J4  700     200   120    0     Open
P5   J4  J5  400     150   120    0     Open
P6   J5  J1  900     150   120    0     Open
P7   R2  J6  1000    300   120    0     Open
P8   J6  J3  300     200   120    0     Open
P9   J6  J7  450     150   120    0     Open
P10  J7  J4  650     150   120    0     Open
P11  J2  T1  200     200   120    0     Open
P12  J5  T2  250     150   120    0     Open
P13  J7  T3  300     150   120    0     Open
P14  J8  T4  150     150   120    0     Open
P15  J8  J5  350     100   120    0     Open
P16  J1  J7  1200    100   120    0     Open
P17  PS  J5  200     150   120    0     Open
CV1  J9  J3  300     100   120    0     CV
P18  J2  J9  400     100   120    0     Open

[PUMPS]
;ID  N1  N2  Params
PU1  R3  J8  HEAD C1
PU2  J6  PS  HEAD C2

[CURVES]
C1  20  45
C2  15  20

[PATTERNS]
D   0.5 0.7 1.0 1.4 1.6 1.2 0.9 0.6
H1  1.0 1.0 0.97 0.95 1.0 1.02 1.0 1.0
H2  1.0 1.02 1.04 1.0 0.96 0.95 1.0 1.0

[EMITTERS]
J9  0.3

[MIXING]
T2  2COMP  0.4
T3  FIFO
T4  LIFO

[CONTROLS]
LINK PU1 CLOSED AT TIME 5
LINK PU1 OPEN AT TIME 11
LINK PU1 CLOSED IF NODE T4 ABOVE 5.5

[RULES]
RULE 1
IF TANK T2 LEVEL BELOW 3
THEN PUMP PU2 STATUS IS OPEN

RULE 2
IF TANK T2 LEVEL ABOVE 4
THEN PUMP PU2 STATUS IS CLOSED

[TIMES]
Duration 24:00
Hydraulic Timestep 1:00
Quality Timestep 0:05
Pattern Timestep 3:00
Report Timestep 1:00
Rule Timestep 0:06

[OPTIONS]
Units LPS
Headloss H-W

[END]
"""

# A tank that fills within the first hour and keeps taking inflow: EPANET 2.3 lets it spill,
# each mixing model its own way.
FULL_TANK = """[JUNCTIONS]
J1 10 5 D
J2 10 8 D
J3 10 3 D
[RESERVOIRS]
R1 60 H1
R2 58 H2
[TANKS]
T1 40 5.5 1 6 10 0
[PIPES]
P1 R1 J1 800 300 120 0 Open
P2 R2 J2 900 250 120 0 Open
P3 J1 J2 500 200 120 0 Open
P4 J2 J3 300 200 120 0 Open
P5 J3 T1 200 200 120 0 Open
P6 J1 J3 700 150 120 0 Open
[PATTERNS]
D 0.6 1.0 1.5 0.8 2.5 3.0
H1 1.0 0.95 1.02 0.97 1.0 0.9
H2 1.0 1.03 0.96 1.02 0.9 1.0
[MIXING]
T1 {model} 0.3
[TIMES]
Duration 24:00
Hydraulic Timestep 1:00
Quality Timestep 0:05
Pattern Timestep 2:00
Report Timestep 1:00
[OPTIONS]
Units LPS
[END]
"""


def write(tmp_path: Path, text: str, name: str = "net.inp") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def duration(seconds: int):
    def edit(project) -> None:
        project.set_time(TimeParameter.DURATION, seconds)

    return edit


def epanet_trace(model, node: str, edits=()) -> np.ndarray:
    """EPANET's own TRACE run of one node: (time, node) fraction in [0, 1]."""

    def trace(project) -> None:
        project.set_quality(QualityType.TRACE, trace_node=node)

    return run(model, edits=[*edits, trace]).trace_fraction.values[0]


def assert_like_epanet(ds: xr.Dataset, model, edits=(), sources=None) -> None:
    """Every source's share within 1 pp of EPANET's TRACE run, at every node and time."""
    for name in sources or list(ds.source.values[:-2]):
        ours = ds.source_share.sel(source=name).values[0]
        theirs = epanet_trace(model, str(name), edits)
        assert ours.shape == theirs.shape
        worst = np.abs(ours - theirs).max()
        assert worst <= PP, f"{name}: {worst:.4f} from EPANET's trace"


def assert_partition(ds: xr.Dataset) -> None:
    shares = ds.source_share.values
    assert np.isfinite(shares).all()
    assert shares.min() >= 0.0 and shares.max() <= 1.0 + 1e-6
    np.testing.assert_allclose(shares.sum(axis=-1), 1.0, atol=1e-6)


# ------------------------------------------------------------------------------------------------
# Against EPANET's TRACE runs


def test_three_reservoirs_tanks_pumps_rules(tmp_path):
    model = write(tmp_path, THREE)
    ds = source_shares(model)
    assert list(ds.source.values) == ["R1", "R2", "R3", INITIAL, OTHER]
    assert list(ds.source_kind.values) == ["reservoir"] * 3 + [INITIAL, OTHER]
    assert_partition(ds)
    assert_like_epanet(ds, model)
    # the negative demand at J8 is water from no named source
    assert ds.source_share.sel(node="J8", source=OTHER).values.max() > 0.05
    # a source's own node holds its water only
    np.testing.assert_array_equal(ds.source_share.sel(node="R2", source="R2").values, 1.0)


@pytest.mark.parametrize("model", ["MIXED", "2COMP", "FIFO", "LIFO"])
def test_full_tank_spills_as_epanet_does(tmp_path, model):
    path = write(tmp_path, FULL_TANK.format(model=model))
    ds = source_shares(path)
    assert ds.tank_level.sel(tank="T1").values.max() == pytest.approx(6.0)  # full, spilling
    assert ds.source_share.sel(node="T1", source="R1").values.max() > 0.2
    assert_partition(ds)
    assert_like_epanet(ds, path)


@pytest.mark.parametrize(
    "model", ["three", "full", "Richmond_standard.inp", "MICROPOLIS_v1.inp", "ky8.inp"]
)
def test_tanks_after_the_advance_are_those_the_next_solve_reads(tmp_path, model, corpus_file):
    """A step goes to the transport right after EN_nextH, with its tanks' fullness read then:
    the volumes then are, to the bit, those EN_runH leaves for the next step (rules, which
    advance tanks in sub-steps, and tanks that fill included)."""
    from hydro.supply.epanet import EpanetProject

    texts = {"three": THREE, "full": FULL_TANK.format(model="MIXED")}
    path = write(tmp_path, texts[model]) if model in texts else corpus_file("epanet", model)
    after: list[np.ndarray] = []
    with EpanetProject.open(path) as project:
        project.set_time(TimeParameter.DURATION, 24 * 3600)
        accounts = project.keep_accounts()
        assert len(accounts.tanks), "a model with tanks is wanted here"
        steps = project.hydraulic_steps(
            after_advance=lambda seconds: seconds and after.append(accounts.tank_volumes_now())
        )
        before = [accounts.tank_volume.copy() for _ in steps]
    assert len(after) == len(before) - 1 >= 3
    np.testing.assert_array_equal(np.array(after), np.array(before[1:]))


@pytest.mark.parametrize("tank", ["T1", "T2", "T3", "T4"])
def test_a_tank_as_the_only_source_is_epanets_trace_of_it(tmp_path, tank):
    model = write(tmp_path, THREE)
    ds = source_shares(model, [tank], edits=[duration(12 * 3600)], hydraulics=False)
    assert list(ds.source_kind.values) == ["tank", INITIAL, OTHER]
    assert_like_epanet(ds, model, edits=[duration(12 * 3600)])


def test_water_through_a_named_tank_counts_as_the_tanks(tmp_path):
    """Shares partition the water by the last named source it left: what leaves T1 is T1's."""
    model = write(tmp_path, THREE)
    edits = [duration(12 * 3600)]
    ds = source_shares(model, ["R1", "R2", "R3", "T1"], edits=edits, hydraulics=False)
    assert_partition(ds)
    np.testing.assert_array_equal(ds.source_share.sel(node="T1", source="R1").values, 0.0)
    # no other named source lies downstream of T1 (reservoirs take no inflow): T1's share is
    # EPANET's trace of T1; a reservoir's share is its trace less what went through T1
    assert_like_epanet(ds, model, edits, sources=["T1"])
    relabelled = 0.0
    for name in ("R1", "R2", "R3"):
        ours = ds.source_share.sel(source=name).values[0]
        theirs = epanet_trace(model, name, edits)
        assert (ours <= theirs + PP).all()
        relabelled += theirs - ours
    assert relabelled.max() > 0.1


def test_a_closed_source_has_no_share(tmp_path):
    model = write(tmp_path, THREE)

    def close_r3(project) -> None:  # its only link, held closed whatever the controls say
        project.force_status(project.link_index["PU1"], closed=True)

    ds = source_shares(model, edits=[close_r3])
    elsewhere = ds.node != "R3"  # the source's own node holds its water
    np.testing.assert_array_equal(ds.source_share.sel(source="R3", node=elsewhere).values, 0.0)
    assert ds.source_share.sel(source="R1").values.max() > 0.5
    assert_partition(ds)


CORPUS_CASES = [  # model, duration (s), sources (None: the reservoirs)
    ("BWSN_Network_2.inp", 12 * 3600, ["RESERVOIR-12523", "RESERVOIR-12524", "TANK-12525"]),
    ("MICROPOLIS_v1.inp", 24 * 3600, None),  # pumps under rules: trickles through them count
    ("L-TOWN.inp", 6 * 3600, None),  # 5-minute hydraulic steps
    ("Richmond_standard.inp", 3600, None),  # EPANET 2.3 halts it at 1:43
]


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("name", "seconds", "sources"),
    CORPUS_CASES,
    ids=[case[0].removesuffix(".inp") for case in CORPUS_CASES],
)
def test_corpus_models_like_epanet(corpus_file, name, seconds, sources):
    model = corpus_file("epanet", name)
    edits = [duration(seconds)]
    ds = source_shares(model, sources, edits=edits, hydraulics=False)
    assert_partition(ds)
    assert_like_epanet(
        ds,
        model,
        edits,
        sources=[s for s in ds.source.values[:-2] if ds.source_kind.sel(source=s) != "tank"],
    )


@pytest.mark.corpus
def test_steady_state_model(corpus_file):
    """A run of duration 0 has one time: sources hold their own water, the rest is initial."""
    ds = source_shares(corpus_file("epanet", "Balerma.inp"), hydraulics=False)
    assert ds.sizes["time"] == 1 and ds.sizes["source"] == 6
    at_start = ds.source_share.values[0, 0]
    reservoirs = ds.source.values[:-2]
    for k, name in enumerate(reservoirs):
        assert at_start[list(ds.node.values).index(name), k] == 1.0
    junctions = ~np.isin(ds.node.values, reservoirs)
    np.testing.assert_array_equal(at_start[junctions, len(reservoirs)], 1.0)


XUANCHENG = REPO / "networks" / "xuancheng" / "supply.inp"


@pytest.mark.skipif(not XUANCHENG.exists(), reason="Xuancheng supply model not generated")
def test_xuancheng_three_sources():
    from hydro.supply.assets import load_assets

    sources = load_assets(XUANCHENG).sources
    reservoirs = [source.reservoir for source in sources]
    edits = [duration(12 * 3600)]
    ds = source_shares(XUANCHENG, reservoirs, edits=edits, hydraulics=False)
    assert_partition(ds)
    in_service = [s.reservoir for s in sources if s.default_open]
    assert_like_epanet(ds, XUANCHENG, edits, sources=in_service)
    for source in sources:
        if not source.default_open:  # Gangkouwan waits for its raw-water main
            share = ds.source_share.sel(source=source.reservoir, node=ds.node != source.reservoir)
            np.testing.assert_array_equal(share.values, 0)
    served = ds.source_share.sel(source=in_service).sum("source").values[0, -1]
    assert np.median(served) > 0.5  # after 12 h most nodes hold plant water


# ------------------------------------------------------------------------------------------------
# The Dataset and the arguments


def test_dataset_matches_run_and_round_trips(tmp_path):
    model = write(tmp_path, THREE)
    edits = [duration(6 * 3600)]
    ds = source_shares(model, edits=edits, scenario="s1")
    plain = run(model, edits=edits, scenario="s1")
    assert ds.source_share.dims == ("scenario", "time", "node", "source")
    assert ds.source_share.attrs["units"] == "1"
    for name in ("time", "node", "link", "tank", "scenario"):
        np.testing.assert_array_equal(ds[name].values, plain[name].values)
    np.testing.assert_allclose(ds.pressure_head.values, plain.pressure_head.values, atol=1e-4)
    merged = xr.merge([plain, ds.source_share], compat="override")
    assert "source_share" in merged and "pressure_head" in merged
    assert ds.attrs["source_share_quality_step_s"] == 300
    assert "T2 2comp" in ds.attrs["tank_mixing"]
    back = read_netcdf(write_netcdf(ds, tmp_path / "shares.nc"))
    np.testing.assert_array_equal(back.source_share.values, ds.source_share.values)
    assert list(back.source.values) == list(ds.source.values)


def test_shares_without_hydraulics_have_the_same_values(tmp_path):
    model = write(tmp_path, THREE)
    edits = [duration(6 * 3600)]
    full = source_shares(model, edits=edits)
    lean = source_shares(model, edits=edits, hydraulics=False)
    assert "pressure_head" not in lean
    np.testing.assert_array_equal(lean.source_share.values, full.source_share.values)
    np.testing.assert_array_equal(lean.time.values, full.time.values)


def test_one_thread_or_two_give_the_same_shares(tmp_path):
    model = write(tmp_path, THREE)
    edits = [duration(12 * 3600)]
    overlapped = source_shares(model, edits=edits, hydraulics=False)
    inline = source_shares(model, edits=edits, hydraulics=False, overlap=False)
    np.testing.assert_array_equal(overlapped.source_share.values, inline.source_share.values)


def test_an_error_in_the_transport_thread_reaches_the_caller():
    class Broken:
        def plan(self, *args):
            return "a plan"

        def carry(self, *args, **kwargs):
            raise ValueError("broken step")

    step = _Step(np.zeros(1), np.zeros(1), np.zeros(1), np.zeros(0, bool), 60, 0)
    feeder = _Feeder(Broken, lambda wait: True, background=True)
    with pytest.raises(ValueError, match="broken step"), feeder as feed:
        feed(step)


def test_steps_wait_for_the_element_tables_and_then_all_go_through():
    """Steps solved before the parse is done are kept, then transported in order."""
    seen: list[int] = []

    class Recorder:
        def plan(self, *args):
            return "a plan"

        def carry(self, plan, full, *, step, row):
            seen.append(step)

    parsed = {"done": False}
    feeder = _Feeder(Recorder, lambda wait: parsed["done"] or wait, background=True)
    with feeder as feed:
        for k in range(3):
            feed(_Step(np.zeros(1), np.zeros(1), np.zeros(1), np.zeros(0, bool), k, -1))
        assert feeder.worker is None  # nothing transported before the tables are there
        parsed["done"] = True
        for k in range(3, 5):
            feed(_Step(np.zeros(1), np.zeros(1), np.zeros(1), np.zeros(0, bool), k, -1))
    assert seen == [0, 1, 2, 3, 4]


def test_plans_are_made_in_step_order_by_either_thread():
    """The worker plans a step it finds unplanned; while it is carrying, the caller's thread
    plans the steps that come, oldest first; every step once, in order."""
    planned: list[tuple[int, str]] = []
    worker_planned, release = threading.Event(), threading.Event()

    class Slow:
        def plan(self, q, move, demand):
            planned.append((int(q[0]), threading.current_thread().name))
            if threading.current_thread().name == "hydro-transport":
                worker_planned.set()
            return int(q[0])

        def carry(self, plan, full, *, step, row):
            assert plan == step  # each step carried by its own plan
            if step == 0:
                release.wait(10)  # the worker is busy: steps queue up behind it

    def step(k: int) -> _Step:
        return _Step(np.full(1, float(k)), np.zeros(1), np.zeros(1), np.zeros(0, bool), k, -1)

    feeder = _Feeder(Slow, lambda wait: True, background=True)
    with feeder as feed:
        feed(step(0))  # nothing queued: the worker plans it
        assert worker_planned.wait(10)
        for k in range(1, 5):
            feed(step(k))  # the worker is carrying step 0: 1 to 4 are planned here
        release.set()
    assert planned == [(0, "hydro-transport")] + [(k, "MainThread") for k in range(1, 5)]


def test_a_run_that_ends_between_the_tables_and_the_coordinates(tmp_path, monkeypatch):
    """The transport starts from the node and link tables; the rest of the elements (which
    the accounts wait for) may still be parsing when a short run ends: they are waited for
    while the engine is open to check them against."""
    import time

    from hydro.supply.inp import Parsing

    publish = Parsing._publish

    def slow_after_the_tables(self, tables):
        publish(self, tables)
        time.sleep(0.3)  # the coordinates come long after the run is over

    monkeypatch.setattr(Parsing, "_publish", slow_after_the_tables)
    ds = source_shares(write(tmp_path, THREE), edits=[duration(0)], hydraulics=False)
    np.testing.assert_allclose(ds.source_share.sum("source"), 1.0, atol=1e-6)


def test_progress_reaches_one(tmp_path):
    seen: list[float] = []
    source_shares(write(tmp_path, THREE), edits=[duration(3 * 3600)], progress=seen.append)
    assert seen[-1] == 1.0 and all(0.0 <= f <= 1.0 for f in seen)
    assert seen == sorted(seen)


def test_a_coarser_quality_step_is_allowed_and_recorded(tmp_path):
    ds = source_shares(
        write(tmp_path, THREE), edits=[duration(3 * 3600)], quality_step=900, hydraulics=False
    )
    assert ds.attrs["source_share_quality_step_s"] == 900
    assert_partition(ds)


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        (["R11"], "source 'R11' is not a node of the model; did you mean 'R1'"),
        (["R1", "R1"], "named twice"),
        ([], "'sources' is empty"),
    ],
)
def test_bad_sources_are_scenario_errors(tmp_path, sources, expected):
    with pytest.raises(ScenarioError, match=expected):
        source_shares(write(tmp_path, THREE), sources)


def test_bad_quality_step(tmp_path):
    with pytest.raises(ScenarioError, match="quality_step"):
        source_shares(write(tmp_path, THREE), quality_step=0)


def test_a_node_named_like_a_share_label_cannot_be_a_source(tmp_path):
    model = write(tmp_path, THREE.replace("R3", "initial"))
    with pytest.raises(ScenarioError, match="'initial' cannot be a source"):
        source_shares(model)


def test_a_model_without_reservoirs_needs_named_sources(tmp_path):
    text = FULL_TANK.format(model="MIXED").replace("R1 60 H1\nR2 58 H2\n", "")
    text = text.replace("P1 R1 J1 800 300 120 0 Open\nP2 R2 J2 900 250 120 0 Open\n", "")
    model = write(tmp_path, text)
    with pytest.raises(ScenarioError, match="no reservoir"):
        source_shares(model)
    ds = source_shares(model, "T1", edits=[duration(3600)], hydraulics=False)
    assert list(ds.source.values) == ["T1", INITIAL, OTHER]


def test_a_swmm_model_is_an_input_error(tmp_path):
    model = write(
        tmp_path, "[TITLE]\nx\n[OPTIONS]\nFLOW_UNITS CMS\n[SUBCATCHMENTS]\n[END]\n", "drain.inp"
    )
    with pytest.raises(InputError, match="SWMM"):
        source_shares(model)


# ------------------------------------------------------------------------------------------------
# The kernel against its slow twin


def test_adjacency_is_in_epanets_order():
    indptr, links = adjacency(np.array([0, 1, 0]), np.array([1, 2, 2]), 3)
    assert list(indptr) == [0, 2, 4, 6]
    assert list(links[0:2]) == [2, 0]  # EPANET prepends: the last link first
    assert list(links[2:4]) == [1, 0]
    assert list(links[4:6]) == [2, 1]


@given(
    st.integers(2, 40).flatmap(
        lambda n: st.tuples(
            st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)))
        )
    )
)
def test_the_kernels_adjacency_is_the_readable_one(network):
    n_nodes, pairs = network
    start = np.array([a for a, _ in pairs], np.int64)
    end = np.array([b for _, b in pairs], np.int64)
    for got, expected in zip(
        _adjacency(start, end, n_nodes), adjacency(start, end, n_nodes), strict=True
    ):
        np.testing.assert_array_equal(got, expected)


@st.composite
def random_runs(draw):
    """A small network with random flows, demands and tank states (not a hydraulic solution:
    the kernel and its twin must agree on any input)."""
    n_nodes = draw(st.integers(3, 9))
    kinds = np.array(
        draw(
            st.lists(
                st.sampled_from([JUNCTION, JUNCTION, RESERVOIR, TANK]),
                min_size=n_nodes,
                max_size=n_nodes,
            )
        ),
        np.int8,
    )
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, n_nodes - 1), st.integers(0, n_nodes - 1)).filter(
                lambda p: p[0] != p[1]
            ),
            min_size=2,
            max_size=14,
        )
    )
    start, end = (np.array(x, np.int64) for x in zip(*pairs, strict=True))
    n_links = len(start)
    volume = np.array(
        draw(st.lists(st.sampled_from([0.0, 0.5, 3.0, 20.0]), min_size=n_links, max_size=n_links))
    )
    tanks = np.flatnonzero(kinds == TANK)
    models = draw(
        st.lists(
            st.sampled_from([MIXED, TWO_COMPARTMENT, FIFO, LIFO]),
            min_size=len(tanks),
            max_size=len(tanks),
        )
    )
    n_steps = draw(st.integers(1, 5))
    step = draw(st.lists(st.integers(60, 3600), min_size=n_steps, max_size=n_steps))
    times = np.concatenate([[0], np.cumsum(step)])
    rate = st.sampled_from([0.0, 1e-9, 0.002, -0.002, 0.01, -0.01, 0.05, -0.05])
    flows = np.array(
        draw(
            st.lists(
                st.lists(rate, min_size=n_links, max_size=n_links),
                min_size=n_steps + 1,
                max_size=n_steps + 1,
            )
        )
    )
    keep = np.array(
        draw(
            st.lists(
                st.lists(st.sampled_from([1.0, 1.0, 1.0, 0.0]), min_size=n_links, max_size=n_links),
                min_size=n_steps + 1,
                max_size=n_steps + 1,
            )
        )
    )
    demands = np.array(
        draw(
            st.lists(
                st.lists(st.sampled_from([0.0, 0.003, -0.003]), min_size=n_nodes, max_size=n_nodes),
                min_size=n_steps + 1,
                max_size=n_steps + 1,
            )
        )
    )
    full = np.array(
        draw(
            st.lists(
                st.lists(st.booleans(), min_size=len(tanks), max_size=len(tanks)),
                min_size=n_steps + 1,
                max_size=n_steps + 1,
            )
        ),
        bool,
    )
    network = Network(
        start,
        end,
        volume,
        kinds,
        tanks.astype(np.int64),
        tank_volume=np.full(len(tanks), 40.0),
        tank_model=np.array(models, np.int8),
        tank_mix_volume=np.full(len(tanks), 15.0),
        tank_max_volume=np.full(len(tanks), 60.0),
    )
    sources = np.flatnonzero(kinds != JUNCTION)[: draw(st.integers(0, 3))]
    source_of_node = np.full(n_nodes, -1, np.int64)
    source_of_node[sources] = np.arange(len(sources))
    k = len(sources)
    rows = np.arange(n_steps + 1)
    kwargs = {
        "source_of_node": source_of_node,
        "initial": k,
        "other": k + 1,
        "n_components": k + 2,
        "quality_step": draw(st.sampled_from([60, 300, 900])),
        "tolerance": draw(st.sampled_from([1e-4, 1e-2])),
        "report_rows": rows,
        "n_reports": n_steps + 1,
    }
    return (
        network,
        times,
        flows,
        demands,
        full.reshape(n_steps + 1, len(tanks)),
        flows * keep,
    ), kwargs


@given(random_runs())
def test_kernel_matches_its_twin(case):
    args, kwargs = case
    fast = transport(*args, **kwargs)
    slow = transport_reference(*args, **kwargs)
    np.testing.assert_allclose(fast, slow, atol=2e-5)
    np.testing.assert_allclose(fast.sum(axis=-1), 1.0, atol=1e-5)


def test_transport_checks_its_arrays():
    network = Network(
        np.array([0]),
        np.array([1]),
        np.array([1.0]),
        np.array([1, 0], np.int8),
        np.empty(0, np.int64),
        np.empty(0),
        np.empty(0, np.int8),
        np.empty(0),
        np.empty(0),
    )
    good = {
        "source_of_node": np.array([0, -1]),
        "initial": 1,
        "other": 2,
        "n_components": 3,
        "quality_step": 60,
        "tolerance": 1e-4,
        "report_rows": np.array([0, 1]),
        "n_reports": 2,
    }
    times, flows, demands = np.array([0, 600]), np.full((2, 1), 0.01), np.zeros((2, 2))
    out = transport(network, times, flows, demands, **good)
    assert out[-1, 1, 0] == pytest.approx(1.0)  # the source's water reached the junction
    with pytest.raises(ValueError, match="flows"):
        transport(network, times, flows[:1], demands, **good)
    with pytest.raises(ValueError, match="increase"):
        transport(network, times[::-1], flows, demands, **good)
    with pytest.raises(ValueError, match="quality step"):
        transport(network, times, flows, demands, **{**good, "quality_step": 0})
    outside = dataclasses.replace(network, link_end=np.array([2]))  # a node it does not have
    with pytest.raises(ValueError, match="node indexes below 2"):
        transport(outside, times, flows, demands, **good)


def test_shares_run_carries_the_same_age_and_leakage_as_run():
    """With hydraulics, the shares Dataset holds what hydro.supply.run gives: water age from
    EPANET's own quality solver (the bundled model asks for AGE) and leakage apart from demand."""
    from hydro.supply import run, source_shares
    from hydro.supply.epanet import TimeParameter

    model = Path(__file__).resolve().parents[1] / "networks" / "xuancheng" / "supply.inp"
    day = [lambda p: p.set_time(TimeParameter.DURATION, 12 * 3600)]
    plain = run(model, edits=day)
    traced = source_shares(model, ["SY-RIVER", "QY-RIVER"], edits=day)
    for name in ("water_age", "leakage", "pressure_head", "flow"):
        np.testing.assert_allclose(
            traced[name].values, plain[name].values, rtol=1e-5, atol=1e-5, err_msg=name
        )


def _chains(seg, ring):
    """Every chain's segments, oldest first, as rows of the arena."""
    from hydro.kernels.transport.kernel import _row

    return [np.array([seg[_row(ring, k, i)] for i in range(ring[k, 3])]) for k in range(len(ring))]


@pytest.mark.parametrize("in_place", [True, False])
def test_compacting_the_arena_keeps_every_chain(in_place):
    """Rings widened in random order, some wrapped round, then compacted (in place, or into a
    new arena): every chain holds the same segments in the same order."""
    from hydro.kernels.transport.kernel import _append, _compact, _compact_in_place, _widen

    rng = np.random.default_rng(7)
    n_chains = 30
    ring = np.zeros((n_chains, 4), np.int32)
    ring[:, 0] = 4 * np.arange(n_chains)
    ring[:, 1] = 3
    arena = np.array([4 * n_chains, 4 * n_chains], np.int64)
    seg = np.zeros((4000, 4))
    for _ in range(600):
        k = rng.integers(n_chains)
        if ring[k, 3] > 0 and rng.random() < 0.3:  # drop the oldest: the ring's head moves on
            ring[k, 2] = (ring[k, 2] + 1) & ring[k, 1]
            ring[k, 3] -= 1
            continue
        if ring[k, 3] > ring[k, 1]:
            _widen(seg, ring, arena, k)
        seg[_append(seg, ring, k, rng.random())] = rng.random(4)
    before = _chains(seg, ring)
    assert (ring[:, 2] > 0).any() and arena[0] > arena[1]  # wrapped rings, holes in the arena
    if in_place:
        _compact_in_place(seg, ring, arena)
    else:
        seg = _compact(seg, ring, arena)
    assert arena[0] == arena[1] == (ring[:, 1] + 1).sum() and (ring[:, 2] == 0).all()
    for old, new in zip(before, _chains(seg, ring), strict=True):
        np.testing.assert_array_equal(old, new)


@given(st.integers(0, 2**32 - 1), st.integers(2, 40))
def test_node_sort_with_cycles_is_epanets(seed, n_nodes):
    """The kernel's sort (which skips sorted nodes found without unsorted neighbours) gives
    EPANET's order, cycle breaks included: random graphs with random flow directions are full
    of cycles."""
    from hydro.kernels.transport.kernel import _sort_nodes
    from hydro.kernels.transport.reference import _reference_sort

    rng = np.random.default_rng(seed)
    n_links = int(rng.integers(1, 3 * n_nodes))
    start = rng.integers(0, n_nodes, n_links)
    end = (start + rng.integers(1, n_nodes, n_links)) % n_nodes  # no link from a node to itself
    direction = rng.integers(-1, 2, n_links).astype(np.int8)
    none = np.zeros(0)
    network = Network(
        start,
        end,
        np.ones(n_links),
        np.zeros(n_nodes, np.int8),
        np.zeros(0, np.int64),
        tank_volume=none,
        tank_model=np.zeros(0, np.int8),
        tank_mix_volume=none,
        tank_max_volume=none,
    )
    indptr, adj = adjacency(start, end, n_nodes)
    order = np.arange(n_nodes)
    _sort_nodes(start, end, indptr, adj, direction, order)
    links_at = [list(adj[indptr[n] : indptr[n + 1]]) for n in range(n_nodes)]
    assert order.tolist() == _reference_sort(network, links_at, direction)


def test_an_arena_that_grows_into_spares_keeps_the_shares():
    """Two sources mixed in changing proportions at a junction send a new segment into a long
    pipe every hydraulic step: the arena outgrows itself several times, each time into the
    spare the stepper gives it, and the shares stay the twin's."""
    network = Network(
        np.array([0, 1, 2]),
        np.array([2, 2, 3]),
        np.array([0.0, 0.0, 1e6]),  # a pump and a valve in, a pipe that nothing leaves
        np.array([RESERVOIR, RESERVOIR, JUNCTION, JUNCTION], np.int8),
        np.empty(0, np.int64),
        np.empty(0),
        np.empty(0, np.int8),
        np.empty(0),
        np.empty(0),
    )
    n_steps = 300
    rng = np.random.default_rng(3)
    a = rng.uniform(0.01, 0.05, n_steps)
    b = rng.uniform(0.01, 0.05, n_steps)
    flows = np.stack([a, b, a + b], axis=1)
    demands = np.zeros((n_steps, 4))
    demands[:, 3] = a + b
    kwargs = {
        "source_of_node": np.array([0, 1, -1, -1]),
        "initial": 2,
        "other": 3,
        "n_components": 4,
        "quality_step": 600,
        "tolerance": 1e-4,
        "report_rows": np.arange(n_steps),
        "n_reports": n_steps,
    }
    times = 600 * np.arange(n_steps)
    flow = Transport(network, **{k: v for k, v in kwargs.items() if k != "report_rows"})
    for h in range(n_steps):
        flow.advance(flows[h], flows[h], demands[h], np.zeros(0, bool), step=600, row=h)
    seg, ring, *_ = flow._state
    assert len(seg) > 16 * (16 * 3 + 64)  # grown more than once from its first size
    assert ring[flow._link_slot[2], 3] > 250  # the long pipe holds a segment per step
    slow = transport_reference(network, times, flows, demands, **kwargs)
    np.testing.assert_allclose(flow.shares, slow, atol=2e-5)


@given(random_runs())
def test_plans_made_ahead_carry_the_same_water(case):
    """Every step planned before any is carried (as when the hydraulics run ahead of the
    worker) gives the shares of planning and carrying in turn, bit for bit."""
    (network, times, flows, demands, full, moves), kwargs = case
    rows = kwargs.pop("report_rows")
    in_turn = transport(network, times, flows, demands, full, moves, report_rows=rows, **kwargs)
    flow = Transport(network, **kwargs)
    plans = [flow.plan(flows[h], moves[h], demands[h]) for h in range(len(times))]
    steps = np.append(np.diff(times), 0)
    for h, plan in enumerate(plans):
        flow.carry(plan, full[h], step=int(steps[h]), row=int(rows[h]))
    np.testing.assert_array_equal(flow.shares, in_turn)


@given(random_runs())
def test_slots_in_flow_order_change_no_bit(case):
    """Nodes and links kept in the first step's flow order (Transport._number) carry the same
    water, to the last bit, as kept in EPANET's order."""
    (network, times, flows, demands, full, moves), kwargs = case
    rows = kwargs.pop("report_rows")
    steps = np.append(np.diff(times), 0)
    shares = []
    for renumber in (True, False):
        flow = Transport(network, **kwargs)
        flow._numbered = not renumber  # False: the first plan picks the slots
        for h in range(len(times)):
            flow.advance(flows[h], moves[h], demands[h], full[h], step=int(steps[h]), row=rows[h])
        shares.append(flow.shares)
    np.testing.assert_array_equal(shares[0], shares[1])
