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

from hydro.precompile import wait_for_background

# Never load or compile a kernel while a compile runs in another process (hydro.precompile).
wait_for_background()

G = 9.80665  # m s-2

# Boundary kinds per side (north, south, west, east); a side's value is the slope or the level.
CLOSED, OPEN, LEVEL = 0, 1, 2
SIDES = ("north", "south", "west", "east")

# Statistics held per cell across steps (rows of ``stats``).
MAX_DEPTH, MAX_VELOCITY, ARRIVAL, DURATION, MAX_HAZARD, INFILTRATED = range(6)
N_STATS = 6
# Running volumes per row (columns of ``row_volumes``): infiltrated, clipped (negative depth set to 0).
VOL_INFILTRATION, VOL_CLIPPED = 0, 1


# Speed: each kernel below is a prange over rows calling small per-row loops that are branch-free
# (a dry, closed or inactive cell computes, then keeps or stores the right value), index whole 2-D
# arrays (few alias checks) and call no libm, so that LLVM vectorises them (AVX2: 4 doubles at a
# time). ``reassoc`` lets it split a row's sums into lanes (summation order only: no NaN or
# infinity assumptions, the arrival time uses NaN for "not yet"); ``contract`` fuses mul-adds.
_ROW_MATH = {"reassoc", "nsz", "contract"}


@intrinsic
def _inv_cube_root_guess(typingctx, x):
    """x^(-1/3) to ~3.5 % for x in float32's normal range: the classic bit trick (magic constant
    minus a third of the exponent-and-mantissa bits) on x as a float32. In 32-bit integers the
    division by 3 is a multiply that AVX2 can do four or eight at a time, so loops that call it
    vectorise (the 64-bit version of the trick cannot)."""

    def codegen(context, builder, sig, args):
        i32 = ir.IntType(32)
        bits = builder.bitcast(builder.fptrunc(args[0], ir.FloatType()), i32)
        guess = builder.sub(ir.Constant(i32, 0x54A2FA8C), builder.udiv(bits, ir.Constant(i32, 3)))
        return builder.fpext(builder.bitcast(guess, ir.FloatType()), ir.DoubleType())

    return types.float64(types.float64), codegen


@intrinsic
def _bits_float(typingctx, i):
    """The double whose bits are the int64 ``i``."""

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@numba.njit(cache=True, inline="always")
def inv_cube_root(x):
    """x^(-1/3) for x in float32's normal range (1.2e-38 to 3.4e38), to 1 ulp: the bit-trick
    guess, then four Newton steps y <- y (4 - x y^3) / 3, each squaring the error (3.5 % ->
    1e-16). Multiplications only: no division, no libm call, so the face loop vectorises; libm's
    cbrt was half the cost of a face update."""
    y = _inv_cube_root_guess(x)  # type: ignore[call-arg,var-annotated]
    third = x * (1.0 / 3.0)
    for _ in range(4):
        y = y * (4.0 / 3.0 - third * (y * y * y))
    return y


@numba.njit(cache=True, inline="always")
def _friction_divisor(hf, q, q_perp, gn2dt):
    """1 + g dt n^2 |q_vec| / hf^(7/3), the semi-implicit Manning term; gn2dt = g dt n^2."""
    r = inv_cube_root(hf)
    r2 = r * r
    return 1.0 + gn2dt * math.sqrt(q * q + q_perp * q_perp) * (r2 * r2 * r2 * r)


@numba.njit(cache=True, fastmath=_ROW_MATH)
def _x_faces(z, h, qx, qy, n2x, qx_new, i, g_dt_dx, g_dt, theta, md):
    """The q-centred update of row i's interior x-faces (face j + 1 between cells j and j + 1).

    Branch-free (a closed or dry face computes, then stores 0) so that LLVM vectorises the loop;
    the arrays are indexed whole, not as row slices, which keeps its alias checks few enough.
    """
    side = 0.5 * (1.0 - theta)
    for j in range(qx_new.shape[1] - 2):
        za = z[i, j]
        zb = z[i, j + 1]
        ea = za + h[i, j]
        eb = zb + h[i, j + 1]
        hf = max(ea, eb) - max(za, zb)
        hs = max(hf, md)  # what the friction sees on a face that stores 0 anyway
        q = qx[i, j + 1]
        q_perp = 0.25 * (qy[i, j] + qy[i + 1, j] + qy[i, j + 1] + qy[i + 1, j + 1])
        qc = theta * q + side * (qx[i, j] + qx[i, j + 2])
        n2 = n2x[i, j + 1]
        new = (qc - g_dt_dx * hs * (eb - ea)) / _friction_divisor(hs, q, q_perp, g_dt * n2)
        qx_new[i, j + 1] = new if (n2 >= 0.0 and hf > md) else 0.0


