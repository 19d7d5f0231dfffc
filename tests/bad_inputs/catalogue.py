"""The catalogue of bad inputs: every way a model, scenario, ensemble, rain series, result file,
command-line option or output path can be wrong, with the words the error must contain.

Each :class:`Case` is run twice by ``test_catalogue.py``, through the command line and through
the Python API, in a fresh *bundle* folder (a ``.hydro-bundle`` marker, a small EPANET model
``net.inp``, the small SWMM model ``sw.inp`` with the city's ``rainfall.toml`` beside it, a good
rain series ``rain.csv`` and a result file ``res.nc``) next to a folder ``elsewhere/`` holding
files the bundle must not reach (their content carries the word SECRET, which no message may
show). The bad files are made here from small templates, so the repository stays small, and
almost every case fails before any engine starts.

Placeholders in command lines: ``{b}`` the bundle, ``{e}`` the folder elsewhere, ``{R}`` the
repository.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EPANET = (REPO / "networks" / "examples" / "two_loops.inp").read_text()
SWMM = (REPO / "tests" / "data" / "swmm" / "tiny.inp").read_text()
SUPPLY_NET = REPO / "networks" / "xuancheng" / "supply.inp"
SECRET = "SECRET-c0ffee"
RAIN = "time,RG1\n" + "".join(f"2024-06-01 00:{m:02d},{m / 10:.1f}\n" for m in range(0, 60, 5))

Setup = Callable[[Path], None]
Api = Callable[[Path], object]


@dataclass(frozen=True)
class Case:
    """One bad input: what to write, how to run it (CLI and API), what the error must say."""

    id: str
    expect: str
    cli: tuple[str, ...]
    api: Api | None
    files: Mapping[str, str | bytes] = field(default_factory=dict)
    setup: Setup | None = None


CASES: list[Case] = []


def case(id, expect, cli, api, files=None, setup=None) -> None:
    CASES.append(Case(id, expect, tuple(cli), api, dict(files or {}), setup))


# ------------------------------------------------------------------------------------------------
# API calls (imported when run, so that collecting the catalogue stays quick)


def api_run(name: str) -> Api:
    def call(b: Path):
        import hydro

        return hydro.run(b / name)

    return call


def api_scenario(name: str = "s.toml") -> Api:
    def call(b: Path):
        import hydro

        return hydro.run_scenario(b / name)

    return call


def api_drainage_check(name: str = "d.toml") -> Api:
    def call(b: Path):
        from hydro.drainage.scenario import build_input, load_scenario

        return build_input(load_scenario(b / name))

    return call


def api_plan(name: str = "e.toml", **kwargs) -> Api:
    def call(b: Path):
        from hydro.ensemble.plan import load_plan, run_plan

        return run_plan(load_plan(b / name), b / "out", **kwargs)

    return call


def api_score(name: str, output: str = "s.nc", **kwargs) -> Api:
    def call(b: Path):
        from hydro.scoring import score_file

        extra = {k: (b / v if isinstance(v, str) else v) for k, v in kwargs.items()}
        return score_file(b / name, output=b / output, **extra)

    return call


def api_write(target: str, inputs: tuple[str, ...] = ("net.inp",)) -> Api:
    def call(b: Path):
        import xarray as xr

        from hydro.results import write_netcdf

        ds = xr.Dataset({"x": ("scenario", [1.0])}, coords={"scenario": ["a"]})
        return write_netcdf(ds, _place(target, b), inputs=[b / i for i in inputs])

    return call


def api_rain(name: str, **kwargs) -> Api:
    def call(b: Path):
        from hydro.rain import read_rain_csv

        return read_rain_csv(b / name, **kwargs)

    return call


def api_study(**kwargs) -> Api:
    def call(b: Path):
        from hydro.supply.capacity_study import capacity_study

        return capacity_study(b / "s.toml", **{"workers": 1, **kwargs})

    return call


def api_plan_into(output: str) -> Api:
    def call(b: Path):
        from hydro.ensemble.plan import run_plan

        return run_plan(b / "e.toml", b / output)

    return call


def _place(text: str, b: Path) -> Path:
    return Path(text.format(b=b, e=b.parent / "elsewhere", R=REPO))


# ------------------------------------------------------------------------------------------------
# Setups: special files


def fifo(name: str) -> Setup:
    return lambda b: os.mkfifo(b / name)


def folder(name: str) -> Setup:
    return lambda b: (b / name).mkdir(parents=True)


def link(name: str, target: str) -> Setup:
    return lambda b: (b / name).symlink_to(_place(target, b))


def huge(name: str, size: int) -> Setup:
    def make(b: Path) -> None:
        with open(b / name, "wb") as fh:
            fh.truncate(size)  # sparse: costs no disk

    return make


# ------------------------------------------------------------------------------------------------
# 1. EPANET models (hydro run)


def epanet(old: str, new: str) -> str:
    assert old in EPANET, old
    return EPANET.replace(old, new, 1)


RUN_EPANET = ("run", "{b}/m.inp", "-o", "{b}/out.nc")
for id, old, new, expect in [
    ("nan-length", "1000    300", "NaN    300", "'NaN' is not a finite number"),
    ("inf-diameter", "800     200", "800  inf", "'inf' is not a finite number"),
    ("neg-inf-roughness", "600     150   120", "600 150 -inf", "'-inf' is not a finite"),
    ("overflow-elevation", "J2   15", "J2   1e999", "'1e999' is not a finite number"),
    ("nan-demand", "J1   20    10", "J1   20    nan", "'nan' is not a finite number"),
    ("infinity-pattern", "P1  0.5", "P1  Infinity", "'Infinity' is not a finite"),
    ("nan-tank-level", "T1  50   3", "T1  50   NAN", "'NAN' is not a finite number"),
    ("inf-reservoir-head", "R1   60", "R1   +inf", "'+inf' is not a finite number"),
    ("nan-minor-loss", "120    0     Open\nP2", "120    nan     Open\nP2", "is not a finite"),
]:
    case(f"inp-epanet-{id}", expect, RUN_EPANET, api_run("m.inp"), {"m.inp": epanet(old, new)})

for id, content, expect in [
    ("empty", "", "the file is empty"),
    ("blank", "\n\n   \n", "the file is empty"),
    ("binary", b"\x00\x01\x02[JUNCTIONS]\x00", "is a binary file"),
    ("no-sections", "just some text\nwith lines\n", "no [SECTION] headers"),
    ("undecodable", bytes(range(0x80, 0x100)) * 4, "cannot decode the text"),
    ("neither-engine", "[JUNCTIONS]\nJ1 10\n[OPTIONS]\n", "neither an EPANET nor a SWMM"),
    ("unknown-node", epanet("P1   R1  J1", "P1   R1  JX"), "JX"),
    ("duplicate-id", epanet("J3   10", "J2   10"), "J2"),
    (
        "no-source",
        "[JUNCTIONS]\nJ1 10 1\nJ2 10 1\n[PIPES]\nP1 J1 J2 100 100 100\n",
        "no tanks or reservoirs",
    ),
    ("negative-length", epanet("1000    300", "-1000    300"), "EPANET"),
    ("zero-diameter", epanet("800     200", "800     0"), "EPANET"),
]:
    case(f"inp-epanet-{id}", expect, RUN_EPANET, api_run("m.inp"), {"m.inp": content})

case("inp-missing", "no such file", RUN_EPANET, api_run("m.inp"))
case("inp-folder", "is a folder", RUN_EPANET, api_run("m.inp"), setup=folder("m.inp"))
case("inp-fifo", "not a regular file", RUN_EPANET, api_run("m.inp"), setup=fifo("m.inp"))
case(
    "inp-dev-zero",
    "not a regular file",
    RUN_EPANET,
    api_run("m.inp"),
    setup=link("m.inp", "/dev/zero"),
)
case(
    "inp-too-large", "larger than", RUN_EPANET, api_run("m.inp"), setup=huge("m.inp", (2 << 30) + 1)
)


# ------------------------------------------------------------------------------------------------
# 2. SWMM models (hydro run)


def swmm(old: str, new: str) -> str:
    assert old in SWMM, old
    return SWMM.replace(old, new, 1)


RUN_SWMM = ("run", "{b}/w.inp", "-o", "{b}/out.nc")
for id, old, new, expect in [
    ("nan-length", "J1    J2  100", "J1    J2  nan", "'nan' is not a finite number"),
    ("inf-roughness", "100     0.013", "100     inf", "'inf' is not a finite number"),
    ("nan-area", "J1      5     80", "J1      NaN     80", "'NaN' is not a finite"),
    ("overflow-width", "300    1.0", "1e400    1.0", "'1e400' is not a finite"),
    ("nan-rain", "storm   0:30  60", "storm   0:30  nan", "'nan' is not a finite number"),
    ("inf-depth", "J1      10.0       1.5", "J1      10.0       inf", "'inf' is not a finite"),
    ("nan-outfall", "O1      9.0", "O1      -nan", "'-nan' is not a finite number"),
    ("nan-geometry", "CIRCULAR  0.3", "CIRCULAR  nan", "'nan' is not a finite number"),
    ("unknown-node", "C2      J2    O1", "C2      J2    OX", "OX"),
    ("unknown-gage", "S1      RG1", "S1      RGX", "RGX"),
]:
    case(f"inp-swmm-{id}", expect, RUN_SWMM, api_run("w.inp"), {"w.inp": swmm(old, new)})


# ------------------------------------------------------------------------------------------------
# 3. Supply scenarios (hydro supply run)

SUPPLY = f'network = "{SUPPLY_NET}"\n'
RUN_SUPPLY = ("supply", "run", "{b}/s.toml", "-o", "{b}/out.nc")


def supply(id: str, body: str, expect: str, files=None, setup=None, head: str = SUPPLY) -> None:
    case(
        f"supply-{id}",
        expect,
        RUN_SUPPLY,
        api_scenario("s.toml"),
        {"s.toml": head + body, **(files or {})},
        setup,
    )


OUTAGE = '[[operations]]\ntype = "source_outage"\nsource = "shuiyang"\n'
for id, body, expect in [
    ("invalid-toml", "[time\n", "not valid TOML"),
    ("unknown-key", "netwrok = 1\n", "netwrok: unknown key"),
    ("duration-text", '[time]\nduration = "soon"\n', "cannot read 'soon' as a duration"),
    ("duration-1e30", "[time]\nduration = 1e30\n", "longer than the 100 years"),
    ("duration-99999999h", '[time]\nduration = "99999999h"\n', "longer than the 100 years"),
    ("duration-inf", "[time]\nduration = inf\n", "finite number of seconds"),
    ("duration-nan", "[time]\nduration = nan\n", "finite number of seconds"),
    ("duration-negative", "[time]\nduration = -5\n", "cannot be negative"),
    ("duration-fraction", "[time]\nduration = 1.5\n", "whole seconds"),
    ("duration-huge-clock", '[time]\nduration = "99999999:00"\n', "longer than the 100 years"),
    ("duration-bool", "[time]\nduration = true\n", "expected a duration"),
    ("step-inf", "[time]\nhydraulic_step = inf\n", "finite number of seconds"),
    ("report-step-huge", '[time]\nreport_step = "1e9d"\n', "cannot read"),
    ("pressure-nan", "[hydraulics]\nrequired_pressure = nan\n", "finite number"),
    ("pressure-huge", "[hydraulics]\nrequired_pressure = 1e6\n", "less than or equal to 1000"),
    ("pressure-zero", "[hydraulics]\nrequired_pressure = 0\n", "greater than 0"),
    ("exponent-zero", "[hydraulics]\npressure_exponent = 0\n", "greater than 0"),
    ("exponent-inf", "[hydraulics]\npressure_exponent = inf\n", "finite number"),
    ("trials-negative", "[hydraulics]\nextra_trials = -1\n", "greater than or equal to 0"),
    ("trials-huge", "[hydraulics]\nextra_trials = 1000000000\n", "less than or equal to 10000"),
    ("demand-model", '[hydraulics]\ndemand_model = "fast"\n', "demand_model"),
    ("service-head-nan", "[answers]\nservice_head = nan\n", "finite number"),
    ("service-head-text", '[answers]\nservice_head = "28 furlongs"\n', "cannot read"),
    ("unknown-share-source", '[answers]\nsources = ["nile"]\n', "unknown source 'nile'"),
    ("unknown-operation", '[[operations]]\ntype = "flood_city"\n', "unknown operation"),
    ("operation-without-type", '[[operations]]\nsource = "x"\n', "needs a 'type' key"),
    ("unknown-source", '[[operations]]\ntype = "source_outage"\nsource = "nile"\n', "nile"),
    ("outage-start-inf", OUTAGE + "start = inf\n", "finite number of seconds"),
    ("outage-end-1e30", OUTAGE + "end = 1e30\n", "longer than the 100 years"),
    ("growth-zero", '[[operations]]\ntype = "demand_growth"\nfactor = 0\n', "greater than 0"),
    ("growth-negative", '[[operations]]\ntype = "demand_growth"\nfactor = -1\n', "greater than 0"),
    (
        "growth-absurd",
        '[[operations]]\ntype = "demand_growth"\nfactor = 1e9\n',
        "less than or equal to 10",
    ),
    ("growth-nan", '[[operations]]\ntype = "demand_growth"\nfactor = nan\n', "finite number"),
    (
        "growth-year",
        '[[operations]]\ntype = "demand_growth"\nyear = 99999\n',
        "less than or equal to 2200",
    ),
    (
        "pipeline-diameter-zero",
        '[[operations]]\ntype = "gangkouwan_pipeline"\ndiameter = 0\n',
        "greater than 0",
    ),
    (
        "pipeline-diameter-neg",
        '[[operations]]\ntype = "gangkouwan_pipeline"\ndiameter = "-100 mm"\n',
        "greater than 0",
    ),
    (
        "pipeline-diameter-inf",
        '[[operations]]\ntype = "gangkouwan_pipeline"\ndiameter = inf\n',
        "finite number",
    ),
    (
        "pipeline-diameter-huge",
        '[[operations]]\ntype = "gangkouwan_pipeline"\ndiameter = "1e9 mm"\n',
        "less than or equal to 10",
    ),
    (
        "pipeline-diameter-text",
        '[[operations]]\ntype = "gangkouwan_pipeline"\ndiameter = "abc mm"\n',
        "cannot read 'abc mm'",
    ),
    (
        "pipeline-flow-overflow",
        '[[operations]]\ntype = "gangkouwan_pipeline"\nflow_cap = "1e999 m3/d"\n',
        "cannot read",
    ),
    (
        "pipeline-level-nan",
        '[[operations]]\ntype = "gangkouwan_pipeline"\nreservoir_level = nan\n',
        "finite number",
    ),
    (
        "pipeline-level-absurd",
        '[[operations]]\ntype = "gangkouwan_pipeline"\nreservoir_level = 1e7\n',
        "less than or equal to 9000",
    ),
    ("renewal-c-zero", '[[operations]]\ntype = "pipe_renewal"\nc_factor = 0\n', "greater than 0"),
    (
        "renewal-c-huge",
        '[[operations]]\ntype = "pipe_renewal"\nc_factor = 1e6\n',
        "less than or equal to 160",
    ),
]:
    supply(id, body, expect)

supply("missing-network-key", "", "network", head="")
supply("network-missing", "", "no such file", head='network = "none.inp"\n')
supply(
    "network-folder", "", "is a folder; expected an", head='network = "sub"\n', setup=folder("sub")
)
supply("network-fifo", "", "is not a regular file", head='network = "p.inp"\n', setup=fifo("p.inp"))
supply(
    "network-outside-traversal",
    "",
    "outside the folders",
    head='network = "../elsewhere/secret.inp"\n',
)
supply("network-outside-absolute", "", "outside the folders", head='network = "{E}/secret.inp"\n')
supply("network-etc-passwd", "", "outside the folders", head='network = "/etc/passwd"\n')
supply(
    "network-link-out",
    "",
    "outside the folders",
    head='network = "l.inp"\n',
    setup=link("l.inp", "{e}/secret.inp"),
)
supply("include-missing", 'include = "nothere.toml"\n', "no such scenario file", head="")
supply("include-outside", 'include = "../elsewhere/secret.toml"\n', "outside the folders", head="")
supply("include-absolute", 'include = "{E}/secret.toml"\n', "outside the folders", head="")
supply("include-loop", 'include = "s.toml"\n', "includes itself", head="")
supply("include-type", "include = 5\n", "include: expected a file name", head="")
supply("include-fifo", 'include = "f.toml"\n', "not a regular file", head="", setup=fifo("f.toml"))
supply("include-folder", 'include = "sub"\n', "is a folder", head="", setup=folder("sub"))
supply("not-utf8", "", "not UTF-8 text", head="", files={"s.toml": b"network = '\xff\xfe'\n"})
supply("too-large", "", "larger than", head="", setup=huge("s.toml", (1 << 20) + 10))
case("supply-scenario-missing", "no such scenario file", RUN_SUPPLY, api_scenario("s.toml"))
case(
    "supply-scenario-folder",
    "is a folder",
    RUN_SUPPLY,
    api_scenario("s.toml"),
    setup=folder("s.toml"),
)
case(
    "supply-scenario-fifo",
    "not a regular file",
    RUN_SUPPLY,
    api_scenario("s.toml"),
    setup=fifo("s.toml"),
)
case(
    "supply-include-diamond",
    "includes more than 64 files",
    RUN_SUPPLY,
    api_scenario("s.toml"),
    {"s.toml": 'include = ["a0.toml", "a0.toml"]\n'}
    | {f"a{k}.toml": f'include = ["a{k + 1}.toml", "a{k + 1}.toml"]\n' for k in range(12)}
    | {"a12.toml": SUPPLY},
)


# ------------------------------------------------------------------------------------------------
# 4. Drainage scenarios (hydro drainage run / check)

DRAIN = 'network = "sw.inp"\n'
DESIGN = '[rainfall.design]\nreturn_period = 5\nduration = "1h"\n'
RUN_DRAIN = ("drainage", "run", "{b}/d.toml", "-o", "{b}/out.nc")
CHECK_DRAIN = ("drainage", "check", "{b}/d.toml")


def drainage(id: str, body: str, expect: str, files=None, setup=None, check=False) -> None:
    case(
        f"drainage-{id}",
        expect,
        CHECK_DRAIN if check else RUN_DRAIN,
        api_drainage_check() if check else api_scenario("d.toml"),
        {"d.toml": DRAIN + body, **(files or {})},
        setup,
    )


SERIES = '[rainfall.series]\nfile = "r.csv"\n'
for id, body, expect in [
    ("no-rainfall-kind", "[rainfall]\n", "give either [rainfall.design] or [rainfall.series]"),
    ("both-rainfall-kinds", DESIGN + SERIES, "give either"),
    ("return-period-zero", "[rainfall.design]\nreturn_period = 0\n", "greater than 0"),
    ("return-period-negative", "[rainfall.design]\nreturn_period = -5\n", "greater than 0"),
    (
        "return-period-absurd",
        "[rainfall.design]\nreturn_period = 1e9\n",
        "less than or equal to 1000",
    ),
    ("return-period-nan", "[rainfall.design]\nreturn_period = nan\n", "finite number"),
    ("return-period-inf", "[rainfall.design]\nreturn_period = inf\n", "finite number"),
    ("return-period-text", '[rainfall.design]\nreturn_period = "often"\n', "valid number"),
    (
        "storm-duration-1e30",
        "[rainfall.design]\nreturn_period = 5\nduration = 1e30\n",
        "longer than the 100 years",
    ),
    (
        "storm-duration-zero",
        "[rainfall.design]\nreturn_period = 5\nduration = 0\n",
        "greater than 0",
    ),
    ("storm-step-zero", '[rainfall.design]\nreturn_period = 5\nstep = "0min"\n', "greater than 0"),
    (
        "storm-step-inf",
        "[rainfall.design]\nreturn_period = 5\nstep = inf\n",
        "finite number of seconds",
    ),
    (
        "peak-position",
        "[rainfall.design]\nreturn_period = 5\npeak_position = 2\n",
        "less than or equal to 1",
    ),
    (
        "peak-position-nan",
        "[rainfall.design]\nreturn_period = 5\npeak_position = nan\n",
        "finite number",
    ),
    ("pattern", '[rainfall.design]\nreturn_period = 5\npattern = "triangle"\n', "pattern"),
    ("quartile", "[rainfall.design]\nreturn_period = 5\nquartile = 7\n", "quartile"),
    (
        "formula-nan",
        DESIGN + '[rainfall.formula]\nkind = "chinese"\na = nan\nc = 0.7\nb = 10\nn = 0.7\n',
        "finite number",
    ),
    (
        "formula-n",
        DESIGN + '[rainfall.formula]\nkind = "chinese"\na = 2000\nc = 0.7\nb = 10\nn = 5\n',
        "less than 1.5",
    ),
    (
        "recession-99999999h",
        DESIGN + '[time]\nrecession = "99999999h"\n',
        "longer than the 100 years",
    ),
    ("recession-inf", DESIGN + "[time]\nrecession = inf\n", "finite number of seconds"),
    ("duration-zero", DESIGN + "[time]\nduration = 0\n", "greater than 0"),
    ("report-step-nan", DESIGN + "[time]\nreport_step = nan\n", "finite number of seconds"),
    ("start-text", DESIGN + '[time]\nstart = "yesterday"\n', "start"),
    ("unknown-key", DESIGN + "[time]\nrecesion = 5\n", "recesion: unknown key"),
    ("name-empty", 'name = ""\n' + DESIGN, "at least 1 character"),
    ("unknown-operation", DESIGN + '[[operations]]\ntype = "dig"\n', "unknown operation 'dig'"),
    (
        "stage-nan",
        DESIGN + '[[operations]]\ntype = "river_stage"\noutfalls = ["O1"]\nstage = nan\n',
        "finite number",
    ),
    (
        "stage-inf",
        DESIGN + '[[operations]]\ntype = "river_stage"\noutfalls = ["O1"]\nstage = inf\n',
        "finite number",
    ),
    (
        "stage-series-backwards",
        DESIGN
        + '[[operations]]\ntype = "river_stage"\noutfalls = ["O1"]\nseries = [["2h", 10.0], ["1h", 11.0]]\n',
        "series times must increase",
    ),
    (
        "stage-unknown-outfall",
        DESIGN + '[[operations]]\ntype = "river_stage"\noutfalls = ["OX"]\nstage = 10\n',
        "OX",
    ),
    (
        "blockage-fraction-one",
        DESIGN + '[[operations]]\ntype = "blockage"\nconduits = ["C1"]\nfraction = 1\n',
        "less than 1",
    ),
    (
        "blockage-fraction-nan",
        DESIGN + '[[operations]]\ntype = "blockage"\nconduits = ["C1"]\nfraction = nan\n',
        "finite number",
    ),
    (
        "blockage-unknown",
        DESIGN + '[[operations]]\ntype = "blockage"\nconduits = ["CX"]\nfraction = 0.5\n',
        "CX",
    ),
    (
        "imperviousness-two",
        DESIGN
        + '[[operations]]\ntype = "imperviousness"\nsubcatchments = ["S1"]\nimperviousness = 2\n',
        "less than or equal to 1",
    ),
    (
        "imperviousness-factor-inf",
        DESIGN + '[[operations]]\ntype = "imperviousness"\nsubcatchments = ["S1"]\nfactor = inf\n',
        "finite number",
    ),
    (
        "imperviousness-factor-huge",
        DESIGN + '[[operations]]\ntype = "imperviousness"\nsubcatchments = ["S1"]\nfactor = 1e9\n',
        "less than or equal to 100",
    ),
    (
        "extra-storage-metre",
        DESIGN
        + '[[operations]]\ntype = "imperviousness"\nsubcatchments = ["S1"]\nimperviousness = 0.5\nextra_storage = "5 m"\n',
        "less than or equal to 1",
    ),
    (
        "initial-depth-negative",
        DESIGN + '[[operations]]\ntype = "initial_state"\ndepths = { J1 = -1 }\n',
        "greater than or equal to 0",
    ),
    (
        "initial-depth-nan",
        DESIGN + '[[operations]]\ntype = "initial_state"\ndepths = { J1 = nan }\n',
        "finite number",
    ),
    (
        "initial-depth-absurd",
        DESIGN + '[[operations]]\ntype = "initial_state"\ndepths = { J1 = 1e9 }\n',
        "less than or equal to 1000",
    ),
    (
        "pump-outage-unknown",
        DESIGN + '[[operations]]\ntype = "pump_outage"\nstation = "nowhere"\n',
        "nowhere",
    ),
    (
        "pump-capacity-zero",
        DESIGN + '[[operations]]\ntype = "pump_capacity"\nstation = "x"\nfraction = 0\n',
        "greater than 0",
    ),
    (
        "hotstart-outside",
        DESIGN + '[[operations]]\ntype = "initial_state"\nhotstart = "../elsewhere/secret.hsf"\n',
        "outside the folders",
    ),
]:
    drainage(id, body, expect)

drainage(
    "network-outside",
    "",
    "outside the folders",
    files={"d.toml": 'network = "../elsewhere/secret.inp"\n' + DESIGN},
)
drainage(
    "network-absolute",
    "",
    "outside the folders",
    files={"d.toml": 'network = "/etc/passwd"\n' + DESIGN},
)
drainage(
    "network-missing", "", "no such model file", files={"d.toml": 'network = "none.inp"\n' + DESIGN}
)
drainage(
    "check-return-period-absurd",
    "[rainfall.design]\nreturn_period = 1e9\n",
    "less than or equal to 1000",
    check=True,
)
drainage(
    "check-network-outside",
    "",
    "outside the folders",
    check=True,
    files={"d.toml": 'network = "{E}/secret.inp"\n' + DESIGN},
)

# Rain series named by a drainage scenario.
for id, content, expect in [
    ("empty", "", "the file is empty"),
    ("header-only", "time,RG1\n", "no data rows"),
    ("no-gauge", "time\n2024-06-01 00:00\n", "the header names no rain gauge"),
    ("bad-time", "time,RG1\nlater,1\n2024-06-01 00:05,1\n", "is not a date and time"),
    ("bad-value", "time,RG1\n2024-06-01 00:00,lots\n2024-06-01 00:05,1\n", "is not a number"),
    ("negative", "time,RG1\n2024-06-01 00:00,-1\n2024-06-01 00:05,1\n", "is negative"),
    ("infinite", "time,RG1\n2024-06-01 00:00,inf\n2024-06-01 00:05,1\n", "not a finite number"),
    ("overflow", "time,RG1\n2024-06-01 00:00,1e999\n2024-06-01 00:05,1\n", "not a finite number"),
    ("gap", "time,RG1\n2024-06-01 00:00,nan\n2024-06-01 00:05,1\n", "missing values"),
    ("duplicate-time", "time,RG1\n2024-06-01 00:00,1\n2024-06-01 00:00,1\n", "duplicate times"),
    ("backwards", "time,RG1\n2024-06-01 00:05,1\n2024-06-01 00:00,1\n", "times go backwards"),
    (
        "irregular",
        "time,RG1\n2024-06-01 00:00,1\n2024-06-01 00:05,1\n2024-06-01 00:07,1\n",
        "irregular time step",
    ),
    ("single-row", "time,RG1\n2024-06-01 00:00,1\n", "a single row"),
    ("columns", "time,RG1\n2024-06-01 00:00,1,2\n2024-06-01 00:05,1\n", "columns; expected 2"),
    (
        "duplicate-gauge",
        "time,RG1,RG1\n2024-06-01 00:00,1,1\n2024-06-01 00:05,1,1\n",
        "appears more than once",
    ),
    ("not-utf8", b"time,RG1\n2024-06-01 00:00,\xff\n", "not a UTF-8 text file"),
]:
    drainage(f"rain-{id}", SERIES, expect, files={"r.csv": content})
    case(
        f"rain-api-{id}",
        expect,
        RUN_DRAIN,
        api_rain("r.csv"),
        {"r.csv": content, "d.toml": DRAIN + SERIES},
    )

drainage("rain-missing", SERIES, "no such rainfall file")
drainage("rain-fifo", SERIES, "not a regular file", setup=fifo("r.csv"))
drainage("rain-folder", SERIES, "is a folder", setup=folder("r.csv"))
drainage("rain-too-large", SERIES, "larger than", setup=huge("r.csv", (512 << 20) + 1))
drainage(
    "rain-foreign-traversal",
    '[rainfall.series]\nfile = "../elsewhere/secret.csv"\n',
    "outside the folders",
)
drainage(
    "rain-foreign-absolute", '[rainfall.series]\nfile = "{E}/secret.csv"\n', "outside the folders"
)
drainage("rain-etc-shadow", '[rainfall.series]\nfile = "/etc/shadow"\n', "outside the folders")
drainage("rain-link-out", SERIES, "outside the folders", setup=link("r.csv", "{e}/secret.csv"))
drainage("rain-unknown-gauge", SERIES + 'gauges = { RGX = "RG1" }\n', "RGX", files={"r.csv": RAIN})
drainage(
    "rain-unknown-column", SERIES + 'gauges = { RG1 = "nope" }\n', "nope", files={"r.csv": RAIN}
)
drainage("rain-units", SERIES + 'units = "inches"\n', "units", files={"r.csv": RAIN})


# ------------------------------------------------------------------------------------------------
# 5. Ensemble files (hydro ensemble)

RUN_PLAN = ("ensemble", "{b}/e.toml", "-o", "{b}/out")
MEMBER = {"m1.toml": DRAIN + DESIGN}
for id, body, expect, files in [
    (
        "address",
        'drainage = ["m1.toml"]\naddress = "tcp://203.0.113.9:8786"\n',
        "never taken from an ensemble file",
        MEMBER,
    ),
    ("workers-zero", 'drainage = ["m1.toml"]\nworkers = 0\n', "greater than or equal to 1", MEMBER),
    (
        "workers-negative",
        'drainage = ["m1.toml"]\nworkers = -3\n',
        "greater than or equal to 1",
        MEMBER,
    ),
    (
        "workers-absurd",
        'drainage = ["m1.toml"]\nworkers = 100000\n',
        "less than or equal to 256",
        MEMBER,
    ),
    ("workers-nan", 'drainage = ["m1.toml"]\nworkers = nan\n', "workers", MEMBER),
    ("matches-nothing", 'drainage = ["none*.toml"]\n', "matches no file", {}),
    ("lists-nothing", "", "lists no supply or drainage", {}),
    ("pattern-outside", 'drainage = ["../elsewhere/*.toml"]\n', "outside the folders", {}),
    ("pattern-absolute", 'drainage = ["{E}/*.toml"]\n', "outside the folders", {}),
    ("unknown-key", 'drainage = ["m1.toml"]\nworker = 2\n', "worker: unknown key", MEMBER),
    ("invalid-toml", "drainage = [\n", "not valid TOML", {}),
    ("not-a-list", 'drainage = "m1.toml"\n', "drainage", MEMBER),
    ("include-outside", 'include = "../elsewhere/secret.toml"\n', "outside the folders", {}),
]:
    case(f"ensemble-{id}", expect, RUN_PLAN, api_plan(), {"e.toml": body, **files})

case("ensemble-missing", "no such scenario file", RUN_PLAN, api_plan())
case("ensemble-fifo", "not a regular file", RUN_PLAN, api_plan(), setup=fifo("e.toml"))
case(
    "ensemble-output-onto-file",
    "exists and is not a folder",
    ("ensemble", "{b}/e.toml", "-o", "{b}/net.inp"),
    api_plan_into("net.inp"),
    {"e.toml": 'drainage = ["m1.toml"]\n', **MEMBER},
)
for id, address, expect in [
    ("nonsense", "nonsense", "cannot use the Dask scheduler at 'nonsense'"),
    ("bad-scheme", "gopher://127.0.0.1:8786", "unknown address scheme 'gopher'"),
    ("tls-without-certificates", "tls://127.0.0.1:9", "check your TLS configuration"),
    ("refused", "tcp://127.0.0.1:9", "Timed out trying to connect"),  # 10 s: the CLI only
]:
    case(
        f"ensemble-scheduler-{id}",
        expect,
        (*RUN_PLAN, "--scheduler", address),
        None if id == "refused" else api_plan(scheduler=address),
        {"e.toml": 'drainage = ["m1.toml"]\n', **MEMBER},
    )


def _scheduler_from_environment(b: Path):
    from hydro.ensemble.plan import run_plan

    os.environ["HYDRO_SCHEDULER"] = "nonsense"
    try:
        return run_plan(b / "e.toml", b / "out")
    finally:
        del os.environ["HYDRO_SCHEDULER"]


case(
    "ensemble-scheduler-from-environment",
    "cannot use the Dask scheduler at 'nonsense'",
    (*RUN_PLAN, "--scheduler", "nonsense"),
    _scheduler_from_environment,
    {"e.toml": 'drainage = ["m1.toml"]\n', **MEMBER},
)
case(
    "ensemble-cli-workers-zero",
    "workers must be at least 1",
    (*RUN_PLAN, "--workers", "0"),
    api_plan(workers=0),
    {"e.toml": 'drainage = ["m1.toml"]\n', **MEMBER},
)


# ------------------------------------------------------------------------------------------------
# 6. Result files (hydro score / compare)

SCORE = ("score", "{b}/x.nc", "-o", "{b}/s.nc")
for id, content, setup, expect in [
    ("missing", None, None, "no such file"),
    ("empty", b"", None, "not a readable netCDF file"),
    ("text", "this is not netCDF\n", None, "not a readable netCDF file"),
    ("garbage", b"\x89HDF\r\n\x1a\n" + b"\x00" * 64, None, "not a readable netCDF file"),
    ("folder", None, folder("x.nc"), "a folder"),
    ("fifo", None, fifo("x.nc"), "not a regular file"),
    ("inp", EPANET, None, "not a readable netCDF file"),
]:
    files = {} if content is None else {"x.nc": content}
    case(f"netcdf-{id}", expect, SCORE, api_score("x.nc"), files, setup)


def _nc(make: Callable[[], object]) -> Setup:
    def write(b: Path) -> None:
        make().to_netcdf(b / "x.nc")

    return write


def _no_hydro_vars():
    import xarray as xr

    return xr.Dataset({"foo": ("t", [1.0, 2.0])})


def _no_scenario_dim():
    import xarray as xr

    return xr.Dataset({"pressure_head": (("time", "node"), [[1.0]])}, coords={"node": ["J1"]})


case(
    "netcdf-no-hydro-variables",
    "nothing to score",
    SCORE,
    api_score("x.nc"),
    setup=_nc(_no_hydro_vars),
)
case(
    "netcdf-no-scenario-dim",
    "expected ('scenario', 'time', 'node')",
    SCORE,
    api_score("x.nc"),
    setup=_nc(_no_scenario_dim),
)
case(
    "score-onto-own-input",
    "is an input of this run",
    ("score", "{b}/res.nc", "-o", "{b}/res.nc"),
    api_score("res.nc", "res.nc"),
)
case(
    "score-onto-network",
    "is an input of this run",
    ("score", "{b}/res.nc", "--network", "{b}/net.inp", "-o", "{b}/net.inp"),
    api_score("res.nc", "net.inp", network="net.inp"),
)
case(
    "score-csv-onto-file",
    "exists and is not a folder",
    ("score", "{b}/res.nc", "-o", "{b}/s.nc", "--csv", "{b}/net.inp"),
    api_score("res.nc", "s.nc", csv="net.inp"),
)
case(
    "score-csv-onto-input",
    "exists and is not a folder",
    ("score", "{b}/res.nc", "-o", "{b}/s.nc", "--csv", "{b}/res.nc"),
    api_score("res.nc", "s.nc", csv="res.nc"),
)
case(
    "score-csv-missing-parent",
    "cannot write",
    ("score", "{b}/res.nc", "-o", "{b}/s.nc", "--csv", "/proc/tables"),
    api_score("res.nc", "s.nc", csv="/proc/tables"),
)
case(
    "score-output-missing-folder",
    "does not exist",
    ("score", "{b}/res.nc", "-o", "{b}/no/s.nc"),
    api_score("res.nc", "no/s.nc"),
)
case(
    "score-network-not-inp",
    "not an INP file",
    ("score", "{b}/res.nc", "-o", "{b}/s.nc", "--network", "{b}/rain.csv"),
    api_score("res.nc", "s.nc", network="rain.csv"),
)


def _rules(text: str) -> dict:
    return {"rules.toml": text}


def _score_rules(b: Path):
    from hydro.scoring import load_rules

    return load_rules(b / "rules.toml")


SCORE_RULES = ("score", "{b}/res.nc", "-o", "{b}/s.nc", "--rules", "{b}/rules.toml")
for id, text, expect in [
    ("invalid-toml", "[waterlogging\n", "not valid TOML"),
    ("unknown-key", "[waterlogging]\nlane = 1\n", "lane: unknown key"),
    ("lane-depth-nan", "[waterlogging]\nlane_depth = nan\n", "finite number"),
    ("depth-edges-inf", "[waterlogging]\ndepth_edges = [0.1, inf]\n", "finite number"),
    (
        "duration-edges-1e30",
        "[waterlogging]\nduration_edges = [60, 1e30]\n",
        "longer than the 100 years",
    ),
    ("service-head-inf", "[supply]\nservice_head = inf\n", "finite number"),
    ("rule", '[supply]\nrule = "square"\n', "rule"),
]:
    case(f"rules-{id}", expect, SCORE_RULES, _score_rules, _rules(text))
case(
    "rules-outside",
    "outside the folders",
    SCORE_RULES,
    _score_rules,
    _rules('include = "../elsewhere/secret.toml"\n'),
)


def _surface(b: Path):
    from hydro.scoring import read_surface_tables

    return read_surface_tables(b / "surf.csv")


SCORE_SURFACE = ("score", "{b}/res.nc", "-o", "{b}/s.nc", "--surface", "{b}/surf.csv")
for id, text, expect in [
    ("missing-column", "node,volume\nJ1,1\n", "missing column"),
    ("nan", "node,volume,depth\nJ1,nan,0.1\n", "must be a finite number"),
    ("negative", "node,volume,depth\nJ1,1,-0.1\n", "must be a finite number"),
    ("text", "node,volume,depth\nJ1,lots,0.1\n", "is not a number"),
]:
    case(f"surface-{id}", expect, SCORE_SURFACE, _surface, {"surf.csv": text})
case("surface-fifo", "not a regular file", SCORE_SURFACE, _surface, setup=fifo("surf.csv"))


def _compare(a: str, b_: str) -> Api:
    def call(b: Path):
        from hydro.report.compare import compare
        from hydro.results import read_netcdf

        return compare(read_netcdf(b / a), read_netcdf(b / b_))

    return call


case(
    "compare-missing",
    "no such file",
    ("compare", "{b}/res.nc", "{b}/none.nc"),
    _compare("res.nc", "none.nc"),
)
case(
    "compare-text",
    "not a readable netCDF file",
    ("compare", "{b}/res.nc", "{b}/net.inp"),
    _compare("res.nc", "net.inp"),
)


# ------------------------------------------------------------------------------------------------
# 7. Output paths (hydro run -o ...)

RUN_NET = ("run", "{b}/net.inp", "-o")
for id, target, setup, expect in [
    ("onto-input", "{b}/net.inp", None, "is an input of this run"),
    ("onto-input-dotted", "{b}/./sub/../net.inp", folder("sub"), "is an input of this run"),
    (
        "onto-input-hardlink",
        "{b}/hard.inp",
        lambda b: os.link(b / "net.inp", b / "hard.inp"),
        "is an input of this run",
    ),
    (
        "onto-input-symlink",
        "{b}/soft.inp",
        link("soft.inp", "{b}/net.inp"),
        "is an input of this run",
    ),
    ("onto-folder", "{b}", None, "is a folder"),
    ("onto-dev-null", "/dev/null", None, "is a device, FIFO or socket"),
    ("onto-fifo", "{b}/f.nc", fifo("f.nc"), "is a device, FIFO or socket"),
    ("onto-link-to-device", "{b}/d.nc", link("d.nc", "/dev/null"), "is a device, FIFO or socket"),
    ("missing-folder", "{b}/no/such/out.nc", None, "folder {b}/no/such does not exist"),
    ("under-a-file", "{b}/net.inp/out.nc", None, "is not a folder"),
    ("proc", "/proc/hydro-out.nc", None, "cannot write"),
    ("dot", "{b}/.", None, "is a folder"),
    ("dotdot", "{b}/..", None, "not a file name"),
]:
    case(f"output-{id}", expect, (*RUN_NET, target), api_write(target), setup=setup)

case(
    "output-scenario-onto-itself",
    "is an input of this run",
    ("supply", "run", "{b}/s.toml", "-o", "{b}/s.toml"),
    None,
    {"s.toml": SUPPLY + '[time]\nduration = "1h"\n'},
)
case(
    "output-scenario-onto-fragment",
    "is an input of this run",
    ("supply", "run", "{b}/s.toml", "-o", "{b}/c.toml"),
    None,
    {"s.toml": 'include = "c.toml"\n', "c.toml": SUPPLY},
)
case(
    "output-drainage-onto-rain",
    "is an input of this run",
    ("drainage", "run", "{b}/d.toml", "-o", "{b}/rain.csv"),
    None,
    {"d.toml": DRAIN + '[rainfall.series]\nfile = "rain.csv"\n'},
)
case(
    "output-drainage-onto-network",
    "is an input of this run",
    ("drainage", "run", "{b}/d.toml", "-o", "{b}/sw.inp"),
    None,
    {"d.toml": DRAIN + DESIGN},
)


# ------------------------------------------------------------------------------------------------
# 8. Command-line options of the capacity study

STUDY = ("supply", "study", "{b}/s.toml", "-o", "{b}/study.nc")
STUDY_FILES = {"s.toml": SUPPLY + '[time]\nduration = "1h"\n'}
for id, option, value, api_kwargs, expect in [
    ("diameters-abc", "--diameters", "abc", None, "'abc' is not a number"),
    (
        "diameters-zero",
        "--diameters",
        "0",
        {"diameters": [0.0]},
        "diameters: 0.0 m is out of range",
    ),
    ("diameters-negative", "--diameters", "-100", {"diameters": [-0.1]}, "is out of range"),
    ("diameters-nan", "--diameters", "nan", {"diameters": [float("nan")]}, "nan m is out of range"),
    ("diameters-inf", "--diameters", "inf", {"diameters": [float("inf")]}, "inf m is out of range"),
    ("diameters-empty-item", "--diameters", "800,,1000", None, "'' is not a number"),
    ("flow-caps-negative", "--flow-caps", "-5", {"flow_caps": [-5 / 86400]}, "is out of range"),
    (
        "levels-nan",
        "--levels",
        "nan",
        {"levels": [float("nan")], "diameters": [1.0]},
        "levels: nan m is out of range",
    ),
]:
    extra = () if option == "--diameters" or "levels" not in option else ("--diameters", "1000")
    case(
        f"study-{id}",
        expect,
        (*STUDY, option, value, *extra),
        api_study(**api_kwargs) if api_kwargs else None,
        STUDY_FILES,
    )
case(
    "study-both-sweeps",
    "sweep either diameters or flow caps",
    (*STUDY, "--diameters", "800", "--flow-caps", "1000"),
    api_study(diameters=[0.8], flow_caps=[0.01]),
    STUDY_FILES,
)
case(
    "study-unknown-outage",
    "unknown source 'nile'",
    (*STUDY, "--diameters", "800", "--out", "nile"),
    api_study(diameters=[0.8], outages=[["nile"]]),
    STUDY_FILES,
)
case(
    "study-plot-missing-folder",
    "does not exist",
    (*STUDY, "--diameters", "800", "--plot", "{b}/no/plot.png"),
    None,
    STUDY_FILES,
)
case(
    "study-plot-format",
    "expected a .png, .pdf, .svg file",
    (*STUDY, "--diameters", "800", "--plot", "{b}/plot.xyz"),
    None,
    STUDY_FILES,
)
case(
    "study-plot-onto-input",
    "is an input of this run",
    (*STUDY, "--diameters", "800", "--plot", "{b}/s.toml"),
    None,
    STUDY_FILES,
)
case(
    "study-output-onto-input",
    "is an input of this run",
    ("supply", "study", "{b}/s.toml", "-o", "{b}/s.toml", "--diameters", "800"),
    None,
    STUDY_FILES,
)
case(
    "study-workers-zero",
    "workers must be at least 1",
    (*STUDY, "--diameters", "800", "--workers", "0"),
    api_study(diameters=[0.8], workers=0),
    STUDY_FILES,
)


# ------------------------------------------------------------------------------------------------
# 9. Model generators (hydro synth)


def _synth(kind: str, target: str, **kwargs) -> Api:
    def call(b: Path):
        if kind == "supply":
            from hydro.synth.supply import write_supply

            return write_supply(_place(target, b), **kwargs)
        from hydro.synth.drainage import write_drainage

        return write_drainage(_place(target, b), **kwargs)

    return call


for id, kind, option, value, expect in [
    ("junctions-negative", "supply", "--junctions", "-5", "junctions must be positive"),
    ("junctions-zero", "supply", "--junctions", "0", "junctions must be positive"),
    ("junctions-absurd", "supply", "--junctions", "1000000000", "more than this generator builds"),
    ("subcatchments-negative", "drainage", "--subcatchments", "-1", "expected 100 to 100000"),
    ("subcatchments-absurd", "drainage", "--subcatchments", "1000000000", "expected 100 to 100000"),
]:
    name = "junctions" if kind == "supply" else "subcatchments"
    case(
        f"synth-{id}",
        expect,
        ("synth", kind, option, value, "-o", "{b}/new.inp"),
        _synth(kind, "{b}/new.inp", **{name: int(value)}),
    )
for id, kind, target, expect in [
    ("supply-onto-device", "supply", "/dev/null", "must be an EPANET .inp file name"),
    ("supply-onto-folder", "supply", "{b}", "must be an EPANET .inp file name"),
]:
    case(f"synth-{id}", expect, ("synth", kind, "-o", target), _synth(kind, target))
