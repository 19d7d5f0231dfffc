"""The unit-cost table of the Gangkouwan study (hydro.supply.costs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from hydro.errors import ScenarioError
from hydro.supply.costs import UnitCosts, electric_power, pump_efficiency
from hydro.supply.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]


def test_present_value_of_an_annuity_and_of_pumps_bought_again():
    costs = UnitCosts()
    # (1 - 1.08^-30) / 0.08 = 11.2578 (any annuity table)
    assert costs.annuity() == pytest.approx(11.2578, abs=1e-4)
    # Pumps of 100 kW: bought now and at year 15 (discounted 1.08^-15 = 0.3152).
    assert costs.pump_capital(100) == pytest.approx(100 * 3000 * (1 + 1.08**-15), rel=1e-9)


def test_pipe_costs_interpolate_and_never_extrapolate():
    costs = UnitCosts(pipe_per_m={800: 2000, 1200: 3600})
    assert costs.pipe(1.0) == pytest.approx(2800)
    assert costs.pipe(0.8) == pytest.approx(2000)
    with pytest.raises(ValueError, match="no cost for DN1400; the table covers DN800-DN1200"):
        costs.pipe(1.4)
    with pytest.raises(ValidationError, match="at least two diameters"):
        UnitCosts(pipe_per_m={800: 2000})


def test_pumps_are_most_efficient_at_their_rated_flow():
    q = np.array([0.0, 0.5, 1.0, 1.5, 2.5])
    eff = pump_efficiency(q, 0.82)
    assert eff[2] == pytest.approx(0.82)
    assert eff[1] == pytest.approx(0.82 * 0.75) and eff[3] == pytest.approx(0.82 * 0.75)
    assert eff[0] == eff[4] == pytest.approx(0.1)  # floor, never a division by zero
    # 100 kW of hydraulic power at the rated flow: 100 / (0.82 x 0.95) from the grid.
    drawn = electric_power(np.array([[1e5]]), np.array([[0.3]]), np.array([0.3]), UnitCosts())
    assert drawn[0, 0] == pytest.approx(1e5 / (0.82 * 0.95))


def test_a_scenario_overrides_the_costs_and_refuses_unknown_keys(tmp_path: Path):
    base = REPO / "scenarios" / "supply" / "baseline_2024.toml"
    good = tmp_path / "costs.toml"
    good.write_text(
        f'include = ["{base}"]\n[costs]\nenergy_tariff = 0.72\npipe_per_m = {{ 600 = 1500, '
        "1600 = 6000 }\n"
    )
    costs = load_scenario(good).scenario.costs
    assert costs.energy_tariff == 0.72 and costs.pipe(1.1) == pytest.approx(3750)
    assert costs.discount_rate == 0.08  # the rest as documented
    bad = tmp_path / "bad.toml"
    bad.write_text(f'include = ["{base}"]\n[costs]\nenergy_tarif = 0.72\n')
    with pytest.raises(ScenarioError, match="energy_tarif"):
        load_scenario(bad)
