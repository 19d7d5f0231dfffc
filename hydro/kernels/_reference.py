"""Slow, obvious twins of the kernels, for tests: one series at a time, plain Python and numpy.

Each twin takes the same arguments as its kernel and returns the same kind of result. They are
written from the definitions, not from the kernels' streaming state machines: missing samples are
dropped first, spells are found as runs of samples above the threshold, shares use explicit sample
weights, service areas use per-station shortest paths (networkx).
"""

from __future__ import annotations

import re

import networkx as nx
import numpy as np

from hydro.kernels._common import is_trapezoid, sample_times
from hydro.kernels.flooding import FloodingStats
from hydro.kernels.ponding import LANE_DEPTH, PondingStats
from hydro.kernels.pumps import AT_CAPACITY, RUNNING_FLOW, PumpStats
from hydro.kernels.supply import SERVICE_HEAD, DominantSource, StepTotals, ZoneCompliance
from hydro.kernels.tokens import strtod

NAN = float("nan")


# --- flooding and ponding ---------------------------------------------------------------------


def series_stats(x: np.ndarray, t: np.ndarray, threshold: float, trapezoid: bool) -> dict:
    """Peak, integral and spells of one series x (T,) at times t (T,), NaN samples dropped."""
    keep = ~np.isnan(x)
    x = x[keep].astype(np.float64)
    t = t[keep]
    if x.size == 0:
        return dict.fromkeys(
            ("peak", "time_of_peak", "integral", "duration", "longest", "onset", "end", "recede"),
            NAN,
        )
    starts = np.concatenate(([0.0], t[:-1]))  # interval each sample closes (rectangle)
    if trapezoid:
        integral = float(np.sum(np.diff(t) * (x[:-1] + x[1:]) / 2))
    else:
        integral = float(np.sum((t - starts) * x))
    above = x > threshold
    spells = []  # (first index, last index, start, end)
    k = 0
    while k < x.size:
        if not above[k]:
            k += 1
            continue
        first = k
        while k + 1 < x.size and above[k + 1]:
            k += 1
        last = k
        if trapezoid:
            start = (
                t[first]
                if first == 0
                else _crossing(t[first - 1], t[first], x[first - 1], x[first], threshold)
            )
            end = (
                t[last]
                if last == x.size - 1
                else _crossing(t[last], t[last + 1], x[last], x[last + 1], threshold)
            )
        else:
            start, end = starts[first], t[last]
        spells.append((first, last, start, end))
        k += 1
    p = int(np.argmax(x))
    recede = NAN
    for first, last, _, end in spells:
        if first <= p <= last:
            recede = end - t[p]
    return {
        "peak": float(x[p]),
        "time_of_peak": float(t[p]),
        "integral": integral,
        "duration": float(sum(e - s for _, _, s, e in spells)),
        "longest": float(max((e - s for _, _, s, e in spells), default=0.0)),
        "onset": float(spells[0][2]) if spells else NAN,
        "end": float(spells[-1][3]) if spells else NAN,
        "recede": float(recede),
    }


def _crossing(t0, t1, x0, x1, threshold):
    """Time at which the line from (t0, x0) to (t1, x1) passes the threshold."""
    return t0 + (t1 - t0) * (threshold - x0) / (x1 - x0)


def _per_series(x, t, threshold, trapezoid, names):
    n_scen, _, n_elem = x.shape
    result = {name: np.full((n_scen, n_elem), np.nan) for name in names}
    for s in range(n_scen):
        for e in range(n_elem):
            stats = series_stats(x[s, :, e], t, threshold, trapezoid)
            for name in names:
                result[name][s, e] = stats[name]
    return [result[name] for name in names]


def flooding_stats(flooding_rate, dt, *, threshold=0.0, rule="trapezoid") -> FloodingStats:
    rate = np.asarray(flooding_rate)
    t = sample_times(dt, rate.shape[1])
    names = ("peak", "time_of_peak", "integral", "duration", "onset", "recede")
    return FloodingStats(*_per_series(rate, t, threshold, is_trapezoid(rule), names))


