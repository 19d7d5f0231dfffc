"""The surface kernel against its reference twin, and the properties every step must keep."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hydro.flood import _reference as ref
from hydro.flood import kernels as k


def random_state(seed: int, ny: int, nx: int, *, kinds=None, dry_share=0.3):
    """A grid with rough ground, patchy water, random old discharges and random forcing."""
    rng = np.random.default_rng(seed)
    z = rng.uniform(0.0, 1.0, (ny, nx))
    h = np.where(rng.random((ny, nx)) < dry_share, 0.0, rng.uniform(0.0, 1.0, (ny, nx)))
    h[rng.random((ny, nx)) < 0.1] = 0.0005  # below the minimum flow depth
    active = rng.random((ny, nx)) > 0.15
    h = np.where(active, h, 0.0)
    n = rng.uniform(0.01, 0.1, (ny, nx))
    n2x, n2y = k.face_friction(n, active)
    kinds = rng.integers(0, 3, 4) if kinds is None else np.asarray(kinds)
    values = np.where(kinds == k.OPEN, rng.uniform(1e-3, 0.1, 4), rng.uniform(0.0, 2.0, 4))
    stats = np.zeros((k.N_STATS, ny, nx))
    stats[k.ARRIVAL] = np.where(rng.random((ny, nx)) < 0.5, np.nan, 1.0)
    stats[k.INFILTRATED] = rng.uniform(0, 0.01, (ny, nx))
    return {
        "z": z,
        "h": h,
        "qx": rng.uniform(-0.3, 0.3, (ny, nx + 1)),
        "qy": rng.uniform(-0.3, 0.3, (ny + 1, nx)),
        "qx_new": np.zeros((ny, nx + 1)),
        "qy_new": np.zeros((ny + 1, nx)),
        "n2x": n2x,
        "n2y": n2y,
        "n2": n**2,
        "active": active,
        "source": np.where(rng.random((ny, nx)) < 0.2, rng.uniform(0, 1e-3, (ny, nx)), 0.0),
        "infiltration": rng.uniform(0.0, 1e-3, (ny, nx)),
        "capacity": rng.uniform(0.0, 0.02, (ny, nx)),
        "stats": stats,
        "row_volumes": np.zeros((ny, 2)),
        "row_hmax": np.zeros(ny),
        "factor": np.ones((ny, nx)),
        "bc_kind": kinds.astype(np.int64),
        "bc_value": values.astype(np.float64),
        "dt": float(rng.uniform(0.01, 2.0)),
        "t_end": 10.0,
        "dx": float(rng.uniform(0.5, 5.0)),
        "dy": float(rng.uniform(0.5, 5.0)),
        "rain": float(rng.uniform(0.0, 1e-4)),
        "theta": float(rng.uniform(0.5, 1.0)),
        "min_depth": 0.001,
        "arrival_depth": 0.01,
        "duration_depth": 0.15,
    }


def run_both(state):
    a = {key: (v.copy() if isinstance(v, np.ndarray) else v) for key, v in state.items()}
    b = {key: (v.copy() if isinstance(v, np.ndarray) else v) for key, v in state.items()}
    return k.step(**a), ref.step(**b), a, b


@given(st.integers(0, 2**31 - 1), st.integers(1, 7), st.integers(1, 40))
def test_step_matches_reference(seed, ny, nx):
    state = random_state(seed, ny, nx)
    got, want, a, b = run_both(state)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    for key in ("h", "qx_new", "qy_new", "row_volumes", "row_hmax", "factor"):
        np.testing.assert_allclose(a[key], b[key], rtol=1e-10, atol=1e-12, err_msg=key)
    np.testing.assert_allclose(a["stats"], b["stats"], rtol=1e-10, atol=1e-12, equal_nan=True)


@given(st.integers(0, 2**31 - 1), st.integers(1, 7), st.integers(1, 40))
def test_step_keeps_depths_and_volume(seed, ny, nx):
    """No negative depth; the volume changes by exactly the sources, the edges and infiltration."""
    state = random_state(seed, ny, nx)
    area = state["dx"] * state["dy"]
    before = state["h"].sum() * area
    infiltrated = state["stats"][k.INFILTRATED].copy()
    vo, vi = k.step(**state)
    h = state["h"]
    assert (h >= 0).all()
    added = (
        (state["rain"] * state["active"].sum() + state["source"][state["active"]].sum())
        * state["dt"]
        * area
    )
    infil, clipped = state["row_volumes"].sum(axis=0)
    assert clipped <= 1e-12 * max(before, 1.0)
    assert h.sum() * area == pytest.approx(before + added + vi - vo - infil, rel=1e-12, abs=1e-12)
    now = state["stats"][k.INFILTRATED]
    assert (now >= infiltrated).all()
    assert (now <= np.maximum(state["capacity"], infiltrated) + 1e-15).all()


def test_lake_at_rest_is_exact():
    """A level lake over bumps (some emerged) makes no flux at all: still water stays still."""
    ny, nx = 20, 30
    yy, xx = np.mgrid[0:ny, 0:nx]
    z = 0.8 * np.exp(-((xx - 8) ** 2 + (yy - 10) ** 2) / 8) + 1.5 * np.exp(
        -((xx - 20) ** 2 + (yy - 6) ** 2) / 10
    )
    h = np.maximum(1.0 - z, 0.0)
    state = random_state(1, ny, nx, kinds=[k.CLOSED] * 4)
    state.update(
        z=z,
        h=h.copy(),
        qx=np.zeros((ny, nx + 1)),
        qy=np.zeros((ny + 1, nx)),
        active=np.ones((ny, nx), bool),
        source=np.zeros((ny, nx)),
        rain=0.0,
        infiltration=np.zeros((ny, nx)),
    )
    state["n2x"], state["n2y"] = k.face_friction(np.full((ny, nx), 0.03), state["active"])
    k.step(**state)
    assert np.abs(state["qx_new"]).max() == 0 and np.abs(state["qy_new"]).max() == 0
    assert np.array_equal(state["h"], h)


def test_inverse_cube_root_to_an_ulp():
    """Over every depth a face can see (1e-12 m to 1 km) and a float32's normal range."""
    x = np.concatenate(
        [np.geomspace(1e-12, 1e6, 20001), np.random.default_rng(0).random(1000), [1.2e-38, 3e38]]
    )
    got = np.array([k.inv_cube_root(v) for v in x])
    np.testing.assert_allclose(got, 1.0 / np.cbrt(x), rtol=2e-16 * 4)


