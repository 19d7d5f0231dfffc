"""Break, repair and surge screening of a raw-water main (hydro.supply.surge)."""

from __future__ import annotations

import numpy as np
import pytest

from hydro.supply.surge import (
    Reliability,
    break_outage,
    pressure_class,
    screen_profile,
    surge_head,
)


def test_joukowsky_and_a_slow_closure():
    params = Reliability(wave_speed=1000.0, closure_seconds=300.0)
    area = np.pi / 4  # DN1000
    rise, slow = surge_head(area * 1.0, 1.0, 45_000, params)  # 1 m/s stopped
    assert rise == pytest.approx(1000 / 9.80665)  # a V / g
    assert slow == pytest.approx(2 * 45_000 * 1.0 / (9.80665 * 300))  # 2 L V / (g T)
    # A closure within the pipe period (2 L / a = 90 s) is no slower than Joukowsky.
    fast = Reliability(wave_speed=1000.0, closure_seconds=10.0)
    assert surge_head(area, 1.0, 45_000, fast)[1] == pytest.approx(rise)


def test_pressure_classes_and_the_profile_screen():
    assert pressure_class(60.0) == 0.6  # 0.588 MPa
    assert pressure_class(62.0) == 1.0
    assert pressure_class(250.0) == 2.5
    assert np.isnan(pressure_class(400.0))
    head = np.array([120.0, 110.0, 100.0])
    ground = np.array([30.0, 90.0, 40.0])
    screen = screen_profile(head, ground, 50.0)
    assert screen["max_pressure"] == pytest.approx(140.0) and screen["max_at"] == 0
    assert screen["min_pressure"] == pytest.approx(-30.0) and screen["min_at"] == 1
    assert screen["pressure_class"] == 1.6 and screen["column_separation"] == 1


def test_line_valves_shorten_the_outage_by_the_refill():
    params = Reliability()  # 5 km between valves, 0.3 m/s refill, 6 h + 3 d + 24 h
    valved = break_outage(45_000, 1.0, params)
    whole = break_outage(45_000, 1.0, params, valved=False)
    assert valved["drained_length"] == 5000 and whole["drained_length"] == 45_000
    assert valved["drained_volume"] == pytest.approx(5000 * np.pi / 4)
    assert valved["refill_time"] == pytest.approx(5000 / 0.3)
    fixed = (6 + 72 + 24) * 3600
    assert valved["outage_time"] == pytest.approx(fixed + 5000 / 0.3)
    assert whole["outage_time"] - valved["outage_time"] == pytest.approx(40_000 / 0.3)