@numba.njit(cache=True, fastmath=_ROW_MATH)
def _y_faces(z, h, qx, qy, n2y, qy_new, i, g_dt_dy, g_dt, theta, md):
    """The same for the y-faces north of row i (between cells (i - 1, j) and (i, j)), i >= 1."""
    side = 0.5 * (1.0 - theta)
    for j in range(qy_new.shape[1]):
        za = z[i - 1, j]
        zb = z[i, j]
        ea = za + h[i - 1, j]
        eb = zb + h[i, j]
        hf = max(ea, eb) - max(za, zb)
        hs = max(hf, md)
        q = qy[i, j]
        q_perp = 0.25 * (qx[i - 1, j] + qx[i - 1, j + 1] + qx[i, j] + qx[i, j + 1])
        qc = theta * q + side * (qy[i - 1, j] + qy[i + 1, j])
        n2 = n2y[i, j]
        new = (qc - g_dt_dy * hs * (eb - ea)) / _friction_divisor(hs, q, q_perp, g_dt * n2)
        qy_new[i, j] = new if (n2 >= 0.0 and hf > md) else 0.0


@numba.njit(cache=True, parallel=True)
def _fluxes(z, h, qx, qy, qx_new, qy_new, n2x, n2y, dt, dx, dy, theta, min_depth):
    """Interior faces of qx_new and qy_new from the old state (h, qx, qy)."""
    g_dt = G * dt
    for i in numba.prange(h.shape[0]):
        _x_faces(z, h, qx, qy, n2x, qx_new, i, g_dt / dx, g_dt, theta, min_depth)
        if i > 0:
            _y_faces(z, h, qx, qy, n2y, qy_new, i, g_dt / dy, g_dt, theta, min_depth)


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
    new = (q - G * hf * dt * slope) / _friction_divisor(hf, q, 0.0, G * dt * n2)
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


@numba.njit(cache=True, fastmath=_ROW_MATH)
def _limit_row(h, qx, qy, factor, i, dt_dy, dt_dx, area):
    """factor = min(1, water held / water going out) for row i's cells."""
    for j in range(h.shape[1]):
        out = dt_dy * (max(-qx[i, j], 0.0) + max(qx[i, j + 1], 0.0)) + dt_dx * (
            max(-qy[i, j], 0.0) + max(qy[i + 1, j], 0.0)
        )
        held = h[i, j] * area
        factor[i, j] = 1.0 if out <= held else held / out


@numba.njit(cache=True)
def _scale_x(qx, factor, i):
    """Row i's interior x-faces, scaled by the factor of the cell the water leaves."""
    for j in range(factor.shape[1] - 1):
        west = factor[i, j]  # both loaded: a conditional load would stop the loop vectorising
        east = factor[i, j + 1]
        qx[i, j + 1] *= west if qx[i, j + 1] > 0.0 else east


@numba.njit(cache=True)
def _scale_y(qy, factor, i):
    """The y-faces north of row i (i >= 1), the same way."""
    for j in range(factor.shape[1]):
        north = factor[i - 1, j]
        south = factor[i, j]
        qy[i, j] *= north if qy[i, j] > 0.0 else south


@numba.njit(cache=True, parallel=True)
def _limit(h, qx, qy, factor, dt, dx, dy):
    """Scale each cell's outgoing discharges so that they take at most the water it holds."""
    ny, nx = h.shape
    for i in numba.prange(ny):
        _limit_row(h, qx, qy, factor, i, dt * dy, dt * dx, dx * dy)
    for i in numba.prange(ny):
        _scale_x(qx, factor, i)
        if qx[i, 0] < 0.0:  # edge faces: only water leaving the grid is limited
            qx[i, 0] *= factor[i, 0]
        if qx[i, nx] > 0.0:
            qx[i, nx] *= factor[i, nx - 1]
        if i > 0:
            _scale_y(qy, factor, i)
        else:
            for j in range(nx):
                if qy[0, j] < 0.0:
                    qy[0, j] *= factor[0, j]
        if i == ny - 1:
            for j in range(nx):
                if qy[ny, j] > 0.0:
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