def test_hazard_rating_fd2320():
    """HR = d (v + 0.5) + DF, DF 0 up to 0.25 m and 1 deeper (urban row)."""
    assert k.hazard_rating(0.2, 1.0) == pytest.approx(0.3)
    assert k.hazard_rating(0.5, 2.0) == pytest.approx(0.5 * 2.5 + 1.0)
    assert k.hazard_rating(0.0, 3.0) == 0.0


def test_time_step_cfl():
    # theta = 1, square cells: Bates et al.'s dx / sqrt(2 g h) times cfl.
    assert k.time_step(1.0, dx=5.0, dy=5.0, theta=1.0, cfl=0.9, max_step=60.0) == pytest.approx(
        0.9 * 5.0 / np.sqrt(2 * k.G)
    )
    assert k.time_step(1.0, dx=10.0, dy=5.0, theta=0.7, cfl=1.0, max_step=60.0) == pytest.approx(
        np.sqrt(0.7) / (np.sqrt(k.G) * np.sqrt(1 / 100 + 1 / 25))
    )
    assert k.time_step(0.0, dx=10.0, dy=10.0, theta=0.7, cfl=0.9, max_step=3.0) == 3.0


@pytest.mark.parametrize(("cfl", "stable"), [(1.0, True), (1.25, False)])
def test_stability_limit(cfl, stable):
    """Still water over a gentle 2-D mound, almost no friction: round-off (1e-17) must not grow
    at the stability limit, and does grow 25 % beyond it (the limit is the right one)."""
    ny, nx, dx = 20, 50, 0.5
    yy, xx = np.mgrid[0:ny, 0:nx] * dx
    z = 0.2 * np.exp(-((xx - 18.0) ** 2 + (yy - 5.0) ** 2) / 2.0)
    h = np.maximum(0.15 - z, 0.0)
    h[h > 0] += 1e-12 * np.random.default_rng(5).random(int((h > 0).sum()))  # round-off seed
    state = random_state(3, ny, nx, kinds=[k.CLOSED] * 4)
    active = np.ones((ny, nx), bool)
    n2x, n2y = k.face_friction(np.full((ny, nx), 1e-4), active)
    state.update(
        z=z,
        h=h,
        qx=np.zeros((ny, nx + 1)),
        qy=np.zeros((ny + 1, nx)),
        active=active,
        n2x=n2x,
        n2y=n2y,
        source=np.zeros((ny, nx)),
        rain=0.0,
        theta=0.7,
        infiltration=np.zeros((ny, nx)),
        dx=dx,
        dy=dx,
    )
    state["dt"] = k.time_step(h.max(), dx=dx, dy=dx, theta=0.7, cfl=cfl, max_step=10.0)
    for _ in range(300):
        k.step(**state)
        state["qx"], state["qx_new"] = state["qx_new"], state["qx"]
        state["qy"], state["qy_new"] = state["qy_new"], state["qy"]
    grown = np.abs(state["qx"]).max()
    assert (grown < 1e-12) if stable else (grown > 1e-3)
