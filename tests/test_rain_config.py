"""The city rainfall configuration: the bundled Xuancheng file, one-line formula swap, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from hydro.errors import InputError, ScenarioError
from hydro.rain import ChineseFormula, TabulatedFormula, load_rainfall_config

XUANCHENG = Path(__file__).resolve().parents[1] / "networks" / "xuancheng" / "rainfall.toml"

TABULATED_LINE = (
    'formula = { kind = "tabulated", name = "city table", rows = ['
    "{ return_period = 2, a = 1800.0, b = 10.0, n = 0.70 }, "
    "{ return_period = 5, a = 2300.0, b = 10.0, n = 0.70 } ] }"
)


def test_bundled_xuancheng_file_is_a_labelled_placeholder():
    config = load_rainfall_config(XUANCHENG)
    formula = config.formula.short  # nested in the city's 24-hour rainfall past 3 hours
    assert isinstance(formula, ChineseFormula)
    assert (formula.a, formula.c, formula.b, formula.n) == (3600.0, 0.76, 14.0, 0.84)
    assert config.is_placeholder
    assert "PLACEHOLDER" in formula.name
    assert "PLACEHOLDER" in XUANCHENG.read_text(encoding="utf-8")


def test_bundled_design_storm_defaults():
    config = load_rainfall_config(XUANCHENG)
    storm = config.design_storm()
    assert storm.pattern == "chicago"
    assert storm.peak_position == 0.375
    assert storm.step == 300.0 and storm.duration == 7200.0
    assert storm.return_period == 3.0
    assert storm.depth == pytest.approx(float(config.formula.depth(7200.0, 3.0)), rel=1e-12)
    assert "PLACEHOLDER" in storm.formula


def test_design_storm_overrides():
    config = load_rainfall_config(XUANCHENG)
    storm = config.design_storm(
        pattern="huff", quartile=2, return_period=20, duration=3 * 3600, step=60
    )
    assert (storm.pattern, storm.quartile, storm.return_period) == ("huff", 2, 20.0)
    assert storm.intensity.size == 180
    block = config.design_storm(pattern="alternating_block", peak_position=0.5)
    assert block.peak_position == 0.5
    with pytest.raises(ScenarioError, match=r"pattern 'chicgo' is unknown; did you mean"):
        config.design_storm(pattern="chicgo")


def test_replacing_the_formula_is_a_one_line_change(tmp_path):
    lines = XUANCHENG.read_text(encoding="utf-8").splitlines()
    formula_lines = [k for k, line in enumerate(lines) if line.startswith("formula =")]
    assert len(formula_lines) == 1
    lines[formula_lines[0]] = (
        'formula = { kind = "chinese", a = 2000.0, c = 0.65, b = 9.0, n = 0.7, name = "official" }'
    )
    path = tmp_path / "rainfall.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    config = load_rainfall_config(path)
    assert (config.formula.short.a, config.formula.name) == (2000.0, "official")
    assert not config.is_placeholder

    lines[formula_lines[0]] = TABULATED_LINE
    path.write_text("\n".join(lines), encoding="utf-8")
    config = load_rainfall_config(path)
    assert isinstance(config.formula.short, TabulatedFormula)
    assert config.design_storm().return_period == 3.0  # between the rows 2 and 5


FORMULA = 'formula = { kind = "chinese", a = 3600.0, c = 0.76, b = 14.0, n = 0.84 }\n'


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("formula = {", r"not valid TOML"),
        ("[design_storm]\n", r"key formula is missing"),
        (
            FORMULA.replace("n = 0.84", "n = 1.6"),
            r"key formula.n: Input should be less than 1.5, got 1.6",
        ),
        (FORMULA.replace("b = 14.0", "b = -1.0"), r"key formula.b: .*greater than or equal to 0"),
        (FORMULA.replace("a = 3600.0", 'a = "3600"'), r"key formula.a: .*valid number, got '3600'"),
        (FORMULA.replace("n = 0.84", "nn = 0.84"), r"unknown key formula.nn; did you mean 'n'"),
        (FORMULA.replace('"chinese"', '"weird"'), r"key formula: .*'chinese', 'tabulated'"),
        (
            FORMULA.replace("b = 14.0, n = 0.84", "b = 0.0, n = 1.2"),
            r"key formula: storm formula: n = 1.2 with b = 0",
        ),
        (
            TABULATED_LINE.replace("2300.0", "1700.0") + "\n",
            r"key formula: .*P = 5 years gives no more intensity than P = 2 years",
        ),
        (FORMULA + "[design_stom]\n", r"unknown key design_stom; did you mean 'design_storm'"),
        (FORMULA + "[design_storm]\npattern = 'chicgo'\n", r"key design_storm.pattern: .*'chicgo'"),
        (
            FORMULA + "[design_storm]\nstep_minutes = 7\n",
            r"key design_storm: duration_minutes = 120 is not a whole multiple of step_minutes = 7",
        ),
        (FORMULA + "[design_storm]\npeak_position = 1.2\n", r"key design_storm.peak_position"),
        (FORMULA + "[design_storm]\nhuff_quartile = 5\n", r"key design_storm.huff_quartile"),
    ],
)
def test_bad_files_name_the_file_and_the_key(tmp_path, text, pattern):
    path = tmp_path / "rainfall.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=pattern) as info:
        load_rainfall_config(path)
    assert str(info.value).startswith(str(path))


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such rainfall configuration file"):
        load_rainfall_config(tmp_path / "rainfall.toml")


def test_long_storms_nest_the_formula_in_the_24_hour_depth_of_the_same_frequency():
    """Up to 3 h the depth is the formula's; the 24-hour depth is mean (1 + Cv Phi) with the
    Pearson III factor (Cs = 3.5 Cv: Phi = 2.62 for 2 %, checked against scipy's own quantile);
    between, depth grows as a power law; a 24-hour Chicago storm holds every duration's depth."""
    from scipy.stats import pearson3

    config = load_rainfall_config(XUANCHENG)
    formula, long = config.formula, config.long_duration
    for period in (2, 30, 50):
        for hours in (0.5, 1, 3):
            assert formula.depth(hours * 3600, period) == pytest.approx(
                formula.short.depth(hours * 3600, period), rel=1e-12
            )
        h24 = (
            long.mean_24h_mm
            * 1e-3
            * (1 + long.cv * pearson3.ppf(1 - 1 / period, long.cs_cv * long.cv))
        )
        assert formula.depth(86400, period) == pytest.approx(h24, rel=1e-9)
        d6, d12 = formula.depth(6 * 3600, period), formula.depth(12 * 3600, period)
        assert formula.depth(3 * 3600, period) < d6 < d12 < h24
    assert formula.depth(86400, 50) == pytest.approx(0.247, abs=0.001)
    storm = config.design_storm(return_period=50, duration=86400, step=300)
    assert storm.depth == pytest.approx(formula.depth(86400, 50), rel=1e-9)
    # around its peak the nested storm holds the formula's 1-hour depth of the same frequency
    mass = storm.cumulative_depth
    peak = round(0.375 * storm.intensity.size)
    hour = mass[peak + 8] - mass[peak - 4]  # 20 min before, 40 min after: r = 0.375... of 1 h
    assert hour == pytest.approx(formula.depth(3600, 50), rel=0.05)


def test_a_24_hour_depth_below_the_formula_s_is_refused(tmp_path):
    text = XUANCHENG.read_text(encoding="utf-8").replace(
        "mean_24h_mm = 110.0", "mean_24h_mm = 30.0"
    )
    path = tmp_path / "rainfall.toml"
    path.write_text(text, encoding="utf-8")
    config = load_rainfall_config(path)
    with pytest.raises(ScenarioError, match="24-hour depth"):
        config.formula.depth(86400, 50)
