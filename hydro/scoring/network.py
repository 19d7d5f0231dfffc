"""Graphs of a run's network, built and checked with networkx, traversed as CSR arrays.

The conveyance graph of a drainage model has an edge from_node -> to_node for every link that
carries water by design (conduits, orifices, weirs, outlets; pumps that belong to no station).
Links are taken in the direction the INP writes them: SWMM's dynamic wave can run a link
backwards for a while, but its design direction is what decides which station a place drains to.
Subcatchments attach to their outlet node, following outlets that are other subcatchments.

networkx builds the graph (and says what is wrong with it in words); the traversal itself runs
in the numba kernels of :mod:`hydro.kernels.graph` on CSR arrays, which is what makes thousands of
scenarios cheap.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np

from hydro.errors import InputError
from hydro.kernels import edges_to_csr

# Element names: a list, or an array of strings as read from a Dataset
Names = Sequence[str] | np.ndarray


@dataclass(frozen=True)
class Csr:
    """A directed graph over nodes 0..N-1 as CSR arrays (see :func:`hydro.kernels.edges_to_csr`)."""

    indptr: np.ndarray
    indices: np.ndarray

    @property
    def n_nodes(self) -> int:
        return self.indptr.size - 1


def build_graph(
    nodes: Names,
    from_node: Names,
    to_node: Names,
    links: Names,
    *,
    skip: Collection[str] = (),
    where: str = "",
) -> nx.MultiDiGraph:
    """A directed multigraph with one edge per link (key = link name), nodes in model order.

    ``skip`` names links to leave out. A link whose end is not a node of the model is an
    InputError naming the link.
    """
    graph = nx.MultiDiGraph()
    graph.add_nodes_from((str(n), {"index": i}) for i, n in enumerate(nodes))
    for link, a, b in zip(links, from_node, to_node, strict=True):
        link, a, b = str(link), str(a), str(b)
        if link in skip:
            continue
        for end in (a, b):
            if end not in graph:
                raise InputError(
                    f"{where}link {link!r} joins node {end!r}, which the model does not have"
                )
        graph.add_edge(a, b, key=link)
    return graph


def to_csr(graph: nx.MultiDiGraph, *, reverse: bool = False) -> Csr:
    """CSR arrays of the graph (nodes numbered by their ``index`` attribute)."""
    index = nx.get_node_attributes(graph, "index")
    edges = np.array([(index[a], index[b]) for a, b in graph.edges()], dtype=np.int64)
    edges = edges.reshape(-1, 2)
    indptr, indices = edges_to_csr(
        edges[:, 0], edges[:, 1], graph.number_of_nodes(), reverse=reverse
    )
    return Csr(indptr, indices)


def dead_ends(graph: nx.MultiDiGraph, targets: Sequence[str]) -> list[str]:
    """Targets no link flows into (their service area is the target alone)."""
    return [t for t in targets if graph.in_degree(t) == 0]


def subcatchment_nodes(
    subcatchments: Names, outlets: Names, nodes: Names, *, where: str = ""
) -> np.ndarray:
    """The node each subcatchment's runoff ends up at (index into ``nodes``), -1 if none.

    An outlet may be another subcatchment; chains are followed to a node. A cycle of
    subcatchments, or an outlet that is neither, is an InputError naming the subcatchment.
    """
    node_index = {str(n): i for i, n in enumerate(nodes)}
    outlet_of = {str(s): str(o) for s, o in zip(subcatchments, outlets, strict=True)}
    result = np.full(len(subcatchments), -1, dtype=np.int64)
    for k, sub in enumerate(map(str, subcatchments)):
        chain = [sub]
        target = outlet_of[sub]
        while target in outlet_of and target not in node_index:
            if target in chain:
                raise InputError(
                    f"{where}subcatchment {sub!r}: its outlets run in a circle "
                    f"({' -> '.join([*chain, target])})"
                )
            chain.append(target)
            target = outlet_of[target]
        if target in node_index:
            result[k] = node_index[target]
        elif target:
            raise InputError(
                f"{where}subcatchment {sub!r} drains to {target!r}, which is "
                "neither a node nor a subcatchment of the model"
            )
    return result
