"""hydro.supply.assets: named assets from sidecars, inferred defaults for any other EPANET model."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hydro.errors import InputError, ScenarioError
from hydro.supply.assets import (
    ALL_ZONE,
    RENEWAL_CLASSES,
    load_assets,
    read_inp_index,
    sidecar_paths,
)
from hydro.synth.supply import minimum_junctions, write_supply
from tests.conftest import corpus_params


@pytest.fixture(scope="module")
def bundled(tmp_path_factory) -> Path:
    """The default Xuancheng model with its sidecars, freshly generated (read-only)."""
    return write_supply(tmp_path_factory.mktemp("default") / "supply.inp")


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    """A small generated model with its sidecars (read-only: tests copy it before editing)."""
    return write_supply(
        tmp_path_factory.mktemp("small") / "city.inp", junctions=minimum_junctions(), seed=5
    )


@pytest.fixture
def editable(small, tmp_path) -> Path:
    """A private copy of the small model and its sidecars."""
    for path in (small, *sidecar_paths(small).values()):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path / small.name


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# ------------------------------------------------------------------------------------------------
# The bundled model's sidecars


def test_bundled_assets_name_the_three_sources_zones_and_stations(bundled):
    a = load_assets(bundled)
    assert a.inferred == ()
    assert [s.name for s in a.sources] == ["shuiyang", "qingyi", "gangkouwan"]
    assert [(z.name, z.name_zh) for z in a.zones] == [
        ("main", "主城区"),
        ("devzone", "经开区"),
        ("east", "东部片区"),
    ]
    assert a.source("qingyi").raw_booster_pumps and a.source("qingyi").intake_pumps
    gkw = a.source("gangkouwan")
    assert not gkw.default_open and gkw.isolation_links and gkw.flow_control_valve
    assert len(a.boosters) == 21
    assert all(b.tank and len(b.pumps) == 2 and b.standby_pumps == b.pumps[1:] for b in a.boosters)
    assert {ic.default_open for ic in a.interconnections} == {True, False}
    assert set(a.patterns) == {"residential", "commercial", "industrial"}
    assert set(a.demand_growth) == {2024, 2030, 2035}
    assert a.population == 450_000 == sum(i.population or 0 for i in a.nodes.values())


def test_bundled_defaults_match_the_inp_statuses(bundled):
    """What the TOML calls closed by default is closed in the INP, and the rest is not."""
    a = load_assets(bundled)
    text = bundled.read_text(encoding="utf-8")
    status = text.split("[STATUS]")[1].split("[")[0]
    closed = {
        line.split()[0] for line in status.splitlines() if line.strip() and not line.startswith(";")
    }
    pipes = text.split("[PIPES]")[1].split("[")[0]
    closed |= {line.split()[0] for line in pipes.splitlines() if line.rstrip().endswith("Closed")}
    for ic in a.interconnections:
        assert (set(ic.valves) <= closed) == (not ic.default_open), ic.name
    gkw = a.source("gangkouwan")
    assert set(gkw.isolation_links) | {gkw.flow_control_valve} <= closed
    valves = text.split("[VALVES]")[1].split("[")[0]
    fcv = next(
        line.split()
        for line in valves.splitlines()
        if line.split() and line.split()[0] == gkw.flow_control_valve
    )
    assert float(fcv[5]) / 1000.0 == pytest.approx(gkw.flow_cap, rel=1e-5)  # L/s in the INP
    for source in a.sources:
        assert set(source.standby_pumps) <= closed
    assert (
        not {
            p
            for s in a.sources
            if s.default_open
            for p in s.high_lift_pumps
            if p not in s.standby_pumps
        }
        & closed
    )


def test_bundled_renewal_set_has_the_work_plan_lengths(bundled):
    a = load_assets(bundled)
    length = {}
    pipes = bundled.read_text(encoding="utf-8").split("[PIPES]")[1].split("[")[0]
    for line in pipes.splitlines():
        fields = line.split()
        if len(fields) > 3 and not line.startswith(";"):
            length[fields[0]] = float(fields[3])
    for cls, km in a.renewal.length_km.items():
        assert sum(length[p] for p in a.renewal_pipes(cls)) / 1000 == pytest.approx(km, abs=0.01)
    backward = {a.pipes[p].material for p in a.renewal_pipes("backward_material")}
    assert backward <= {"CI", "GS"}
    assert all(a.pipes[p].install_year < 2000 for p in a.renewal_pipes("aged"))
    roughness = read_inp_index(bundled).pipes
    assert all(info.c_factor == roughness[p][2] for p, info in a.pipes.items())


def test_lookups_name_what_exists(bundled):
    a = load_assets(bundled)
    assert a.interconnection("main_east").zones == ("main", "east")
    assert a.booster("BS07").name == "BS07"
    with pytest.raises(ScenarioError, match="did you mean 'qingyi'"):
        a.source("qingyl")
    with pytest.raises(ScenarioError, match="no zone named 'north'"):
        a.zone("north")
    with pytest.raises(ScenarioError, match="renewal class"):
        a.renewal_pipes("old")


# ------------------------------------------------------------------------------------------------
# Inference for models without sidecars


@pytest.mark.parametrize("inp", corpus_params("epanet", exclude=("Net1broken.inp",)))
def test_any_corpus_model_gets_inferred_assets(inp):
    a = load_assets(inp)
    index = read_inp_index(inp)
    assert a.inferred == ("assets", "nodes", "pipes")
    assert [s.reservoir for s in a.sources] == list(index.reservoirs)
    for s in a.sources:
        assert all(index.pumps[p][0] == s.reservoir for p in s.intake_pumps)
    assert sum(len(z.nodes) for z in a.zones) >= len(index.junctions) or any(
        index.node_tags.values()
    )
    for b in a.boosters:
        suction = index.pumps[b.pumps[0]][0]
        assert suction in index.tanks or suction in index.junctions
    assert set(a.pipes) == set(index.pipes)
    assert {p.renewal_class for p in a.pipes.values()} <= set(RENEWAL_CLASSES)
    assert a.population is None


def test_duplicate_ids_are_refused(corpus_file):
    with pytest.raises(InputError, match="node id '2' appears"):
        load_assets(corpus_file("epanet", "Net1broken.inp"))


TAGGED = """\
[JUNCTIONS]
 J1  10  1
 J2  12  1
 J3  11  1
 J4  15  0
