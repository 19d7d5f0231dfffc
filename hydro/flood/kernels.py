"""The local-inertial surface kernel: one time step of shallow water on a regular grid.

Scheme: the local-inertial approximation of the shallow-water equations (advection dropped) on a
staggered grid, with the q-centred discretisation of de Almeida, Bates, Freer and Souvignet (2012),
"Improving the stability of a simple formulation of the shallow water equations for 2-D flood
modeling", Water Resources Research 48, W05528, and its 2-D friction of de Almeida and Bates (2013),
WRR 49, as in LISFLOOD-FP (Bates, Horritt and Fewtrell 2010, J. Hydrology 387) and Itzï (Courty,
Pedrozo-Acuña and Bates 2017, GMD 10). Per face, with unit-width discharge q [m2/s]:

    q_new = (theta*q + (1-theta)/2*(q_prev + q_next) - g*hf*dt*dEta/dx)
            / (1 + g*dt*n^2*|q_vec| / hf^(7/3))

    hf      flow depth at the face: max(eta_a, eta_b) - max(z_a, z_b) (Bates et al. 2010, eq. 9)
    q_prev/q_next  the two faces up- and downstream along the flow direction (old step)
    |q_vec| sqrt(q^2 + q_perp^2), q_perp the mean of the four orthogonal faces around the face
    n       Manning's coefficient, mean of the two cells [s m^-1/3]

and the continuity equation per cell: h_new = h + dt*(sum of inflows - outflows)/cell size
+ dt*(rain + external sources) - infiltration.

Wet/dry: a face carries no flow when hf <= min_depth (de Almeida et al. 2012, sec. 4). Depth
limiter (ours, stated): when the outgoing discharges of a cell would take more water in one step
than the cell holds, they are all scaled down by the same factor (held water / outgoing volume),
so no depth goes below zero and no water is made or lost; it only bites at shallow fronts on steep
slopes, where the explicit scheme would otherwise overshoot and oscillate.

Grid layout, shared with :mod:`hydro.flood._reference`: cell (i, j) is row i (north to south) and
column j (west to east); qx (ny, nx+1) holds the faces west of column j (qx[:, nx] the east
edge), positive eastwards; qy (ny+1, nx) the faces north of row i, positive southwards. Arrays are
float64 (mass balance to 1e-12 of the volume over a long run needs it).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

G = 9.80665  # m s-2

# Boundary kinds per side (north, south, west, east); a side's value is the slope or the level.
CLOSED, OPEN, LEVEL = 0, 1, 2
SIDES = ("north", "south", "west", "east")

# Statistics held per cell across steps (rows of ``stats``).
MAX_DEPTH, MAX_VELOCITY, ARRIVAL, DURATION, MAX_HAZARD, INFILTRATED = range(6)
N_STATS = 6
# Running volumes per row (columns of ``row_volumes``): infiltrated, clipped (negative depth set to 0).
VOL_INFILTRATION, VOL_CLIPPED = 0, 1


@intrinsic
def _float_bits(typingctx, x):
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _bits_float(typingctx, i):
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@numba.njit(cache=True, inline="always")
def cube_root(x):
    """x^(1/3) for x > 0, to 1 ulp: a third of the exponent bits as first guess (the classic
    bit trick, ~5 %), then three Halley steps y <- y (y^3 + 2x) / (2y^3 + x), each cubing the
    error. Twice as fast as libm's cbrt, which was half the cost of a face update."""
    y = _bits_float(_float_bits(x) // 3 + 0x2A9F7893782DA1CE)
    for _ in range(3):
        y3 = y * y * y
        y = y * (y3 + 2.0 * x) / (2.0 * y3 + x)
    return y


@numba.njit(cache=True, inline="always")
def _face_flux(q, q_side, q_perp, eta_a, eta_b, hf, n2, dx, dt, theta):
    """The q-centred update of one face; a -> b is the positive direction."""
    qc = theta * q + (1.0 - theta) * q_side
    slope = (eta_b - eta_a) / dx
    qnorm = math.sqrt(q * q + q_perp * q_perp)
    return (qc - G * hf * dt * slope) / (1.0 + G * dt * n2 * qnorm / (hf * hf * cube_root(hf)))


@numba.njit(cache=True, parallel=True)
def _fluxes(z, h, qx, qy, qx_new, qy_new, n2x, n2y, dt, dx, dy, theta, min_depth):
    """Interior faces of qx_new and qy_new from the old state (h, qx, qy)."""
    ny, nx = h.shape
    for i in numba.prange(ny):
        for j in range(1, nx):
            n2 = n2x[i, j]
            if n2 < 0.0:  # closed face (a side is outside or a building)
                qx_new[i, j] = 0.0
                continue
            za, zb = z[i, j - 1], z[i, j]
            ea, eb = za + h[i, j - 1], zb + h[i, j]
            hf = max(ea, eb) - max(za, zb)
            if hf <= min_depth:
                qx_new[i, j] = 0.0
                continue
            q = qx[i, j]
            q_perp = 0.25 * (qy[i, j - 1] + qy[i + 1, j - 1] + qy[i, j] + qy[i + 1, j])
            qx_new[i, j] = _face_flux(
                q, 0.5 * (qx[i, j - 1] + qx[i, j + 1]), q_perp, ea, eb, hf, n2, dx, dt, theta
            )
        if i == 0:
            continue
        for j in range(nx):
            n2 = n2y[i, j]
            if n2 < 0.0:
                qy_new[i, j] = 0.0
                continue
            za, zb = z[i - 1, j], z[i, j]
            ea, eb = za + h[i - 1, j], zb + h[i, j]
            hf = max(ea, eb) - max(za, zb)
            if hf <= min_depth:
                qy_new[i, j] = 0.0
                continue
            q = qy[i, j]
            q_perp = 0.25 * (qx[i - 1, j] + qx[i - 1, j + 1] + qx[i, j] + qx[i, j + 1])
            qy_new[i, j] = _face_flux(
                q, 0.5 * (qy[i - 1, j] + qy[i + 1, j]), q_perp, ea, eb, hf, n2, dy, dt, theta
            )


@numba.njit(cache=True)
def _edge_flux(q, z_in, h_in, n2, kind, value, width_to_ghost, dt, min_depth):
    """Outward unit discharge through one edge face of an active cell (negative: inflow).

    OPEN: the water surface falls outward with slope ``value`` (normal-depth outflow as the flow
    settles); LEVEL: a ghost cell outside at water level ``value`` on the edge cell's ground.
    ``q`` is the old outward discharge; theta = 1 on edges (no face beyond them).
    """
    eta_in = z_in + h_in
    if kind == OPEN:
        hf = h_in
        eta_out = eta_in - value * width_to_ghost
    else:
        eta_out = value
        hf = max(eta_in, eta_out) - z_in
    if hf <= min_depth:
        return 0.0
    slope = (eta_out - eta_in) / width_to_ghost
    new = (q - G * hf * dt * slope) / (1.0 + G * dt * n2 * abs(q) / (hf * hf * cube_root(hf)))
    if kind == OPEN and new < 0.0:
        return 0.0  # a free outfall never draws water in
    return new


@numba.njit(cache=True)
def _edges(z, h, qx, qy, qx_new, qy_new, n2, active, bc_kind, bc_value, dt, dx, dy, min_depth):
    """Edge faces of qx_new / qy_new (signed along the axes)."""
    ny, nx = h.shape
    for j in range(nx):
        for side, i, face, sign in ((0, 0, 0, -1.0), (1, ny - 1, ny, 1.0)):
            kind = bc_kind[side]
            if kind == CLOSED or not active[i, j]:
                qy_new[face, j] = 0.0
                continue
            qy_new[face, j] = sign * _edge_flux(
                sign * qy[face, j],
                z[i, j],
                h[i, j],
                n2[i, j],
                kind,
                bc_value[side],
                dy,
                dt,
                min_depth,
            )
    for i in range(ny):
        for side, j, face, sign in ((2, 0, 0, -1.0), (3, nx - 1, nx, 1.0)):
            kind = bc_kind[side]
            if kind == CLOSED or not active[i, j]:
                qx_new[i, face] = 0.0
                continue
            qx_new[i, face] = sign * _edge_flux(
                sign * qx[i, face],
                z[i, j],
                h[i, j],
                n2[i, j],
                kind,
                bc_value[side],
                dx,
                dt,
                min_depth,
            )


@numba.njit(cache=True, parallel=True)
def _limit(h, qx, qy, factor, dt, dx, dy):
    """Scale each cell's outgoing discharges so that they take at most the water it holds."""
    ny, nx = h.shape
    for i in numba.prange(ny):
        for j in range(nx):
            out = dt * (
                dy * (max(-qx[i, j], 0.0) + max(qx[i, j + 1], 0.0))
                + dx * (max(-qy[i, j], 0.0) + max(qy[i + 1, j], 0.0))
            )
            held = h[i, j] * dx * dy
            factor[i, j] = 1.0 if out <= held else held / out
    for i in numba.prange(ny):
        for j in range(nx + 1):
            q = qx[i, j]
            donor = j - 1 if q > 0.0 else j
            if 0 <= donor < nx:
                qx[i, j] = q * factor[i, donor]
        row = np.int64(i)  # prange's index is unsigned: i - 1 would not be
        for j in range(nx):
            q = qy[row, j]
            donor = row - 1 if q > 0.0 else row
            if donor >= 0:
                qy[row, j] = q * factor[donor, j]
            if i == ny - 1 and qy[ny, j] > 0.0:
                qy[ny, j] *= factor[i, j]


@numba.njit(cache=True)
def _edge_volumes(qx, qy, dt, dx, dy):
    """Volumes that left and entered through the grid's edges in one step [m3]."""
    ny = qx.shape[0]
    nx = qy.shape[1]
    out = 0.0
    inflow = 0.0
    for j in range(nx):
        for q in (-qy[0, j], qy[ny, j]):
            if q > 0.0:
                out += q * dx * dt
            else:
                inflow -= q * dx * dt
    for i in range(ny):
        for q in (-qx[i, 0], qx[i, nx]):
            if q > 0.0:
                out += q * dy * dt
            else:
                inflow -= q * dy * dt
    return out, inflow


@numba.njit(cache=True, parallel=True)
def _continuity(
    h,
    qx,
    qy,
    active,
    source,
    infiltration,
    capacity,
    stats,
    row_volumes,
    row_hmax,
    dt,
    t_end,
    dx,
    dy,
    rain,
    min_depth,
    arrival_depth,
    duration_depth,
    sources,
    infiltrating,
):
    """Depths after the fluxes, rain, sources and infiltration; per-cell statistics.

    ``sources`` / ``infiltrating`` say whether the source / infiltration arrays hold anything
    (a run without them does not read them).
    """
    ny, nx = h.shape
    area = dx * dy
    for i in numba.prange(ny):
        hmax = 0.0
        infil = 0.0
        clipped = 0.0
        for j in range(nx):
            if not active[i, j]:
                continue
            net = (qx[i, j] - qx[i, j + 1]) / dx + (qy[i, j] - qy[i + 1, j]) / dy + rain
            if sources:
                net += source[i, j]
            hn = h[i, j] + dt * net
            if hn < 0.0:  # round-off only: the limiter keeps fluxes inside
                clipped -= hn
                hn = 0.0
            if infiltrating and hn > 0.0:
                f = min(infiltration[i, j] * dt, capacity[i, j] - stats[INFILTRATED, i, j], hn)
                if f > 0.0:
                    hn -= f
                    stats[INFILTRATED, i, j] += f
                    infil += f
            h[i, j] = hn
            if hn <= 0.0:  # dry: no statistic can change
                continue
            if hn > hmax:
                hmax = hn
            speed = 0.0
            if hn > min_depth:
                u = 0.5 * (qx[i, j] + qx[i, j + 1])
                v = 0.5 * (qy[i, j] + qy[i + 1, j])
                speed = math.sqrt(u * u + v * v) / hn
            if hn > stats[MAX_DEPTH, i, j]:
                stats[MAX_DEPTH, i, j] = hn
            if speed > stats[MAX_VELOCITY, i, j]:
                stats[MAX_VELOCITY, i, j] = speed
            if hn > arrival_depth and not stats[ARRIVAL, i, j] <= t_end:
                stats[ARRIVAL, i, j] = t_end
            if hn > duration_depth:
                stats[DURATION, i, j] += dt
            rating = hazard_rating(hn, speed)
            if rating > stats[MAX_HAZARD, i, j]:
                stats[MAX_HAZARD, i, j] = rating
        row_hmax[i] = hmax
        row_volumes[i, VOL_INFILTRATION] += infil * area
        row_volumes[i, VOL_CLIPPED] += clipped * area


@numba.njit(cache=True, inline="always")
def hazard_rating(depth, speed):
    """Flood hazard rating HR = d*(v + 0.5) + DF (Defra/Environment Agency FD2320/TR2, 2006).

    Debris factor DF = 0 up to 0.25 m and 1.0 deeper (the urban row of FD2320 Table 3.1, the
    conservative choice for a city's streets).
    """
    if depth <= 0.0:
        return 0.0
    debris = 1.0 if depth > 0.25 else 0.0
    return depth * (speed + 0.5) + debris


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
    """Advance the surface by one time step; returns the volumes that left and entered the grid
    through its edges [m3].

    z, h (ny, nx) [m]: ground level and water depth; h is updated in place.
    qx, qy (ny, nx+1), (ny+1, nx) [m2 s-1]: unit discharges of the old step (read only);
    qx_new, qy_new: the same shapes, filled with the new step's discharges (the caller swaps).
    n2x, n2y: n^2 on the interior faces [s2 m-2/3], negative on a closed face;
    n2 (ny, nx): n^2 per cell (edge faces). active (ny, nx) bool: cells inside the domain.
    source, infiltration, capacity (ny, nx) [m s-1], [m s-1], [m]: external inflow per area,
    infiltration capacity rate and the depth the soil can take in total.
    stats (N_STATS, ny, nx): running per-cell statistics (see the module's constants), updated.
    row_volumes (ny, 2) [m3]: running infiltrated and clipped volumes per row, updated.
    row_hmax (ny,) [m]: set to each row's deepest water after the step (for the next dt).
    factor (ny, nx): scratch, filled with the depth limiter's factor per cell.
    bc_kind (4,) int64, bc_value (4,) float64: boundaries of the north, south, west, east sides.
    dt, t_end [s]: step length and the time at its end; dx, dy [m]; rain [m s-1];
    theta: q-centred weighting (1 = no diffusion); min_depth, arrival_depth, duration_depth [m].
    sources, infiltrating: False when ``source`` / ``infiltration`` are all zero (not read then).
    """
    _fluxes(z, h, qx, qy, qx_new, qy_new, n2x, n2y, dt, dx, dy, theta, min_depth)
    _edges(z, h, qx, qy, qx_new, qy_new, n2, active, bc_kind, bc_value, dt, dx, dy, min_depth)
    _limit(h, qx_new, qy_new, factor, dt, dx, dy)
    out, inflow = _edge_volumes(qx_new, qy_new, dt, dx, dy)
    _continuity(
        h,
        qx_new,
        qy_new,
        active,
        source,
        infiltration,
        capacity,
        stats,
        row_volumes,
        row_hmax,
        dt,
        t_end,
        dx,
        dy,
        rain,
        min_depth,
        arrival_depth,
        duration_depth,
        sources,
        infiltrating,
    )
    return out, inflow


def time_step(
    hmax: float, *, dx: float, dy: float, theta: float, cfl: float, max_step: float
) -> float:
    """The adaptive step [s]: ``cfl`` times the linear stability limit of the scheme,

        dt = cfl * sqrt(theta) / (sqrt(g * hmax) * sqrt(1/dx^2 + 1/dy^2))

    A von Neumann analysis of the q-centred forward-backward update on the staggered 2-D grid
    (ours) gives dt <= sqrt(theta) / (c * sqrt(dx^-2 + dy^-2)), c = sqrt(g h): the theta weighting
    shrinks the limit for the grid-scale checkerboard, and in 2-D the limit is 1/sqrt(2) of the
    1-D one. For theta = 1 it is Bates et al.'s (2010, eq. 12) dt = alpha dx / c with alpha =
    1/sqrt(2); their alpha = 0.7 with theta = 0.7 grows round-off into a checkerboard over a lake
    at rest with little friction (tests/test_flood_kernels.py shows it).
    """
    if hmax <= 0.0:
        return max_step
    limit = math.sqrt(theta) / (math.sqrt(G * hmax) * math.sqrt(1.0 / dx**2 + 1.0 / dy**2))
    return min(max_step, cfl * limit)


def face_friction(n: np.ndarray, active: np.ndarray):
    """n^2 on the interior faces (mean n of the two cells), -1 where a face is closed."""
    n = np.asarray(n, dtype=np.float64)
    nxf = np.full((n.shape[0], n.shape[1] + 1), -1.0)
    nyf = np.full((n.shape[0] + 1, n.shape[1]), -1.0)
    both = active[:, 1:] & active[:, :-1]
    nxf[:, 1:-1] = np.where(both, (0.5 * (n[:, 1:] + n[:, :-1])) ** 2, -1.0)
    both = active[1:, :] & active[:-1, :]
    nyf[1:-1, :] = np.where(both, (0.5 * (n[1:, :] + n[:-1, :])) ** 2, -1.0)
    return nxf, nyf
