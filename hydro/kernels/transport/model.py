"""What the transport kernel knows of a network: EPANET's codes, link volumes, adjacency."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# EPANET's stagnant-flow tolerance: 0.005 gpm, in m3/s. Links below it keep no flow direction.
STAGNANT_FLOW = 0.005 * 6.30901964e-05
# EPANET's link volume uses pi/4 rounded so; kept for equal segment volumes.
QUARTER_PI = 0.785398

JUNCTION, RESERVOIR, TANK = 0, 1, 2
MIXED, TWO_COMPARTMENT, FIFO, LIFO = 0, 1, 2, 3  # EPANET's EN_MIX1, EN_MIX2, EN_FIFO, EN_LIFO
PIPE = 1  # EPANET link type code of an ordinary pipe (check-valve pipes are 0)


@dataclass(frozen=True)
class Network:
    """What transport needs to know of a network, 0-based indexes, SI units.

    link_start, link_end : (L,) int64 node index at each end of a link.
    link_volume : (L,) float64 [m3], pi/4 * length * diameter**2 for pipes, 0 for other links.
    node_kind : (N,) int8, JUNCTION, RESERVOIR or TANK.
    tank_node : (T,) int64 node index of each tank (reservoirs excluded).
    tank_volume : (T,) float64 [m3] initial volume.
    tank_model : (T,) int8 mixing model, MIXED, TWO_COMPARTMENT, FIFO or LIFO.
    tank_mix_volume : (T,) float64 [m3] mixing-zone volume of 2COMP tanks (unused otherwise).
    tank_max_volume : (T,) float64 [m3] volume of a full tank (EPANET 2.3 lets a full tank take
      inflow and spill it; see _mix_tank).
    """

    link_start: np.ndarray
    link_end: np.ndarray
    link_volume: np.ndarray
    node_kind: np.ndarray
    tank_node: np.ndarray
    tank_volume: np.ndarray
    tank_model: np.ndarray
    tank_mix_volume: np.ndarray
    tank_max_volume: np.ndarray

    @property
    def n_nodes(self) -> int:
        return len(self.node_kind)

    @property
    def n_links(self) -> int:
        return len(self.link_start)


def link_volumes(link_type, length, diameter) -> np.ndarray:
    """(L,) [m3] EPANET's segment volume of each link: pipes only (type PIPE), others 0."""
    volume = QUARTER_PI * np.asarray(length, np.float64) * np.asarray(diameter, np.float64) ** 2
    return np.where(np.asarray(link_type) == PIPE, volume, 0.0)


def adjacency(link_start, link_end, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Links at each node, in EPANET's order (its lists are built by prepending, link 1 first).

    Returns (indptr (N+1,), links (2L,)) int64: the links of node n are
    links[indptr[n]:indptr[n + 1]], the highest link index first.
    """
    start = np.asarray(link_start, np.int64)
    end = np.asarray(link_end, np.int64)
    n_links = len(start)
    owner = np.concatenate([start, end])
    link = np.concatenate([np.arange(n_links), np.arange(n_links)])
    # Within a node, EPANET sees link k's entries in decreasing k; an entry from the end node is
    # prepended after the one from the start node of the same link.
    rank = np.concatenate([2 * np.arange(n_links), 2 * np.arange(n_links) + 1])
    order = np.lexsort((-rank, owner))
    indptr = np.zeros(n_nodes + 1, np.int64)
    np.cumsum(np.bincount(owner, minlength=n_nodes), out=indptr[1:])
    return indptr, link[order]


def start_components(node_kind, source_of_node, *, initial: int, other: int) -> np.ndarray:
    """(N,) int64 component of each node's water at the start: its own if it is a source, 'other'
    for the other reservoirs, 'initial' elsewhere."""
    kind = np.asarray(node_kind)
    source = np.asarray(source_of_node, np.int64)
    start = np.where(kind == RESERVOIR, other, initial).astype(np.int64)
    return np.where(source >= 0, source, start)