[RESERVOIRS]
 R1  50
[TANKS]
 T1  20  2  0  5  10  0
[PIPES]
 P1  J1  J2  100  200  110  0  Open
 P2  J2  J3  100  150   95  0  Open
 P3  J3  T1  100  150  120  0  Open
[PUMPS]
 PU1  R1  J1  POWER 10
 PU2  T1  J4  POWER 5
 PU3  T1  J4  POWER 5
[TAGS]
 NODE J1 north
 NODE J2 north
 NODE J3 south
 LINK P2 aged
[OPTIONS]
 Headloss H-W
[END]
"""


def test_inference_reads_tags_groups_parallel_pumps(tmp_path):
    inp = tmp_path / "tagged.inp"
    inp.write_text(TAGGED, encoding="utf-8")
    a = load_assets(inp)
    assert [(s.name, s.intake_pumps) for s in a.sources] == [("R1", ("PU1",))]
    assert {z.name: z.nodes for z in a.zones} == {"north": ("J1", "J2"), "south": ("J3",)}
    assert [(b.name, b.pumps, b.tank) for b in a.boosters] == [("PU2", ("PU2", "PU3"), "T1")]
    assert a.pipes["P2"].renewal_class == "aged" and a.pipes["P1"].renewal_class == "none"
    assert a.pipes["P2"].c_factor == 95.0


def test_without_tags_there_is_one_zone(tmp_path):
    inp = tmp_path / "plain.inp"
    inp.write_text(TAGGED.split("[TAGS]")[0] + "[END]\n", encoding="utf-8")
    a = load_assets(inp)
    assert [(z.name, len(z.nodes)) for z in a.zones] == [(ALL_ZONE, 4)]


def test_missing_sidecars_are_inferred_one_by_one(editable):
    full = load_assets(editable)
    sidecar_paths(editable)["nodes"].unlink()
    partial = load_assets(editable)
    assert partial.inferred == ("nodes",)
    # The INP's [TAGS] carry the same zones as the node table.
    assert {z.name: set(z.nodes) & set(full.zone(z.name).nodes) for z in partial.zones} == {
        z.name: set(z.nodes) for z in full.zones
    }
    assert partial.sources == full.sources


def test_links_to_undefined_nodes_are_refused(tmp_path):
    inp = tmp_path / "dangling.inp"
    inp.write_text(TAGGED.replace(" P3  J3  T1 ", " P3  J3  T9 "), encoding="utf-8")
    with pytest.raises(InputError, match=r"dangling.inp: link 'P3' joins a node that no"):
        load_assets(inp)


def test_gbk_tags_name_the_zones(tmp_path):
    """Models written in China often carry GBK text: zone names come through as written."""
    inp = tmp_path / "gbk.inp"
    inp.write_bytes(TAGGED.replace("north", "北区").encode("gb18030"))
    a = load_assets(inp)
    assert {z.name: z.nodes for z in a.zones} == {"北区": ("J1", "J2"), "south": ("J3",)}


def test_not_an_inp_file(tmp_path):
    path = tmp_path / "notes.inp"
    path.write_text("hello\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"not an INP file|not an EPANET input file"):
        load_assets(path)
    with pytest.raises(InputError, match="no such"):
        load_assets(tmp_path / "missing.inp")


# ------------------------------------------------------------------------------------------------
# Malformed sidecars: each error names the file, the entry and what was expected


@pytest.mark.parametrize(
    "kind, old, new, words",
    [
        ("assets", "[model]", "[model", "not valid TOML"),
        (
            "assets",
            'reservoir = "SY-RIVER"',
            'reservoirr = "SY-RIVER"',
            r"sources\[0\]: unknown key 'reservoirr'; did you mean 'reservoir'",
        ),
        (
            "assets",
            'clear_well = "QY-CW"',
            'clear_well = "QY-XX"',
            r"sources\[1\]\.clear_well: 'QY-XX' is not a tank",
        ),
        ("assets", '"SY-IP1"', '"SY-IPX"', r"intake_pumps: 'SY-IPX' is not a pump"),
        ("assets", "default_open = true", 'default_open = "yes"', "expected true or false"),
        (
            "assets",
            'zones = ["main", "devzone"]',
            'zones = ["main", "west"]',
            r"'west' is not a zone declared in \[\[zones\]\]",
        ),
        ("assets", "[renewal]", "[renewals]", "unknown table 'renewals'"),
        ("nodes", "node,zone,land_use,population", "node,zone,use,population", "missing column"),
        ("nodes", ",residential,", ",housing,", "land use 'housing'"),
        ("nodes", "JM-", "XX-", r"line 2: node 'XX-\S+' is not in city\.inp"),
        ("pipes", ",none\n", ",replaced\n", "renewal class 'replaced'"),
        ("pipes", "PM-", "QM-", "is not a pipe of city.inp"),
    ],
)
def test_malformed_sidecar_is_refused_with_a_clear_message(editable, kind, old, new, words):
    path = sidecar_paths(editable)[kind]
    _edit(path, old, new)
    with pytest.raises(InputError, match=words) as err:
        load_assets(editable)
    assert path.name in str(err.value)


def test_node_zone_must_be_declared(editable):
    _edit(sidecar_paths(editable)["nodes"], ",main,", ",centre,")
    with pytest.raises(InputError, match=r"zone 'centre'.*does not declare"):
        load_assets(editable)
