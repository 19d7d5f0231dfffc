"""Slow, obvious twin of :func:`hydro.flood.kernels.step`, for tests: whole-array numpy, no numba.

Written from the formulas in :mod:`hydro.flood.kernels` (the same grid layout and conventions), one
face orientation at a time, with padding instead of index arithmetic; the edges use a ghost cell
per side. The tests compare the two on random grids.
"""

from __future__ import annotations

import numpy as np

from hydro.flood.kernels import (
    ARRIVAL,
    CLOSED,
    DURATION,
    INFILTRATED,
    MAX_DEPTH,
    MAX_HAZARD,
    MAX_VELOCITY,
    OPEN,
    VOL_CLIPPED,
    VOL_INFILTRATION,
    G,
)


def q_centred(q, q_side, q_perp, eta_a, eta_b, hf, n2, length, dt, theta):
    """de Almeida et al. (2012) face update with the 2-D friction norm."""
    qc = theta * q + (1 - theta) * q_side
    with np.errstate(divide="ignore", invalid="ignore"):
        return (qc - G * hf * dt * (eta_b - eta_a) / length) / (
            1 + G * dt * n2 * np.hypot(q, q_perp) / hf ** (7 / 3)
        )


def interior_x(z, h, qx, qy, n2x, dt, dx, theta, min_depth):
    """New discharges on the interior x-faces, (ny, nx-1)."""
    eta = z + h
    za, zb, ea, eb = z[:, :-1], z[:, 1:], eta[:, :-1], eta[:, 1:]
    hf = np.maximum(ea, eb) - np.maximum(za, zb)
    q = qx[:, 1:-1]
    q_side = 0.5 * (qx[:, :-2] + qx[:, 2:])
    q_perp = 0.25 * (qy[:-1, :-1] + qy[1:, :-1] + qy[:-1, 1:] + qy[1:, 1:])
    new = q_centred(q, q_side, q_perp, ea, eb, hf, n2x[:, 1:-1], dx, dt, theta)
    return np.where((n2x[:, 1:-1] >= 0) & (hf > min_depth), new, 0.0)


def edge(q_out, z_in, h_in, n2, kind, value, length, dt, min_depth):
    """Outward discharge through edge faces (1-D arrays along the side)."""
    if kind == CLOSED:
        return np.zeros_like(h_in)
    eta_in = z_in + h_in
    if kind == OPEN:
        hf, eta_out = h_in, eta_in - value * length
    else:
        eta_out = np.full_like(h_in, value)
        hf = np.maximum(eta_in, eta_out) - z_in
    with np.errstate(divide="ignore", invalid="ignore"):
        new = (q_out - G * hf * dt * (eta_out - eta_in) / length) / (
            1 + G * dt * n2 * np.abs(q_out) / hf ** (7 / 3)
        )
    if kind == OPEN:
        new = np.maximum(new, 0.0)
    return np.where(hf > min_depth, new, 0.0)


def limit(h, qx, qy, dt, dx, dy):
    """Scale every cell's outgoing discharges by min(1, water held / volume going out)."""
    out = dt * (
        dy * (np.maximum(-qx[:, :-1], 0) + np.maximum(qx[:, 1:], 0))
        + dx * (np.maximum(-qy[:-1, :], 0) + np.maximum(qy[1:, :], 0))
    )
    held = h * dx * dy
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(out <= held, 1.0, held / out)
    _ny, _nx = h.shape
    # Donor of each face: the cell the water leaves; a cell outside the grid is never scaled.
    fx = np.pad(factor, ((0, 0), (1, 1)), constant_values=1.0)  # column j+1 = cell j
    qx[...] = np.where(qx > 0, qx * fx[:, :-1], qx * fx[:, 1:])
    fy = np.pad(factor, ((1, 1), (0, 0)), constant_values=1.0)
    qy[...] = np.where(qy > 0, qy * fy[:-1, :], qy * fy[1:, :])
    return factor