def ponding_stats(ponded_depth, dt, *, threshold=LANE_DEPTH, rule="trapezoid") -> PondingStats:
    depth = np.asarray(ponded_depth)
    t = sample_times(dt, depth.shape[1])
    names = ("peak", "time_of_peak", "duration", "longest", "onset", "end")
    return PondingStats(*_per_series(depth, t, threshold, is_trapezoid(rule), names))


def volume_to_depth(volume, table_volume, table_depth) -> np.ndarray:
    vol = np.asarray(volume, dtype=np.float64)
    out = np.full(vol.shape, np.nan)
    for n in range(vol.shape[2]):
        keep = ~np.isnan(table_volume[n])
        tv, td = table_volume[n][keep], table_depth[n][keep]
        if tv.size < 2:
            continue
        v = vol[:, :, n]
        depth = np.interp(v, tv, td)  # clamps at both ends
        slope = (td[-1] - td[-2]) / (tv[-1] - tv[-2])
        beyond = v > tv[-1]
        depth[beyond] = td[-1] + (v[beyond] - tv[-1]) * slope
        out[:, :, n] = depth
    return out.astype(np.asarray(volume).dtype)


# --- hazard -----------------------------------------------------------------------------------


def hazard_class(max_depth, duration, *, depth_edges, duration_edges, classes) -> np.ndarray:
    depth = np.asarray(max_depth, dtype=np.float64)
    dur = np.asarray(duration, dtype=np.float64)
    out = np.full(depth.shape, -1, dtype=np.int8)
    for idx in np.ndindex(depth.shape):
        if np.isnan(depth[idx]) or np.isnan(dur[idx]):
            continue
        row = sum(1 for edge in depth_edges if edge < depth[idx])
        col = sum(1 for edge in duration_edges if edge <= dur[idx])
        out[idx] = classes[row][col]
    return out


def hazard_score(classes, volume, *, weights) -> np.ndarray:
    cls = np.asarray(classes)
    vol = np.asarray(volume, dtype=np.float64)
    out = np.full(vol.shape, np.nan)
    for idx in np.ndindex(vol.shape):
        if cls[idx] >= 0:
            out[idx] = weights[cls[idx]] * vol[idx]
    return out


def rank_order(score, *, descending=True) -> np.ndarray:
    values = np.asarray(score, dtype=np.float64)
    flat = values.reshape(int(np.prod(values.shape[:-1])), values.shape[-1])
    out = np.empty(flat.shape, dtype=np.int64)
    for r, row in enumerate(flat):
        valid = [e for e in range(row.size) if not np.isnan(row[e])]
        missing = [e for e in range(row.size) if np.isnan(row[e])]
        valid.sort(key=lambda e: -row[e] if descending else row[e])  # sort() is stable
        out[r] = valid + missing
    return out.reshape(values.shape)


# --- pumps and supply -------------------------------------------------------------------------


def sample_weights(t: np.ndarray, trapezoid: bool) -> np.ndarray:
    """Weight of each sample: half of each neighbouring interval, or the interval it closes."""
    if trapezoid:
        gaps = np.diff(t)
        return np.concatenate(([0.0], gaps / 2)) + np.concatenate((gaps / 2, [0.0]))
    return np.diff(t, prepend=0.0)


def _weighted_mean(values, weights):
    """sum(w v) / sum(w); the last value when every weight is zero; NaN with no sample."""
    if values.size == 0:
        return NAN
    if weights.sum() > 0:
        return float(np.sum(weights * values) / weights.sum())
    return float(values[-1])


def pump_stats(
    flow, capacity, dt, *, eps=RUNNING_FLOW, fraction=AT_CAPACITY, rule="trapezoid"
) -> PumpStats:
    q_all = np.asarray(flow)
    n_scen, n_time, n_link = q_all.shape
    t_all = sample_times(dt, n_time)
    trap = is_trapezoid(rule)
    out = [np.full((n_scen, n_link), np.nan) for _ in PumpStats._fields]
    for s in range(n_scen):
        for e in range(n_link):
            x = q_all[s, :, e].astype(np.float64)
            keep = ~np.isnan(x)
            q, t = x[keep], t_all[keep]
            if q.size == 0:
                continue
            w = sample_weights(t, trap)
            running = np.abs(q) > eps
            at_cap = np.abs(q) >= fraction * capacity[e]
            out[0][s, e] = _weighted_mean(running.astype(float), w)
            out[1][s, e] = (
                _weighted_mean(at_cap.astype(float), w) if capacity[e] == capacity[e] else NAN
            )
            out[2][s, e] = (
                float(np.sum(w * q))
                if not trap
                else float(np.sum(np.diff(t) * (q[:-1] + q[1:]) / 2))
            )
            out[3][s, e] = float(np.max(np.abs(q)))
            if w.sum() > 0:
                out[4][s, e] = (
                    np.sum(w[running] * np.abs(q[running])) / w[running].sum()
                    if w[running].sum() > 0
                    else NAN
                )
            else:
                out[4][s, e] = float(np.abs(q[-1])) if running[-1] else NAN
    return PumpStats(*out)