@numba.njit(cache=True, fastmath=_ROW_MATH)
def _depth_row(h, qx, qy, active, source, i, dt, dx, dy, rain, sources):
    """Row i: h += dt (net inflow per area + rain + sources) on active cells, clipped at 0;
    returns the clipped depth summed over the row [m]."""
    clipped = 0.0
    for j in range(h.shape[1]):
        net = (qx[i, j] - qx[i, j + 1]) / dx + (qy[i, j] - qy[i + 1, j]) / dy + rain
        if sources:
            net += source[i, j]
        on = active[i, j]
        hn = h[i, j] + dt * net
        clipped += max(-hn, 0.0) if on else 0.0  # round-off only: the limiter keeps fluxes in
        h[i, j] = max(hn, 0.0) if on else h[i, j]
    return clipped


@numba.njit(cache=True, fastmath=_ROW_MATH)
def _infiltration_row(h, active, rate, capacity, stats, i, dt):
    """Row i: take min(rate dt, capacity left, water) from each active cell; returns the sum [m]."""
    total = 0.0
    for j in range(h.shape[1]):
        taken = stats[INFILTRATED, i, j]
        f = max(min(rate[i, j] * dt, capacity[i, j] - taken, h[i, j]), 0.0)
        f = f if active[i, j] else 0.0
        stats[INFILTRATED, i, j] = taken + f
        h[i, j] -= f
        total += f
    return total


@numba.njit(cache=True)
def _row_max(h):
    """The row's deepest water, as the largest int64 of its bits: they order non-negative doubles
    as the doubles do, and an integer maximum vectorises where a float one does not."""
    bits = h.view(np.int64)
    top = 0
    for j in range(bits.shape[0]):
        top = max(top, bits[j])
    return _bits_float(top)  # type: ignore[call-arg]


@numba.njit(cache=True, fastmath=_ROW_MATH)
def _speed_row(speed, h, qx, qy, active, i, min_depth):
    """Row i's speed at the cell centres from the mean discharge of opposite faces; 0 below
    min_depth."""
    for j in range(h.shape[1]):
        u = 0.5 * (qx[i, j] + qx[i, j + 1])
        v = 0.5 * (qy[i, j] + qy[i + 1, j])
        hj = h[i, j]
        s = math.sqrt(u * u + v * v) / max(hj, min_depth)
        speed[j] = s if (active[i, j] and hj > min_depth) else 0.0


@numba.njit(cache=True, fastmath=_ROW_MATH)
def _stats_row(stats, h, speed, active, i, dt, t_end, arrival_depth, duration_depth):
    """Row i's running maxima, arrival time and time above a depth; one loop per statistic."""
    for j in range(h.shape[1]):
        d = h[i, j] if active[i, j] else 0.0
        stats[MAX_DEPTH, i, j] = max(stats[MAX_DEPTH, i, j], d)
    for j in range(h.shape[1]):
        stats[MAX_VELOCITY, i, j] = max(stats[MAX_VELOCITY, i, j], speed[j])
    for j in range(h.shape[1]):
        r = hazard_rating(h[i, j], speed[j]) if active[i, j] else 0.0
        stats[MAX_HAZARD, i, j] = max(stats[MAX_HAZARD, i, j], r)
    for j in range(h.shape[1]):
        a = stats[ARRIVAL, i, j]
        first = active[i, j] and h[i, j] > arrival_depth and not a <= t_end  # NaN: not yet
        stats[ARRIVAL, i, j] = t_end if first else a
    for j in range(h.shape[1]):
        wet = active[i, j] and h[i, j] > duration_depth
        stats[DURATION, i, j] += dt if wet else 0.0


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
        clipped = _depth_row(h, qx, qy, active, source, i, dt, dx, dy, rain, sources)
        row_volumes[i, VOL_CLIPPED] += clipped * area
        if infiltrating:
            infil = _infiltration_row(h, active, infiltration, capacity, stats, i, dt)
            row_volumes[i, VOL_INFILTRATION] += infil * area
        row_hmax[i] = _row_max(h[i])
        speed = np.empty(nx)
        _speed_row(speed, h, qx, qy, active, i, min_depth)
        _stats_row(stats, h, speed, active, i, dt, t_end, arrival_depth, duration_depth)


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