def step(
    z,
    h,
    qx,
    qy,
    qx_new,
    qy_new,
    *,
    n2x,
    n2y,
    n2,
    active,
    source,
    infiltration,
    capacity,
    stats,
    row_volumes,
    row_hmax,
    factor,
    bc_kind,
    bc_value,
    dt,
    t_end,
    dx,
    dy,
    rain,
    theta,
    min_depth,
    arrival_depth,
    duration_depth,
    sources=True,
    infiltrating=True,
) -> tuple[float, float]:
    """Same contract as :func:`hydro.flood.kernels.step` (``sources`` and ``infiltrating`` are
    ignored: the arrays are always used)."""
    from hydro.flood.kernels import hazard_rating

    # Interior faces: the y-faces are the x-faces of the transposed grid.
    qx_new[:, 1:-1] = interior_x(z, h, qx, qy, n2x, dt, dx, theta, min_depth)
    qy_new[1:-1, :] = interior_x(z.T, h.T, qy.T, qx.T, n2y.T, dt, dy, theta, min_depth).T
    # Edges: outward discharge per side, then signed (north and west point against the axes).
    sides = (
        ("north", qy, qy_new, (0, slice(None)), (0, slice(None)), -1.0, dy, dx),
        ("south", qy, qy_new, (-1, slice(None)), (-1, slice(None)), 1.0, dy, dx),
        ("west", qx, qx_new, (slice(None), 0), (slice(None), 0), -1.0, dx, dy),
        ("east", qx, qx_new, (slice(None), -1), (slice(None), -1), 1.0, dx, dy),
    )
    for k, (_, q_old, q_new, face, cell, sign, length, _) in enumerate(sides):
        out = edge(
            sign * q_old[face],
            z[cell],
            h[cell],
            n2[cell],
            int(bc_kind[k]),
            float(bc_value[k]),
            length,
            dt,
            min_depth,
        )
        q_new[face] = sign * np.where(active[cell], out, 0.0)
    factor[...] = limit(h, qx_new, qy_new, dt, dx, dy)
    volume_out = volume_in = 0.0
    for _, _, q_new, face, _, sign, _, width in sides:
        out = sign * q_new[face]
        volume_out += float(np.sum(np.maximum(out, 0.0))) * width * dt
        volume_in += float(np.sum(np.maximum(-out, 0.0))) * width * dt
    # Continuity, sources, infiltration.
    net = (qx_new[:, :-1] - qx_new[:, 1:]) / dx + (qy_new[:-1, :] - qy_new[1:, :]) / dy
    hn = h + dt * (net + rain + source)
    clipped = np.where(hn < 0, -hn, 0.0)
    hn = np.maximum(hn, 0.0)
    f = np.minimum(np.minimum(infiltration * dt, capacity - stats[INFILTRATED]), hn)
    f = np.maximum(f, 0.0)
    hn = hn - f
    hn = np.where(active, hn, h)
    f = np.where(active, f, 0.0)
    clipped = np.where(active, clipped, 0.0)
    stats[INFILTRATED] += f
    h[...] = hn
    area = dx * dy
    row_volumes[:, VOL_INFILTRATION] += f.sum(axis=1) * area
    row_volumes[:, VOL_CLIPPED] += clipped.sum(axis=1) * area
    row_hmax[:] = np.where(active, hn, 0.0).max(axis=1)
    # Statistics.
    with np.errstate(divide="ignore", invalid="ignore"):
        u = 0.5 * (qx_new[:, :-1] + qx_new[:, 1:]) / hn
        v = 0.5 * (qy_new[:-1, :] + qy_new[1:, :]) / hn
    speed = np.where(hn > min_depth, np.hypot(u, v), 0.0)
    on = active
    stats[MAX_DEPTH] = np.where(on, np.maximum(stats[MAX_DEPTH], hn), stats[MAX_DEPTH])
    stats[MAX_VELOCITY] = np.where(on, np.maximum(stats[MAX_VELOCITY], speed), stats[MAX_VELOCITY])
    first = on & (hn > arrival_depth) & np.isnan(stats[ARRIVAL])
    stats[ARRIVAL] = np.where(first, t_end, stats[ARRIVAL])
    stats[DURATION] += np.where(on & (hn > duration_depth), dt, 0.0)
    rating = np.vectorize(hazard_rating.py_func)(hn, speed)
    stats[MAX_HAZARD] = np.where(on, np.maximum(stats[MAX_HAZARD], rating), stats[MAX_HAZARD])
    return volume_out, volume_in