def pressure_compliance(
    pressure_head, dt, *, threshold=SERVICE_HEAD, demand=None, rule="trapezoid"
) -> np.ndarray:
    p_all = np.asarray(pressure_head, dtype=np.float64)
    n_scen, n_time, n_node = p_all.shape
    d_all = np.ones_like(p_all) if demand is None else np.asarray(demand, dtype=np.float64)
    t_all = sample_times(dt, n_time)
    trap = is_trapezoid(rule)
    out = np.full((n_scen, n_node), np.nan)
    for s in range(n_scen):
        for n in range(n_node):
            keep = ~np.isnan(p_all[s, :, n]) & ~np.isnan(d_all[s, :, n])
            p, t = p_all[s, keep, n], t_all[keep]
            d = np.maximum(d_all[s, keep, n], 0.0)
            if p.size == 0:
                continue
            w = sample_weights(t, trap)
            if w.sum() == 0:  # no time elapsed: the last sample decides
                w[-1] = 1.0
            if np.sum(w * d) > 0:
                out[s, n] = np.sum(w * d * (p >= threshold)) / np.sum(w * d)
    return out


def zone_compliance(
    pressure_head, zone, *, n_zones=None, threshold=SERVICE_HEAD, demand=None
) -> ZoneCompliance:
    p_all = np.asarray(pressure_head, dtype=np.float64)
    n_scen, n_time, n_node = p_all.shape
    d_all = np.ones_like(p_all) if demand is None else np.asarray(demand, dtype=np.float64)
    labels = np.asarray(zone)
    n_z = int(labels.max()) + 1 if n_zones is None else n_zones
    fraction = np.full((n_scen, n_time, n_z), np.nan)
    weight = np.zeros((n_scen, n_time, n_z))
    for s in range(n_scen):
        for i in range(n_time):
            for z in range(n_z):
                nodes = [
                    n
                    for n in range(n_node)
                    if labels[n] == z
                    and not np.isnan(p_all[s, i, n])
                    and not np.isnan(d_all[s, i, n])
                ]
                d = np.array([max(d_all[s, i, n], 0.0) for n in nodes])
                ok = np.array([p_all[s, i, n] >= threshold for n in nodes])
                weight[s, i, z] = d.sum() if nodes else 0.0
                if weight[s, i, z] > 0:
                    fraction[s, i, z] = np.sum(d * ok) / d.sum()
    return ZoneCompliance(fraction, weight)


def dominant_source(source_share, dt, *, rule="trapezoid") -> DominantSource:
    share = np.asarray(source_share, dtype=np.float64)
    n_scen, n_time, n_node, n_src = share.shape
    t_all = sample_times(dt, n_time)
    trap = is_trapezoid(rule)
    mean = np.full((n_scen, n_node, n_src), np.nan)
    dominant = np.full((n_scen, n_node), -1, dtype=np.int64)
    for s in range(n_scen):
        for n in range(n_node):
            for k in range(n_src):
                keep = ~np.isnan(share[s, :, n, k])
                t = t_all[keep]
                mean[s, n, k] = _weighted_mean(share[s, keep, n, k], sample_weights(t, trap))
            if not np.all(np.isnan(mean[s, n])):
                dominant[s, n] = int(np.nanargmax(mean[s, n]))
    return DominantSource(mean, dominant)


# --- graph ------------------------------------------------------------------------------------


def _reversed_graph(indptr, indices) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(range(len(indptr) - 1))
    for u in range(len(indptr) - 1):
        for e in range(indptr[u], indptr[u + 1]):
            graph.add_edge(u, int(indices[e]))
    return graph


def service_areas(indptr, indices, targets) -> np.ndarray:
    """Nearest station by hop count (ties: first listed), from one shortest-path search each."""
    graph = _reversed_graph(indptr, indices)
    n = len(indptr) - 1
    dist = np.full((len(targets), n), np.inf)
    for k, target in enumerate(targets):
        for node, d in nx.single_source_shortest_path_length(graph, int(target)).items():
            dist[k, node] = d
    out = np.full(n, -1, dtype=np.int64)
    for node in range(n):
        if len(targets) and np.isfinite(dist[:, node].min()):
            out[node] = int(np.argmin(dist[:, node]))  # argmin: first of the nearest
    return out


def service_membership(indptr, indices, targets, *, through_targets=False) -> np.ndarray:
    graph = _reversed_graph(indptr, indices)
    n = len(indptr) - 1
    member = np.zeros((len(targets), n), dtype=bool)
    stations = {int(target) for target in targets}
    for k, target in enumerate(targets):
        sub = (
            graph
            if through_targets
            else graph.subgraph([v for v in graph if v == target or v not in stations])
        )
        member[k, [int(target), *nx.descendants(sub, int(target))]] = True
    return member


def account_step(
    demand,
    consumer,
    deficit,
    head,
    elevation,
    junction,
    service,
    rates,
    volumes,
    lowest,
    *,
    dt: float,
    service_head: float = SERVICE_HEAD,
    pressure_driven: bool = False,
    leaks: bool = False,
) -> StepTotals:
    """Whole-array twin of :func:`hydro.kernels.supply.account_step` (updates the same arrays)."""
    if dt >= 0:
        served_prev, asked_prev, leak_prev, at_head_prev = rates[0], rates[2], rates[3], rates[4]
        volumes[0] += served_prev * dt
        volumes[1] += (asked_prev if pressure_driven else served_prev) * dt
        if leaks:
            volumes[2] += leak_prev * dt
            volumes[3] += np.maximum(-(leak_prev * dt), 0.0)
        volumes[4] += at_head_prev * dt
    zero = np.zeros_like(demand)
    served = np.where(junction, np.maximum(consumer, 0.0), 0.0)
    missing = np.where(junction, np.maximum(deficit, 0.0), 0.0) if pressure_driven else zero
    leak = np.where(junction, demand - consumer, 0.0) if leaks else zero
    rates[:] = served, missing, served + missing, leak, zero
    pressure = head - elevation
    rates[4] = pressure >= service_head
    lowest[:] = np.minimum(lowest, pressure)
    service |= served + missing > 0
    negative = service & (pressure < 0)
    worst, low = -1, NAN
    if negative.any():
        worst = int(np.argmin(np.where(service, pressure, np.inf)))
        low = float(pressure[worst])
    return StepTotals(
        served=float(served.sum()),
        unserved=float(missing.sum()),
        leakage=float(leak.sum()),
        taken=float(np.where(junction, np.minimum(consumer, 0.0), 0.0).sum()),
        demand=float(demand.sum()),
        n_negative=int(negative.sum()),
        worst=worst,
        worst_pressure=low,
    )


# --- INP tokens (hydro.kernels.tokens) ---------------------------------------------------------

_TOKEN = re.compile(rb"[^ \t\r]+")  # EPANET's separators within a line


def _fgets(data: bytes, start: int, end: int) -> list[tuple[int, bytes]]:
    """The lines C's fgets(line, 1024, ...) reads from data[start:end], with their offsets."""
    lines, at = [], start
    while at < end:
        stop = min(end, at + 1023)
        newline = data.find(b"\n", at, stop)
        cut = stop if newline < 0 else newline + 1
        lines.append((at, data[at:cut]))
        at = cut
    return lines


def row_spans(buf, start: int, end: int, wanted: int, minimum: int) -> np.ndarray:
    """Twin of :func:`hydro.kernels.tokens.row_spans`: lines as fgets reads them, split by a
    regular expression."""
    data, rows = bytes(buf), []
    for at, line in _fgets(data, start, end):
        body = line.rstrip(b"\n").split(b";", 1)[0]
        found = [(at + m.start(), at + m.end()) for m in _TOKEN.finditer(body)]
        if len(found) >= minimum:
            rows.append((found + [(-1, -1)] * wanted)[:wanted])
    return np.array(rows, np.int64).reshape(-1, wanted, 2)


def find(buf, keys: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Twin of :func:`hydro.kernels.tokens.find` (with its hash table): a dict of the keys."""
    data = bytes(buf)
    index = {data[a:b]: i for i, (a, b) in enumerate(keys)}
    return np.array([index.get(data[a:b], -1) for a, b in queries], np.int64)


def numbers(buf, spans: np.ndarray) -> np.ndarray:
    """The values :func:`hydro.kernels.tokens.numbers` gives where it reads a token: float()."""
    data, out = bytes(buf), []
    for a, b in spans:
        try:
            out.append(float(data[a:b]) if a >= 0 else NAN)
        except ValueError:
            out.append(NAN)
    return np.array(out, np.float64)


def read_elements(text: str) -> dict:
    """Twin of :func:`hydro.supply.inp.read_elements`: sections found line by line up to [END],
    rows split by :func:`row_spans`' rule, IDs looked up in dicts (a dict of the fields, tags
    left out)."""
    data = text.encode()
    bodies: dict[str, list[tuple[int, int]]] = {}
    current, at = None, 0
    for line in data.split(b"\n"):
        stripped = line.strip(b" \t\r\n\x0b\x0c")
        if stripped.startswith(b"[") and b"]" in line:
            name = line[line.index(b"[") + 1 : line.index(b"]")].decode().strip().upper()
            if name == "END":
                break
            current = name
            bodies.setdefault(name, []).append((at + len(line), at + len(line)))
        elif current is not None:
            start, _ = bodies[current][-1]
            bodies[current][-1] = (start, at + len(line) + 1)
        at += len(line) + 1

    def rows(name: str, minimum: int) -> list[tuple[int, list[str]]]:
        return [
            (int(spans[0, 0]), [data[a:b].decode() for a, b in spans if a >= 0])
            for start, end in bodies.get(name, [])
            for spans in row_spans(data, start, min(end, len(data)), 8, minimum)
        ]

    others = sorted(rows("RESERVOIRS", 1) + rows("TANKS", 1))
    tanks = {n for n, _ in rows("TANKS", 1)}
    node_ids = [t[0] for _, t in rows("JUNCTIONS", 1)] + [t[0] for _, t in others]
    node_types = [0] * len(rows("JUNCTIONS", 1)) + [2 if n in tanks else 1 for n, _ in others]
    index = {name: i for i, name in enumerate(node_ids)}
    valves = ["PRV", "PSV", "PBV", "FCV", "TCV", "GPV", "PCV"]
    links = sorted((n, name, t) for name in ("PIPES", "PUMPS", "VALVES") for n, t in rows(name, 3))
    types = []
    for _, name, t in links:
        if name == "PUMPS":
            types.append(2)
        elif name == "PIPES":  # CV as the 7th or 8th token, by its start (EPANET's match)
            types.append(0 if any(w.upper().startswith("CV") for w in t[6:8]) else 1)
        else:
            word = (t + [""] * 5)[4].upper()
            types.append(next((3 + k for k, v in enumerate(valves) if word.startswith(v)), -1))
    x, y = np.full(len(node_ids), NAN), np.full(len(node_ids), NAN)
    for _, t in rows("COORDINATES", 3):
        values = [strtod(v) for v in t[1:3]]  # the rule, not the compiled read, is shared
        if t[0] in index and not np.isnan(values).any():
            x[index[t[0]]], y[index[t[0]]] = values
    sections = ("JUNCTIONS", "RESERVOIRS", "TANKS", "PIPES", "PUMPS", "VALVES", "COORDINATES")
    quoted = any(b'"' in data[a:b] for name in sections for a, b in bodies.get(name, []))
    return {
        "node_ids": node_ids,
        "node_types": np.array(node_types, np.int8),
        "link_ids": [t[0] for *_, t in links],
        "link_types": np.array(types, np.int8),
        "link_start": np.array([index.get(t[1], -1) for *_, t in links], np.int64),
        "link_end": np.array([index.get(t[2], -1) for *_, t in links], np.int64),
        "x": x,
        "y": y,
        "exact": not quoted,
    }
