"""Source shares carried through a pipe network: EPANET's Lagrangian transport, all sources at once.

EPANET traces one source per run (QUALITY TRACE node): a concentration of 100 % leaves the source
and is carried by plug flow through pipes and mixed at nodes and tanks. Every step of that scheme is
linear in the concentration, so a vector of shares -- one entry per source, plus one for the water
that was in the network at the start ("initial") and one for water entering where no named source
is ("other": unnamed reservoirs, negative demands) -- is carried by the same arithmetic and gives
every source's trace from one pass over one hydraulic solution. The vector always sums to 1.

The scheme follows EPANET 2.2 (qualroute.c, quality.c, qualreact.c) step for step, with what
EPANET 2.3 changed (read from the owa-epanet 2.3.5 library itself, and checked against it):

* every pipe holds a chain of segments (volume v [m3], share vector c), the first one at its
  downstream end; pumps, valves and check-valve pipes start empty (EPANET gives only pipes a
  volume);
* at each hydraulic time, links whose flow changed sign have their chain reversed and, if any flow
  direction changed (flows under 0.005 gpm count as none), the nodes are sorted topologically
  along the flow, so that water can cross several short pipes in one quality step;
* each quality step dt (the model's QUALITY TIMESTEP, restarted at every hydraulic time), nodes are
  visited in that order: each pulls |q| dt of water out of the leading segments of its inflow
  links, mixes it (junction: flow-weighted mean, negative demand adding "other" water; tank: its
  mixing model), and pushes |q| dt at the mixed shares into the upstream end of every outflow link,
  merging with the last segment when no share differs by ``tolerance`` or more;
* a source node's outflow is entirely its own (EPANET's trace node holds 100 %);
* tanks: complete mix (MIXED), two compartments (2COMP), plug flow (FIFO) and stacked plug flow
  (LIFO), as EPANET's tankmix1-4, each on its own chain of segments after the links' chains; a
  full tank that still takes inflow spills it, each model its own way (EPANET 2.3);
* water moves over a step by the link statuses EPANET's quality sees, those after the hydraulic
  solver advanced (rules fire at the step's end): see ``moves`` in :func:`transport`.

Segments are rows of one preallocated arena, each link's and tank's segments a ring buffer in
it (see the kernel's comment). :class:`Transport` checks one hydraulic step's arrays and carries
them in one numba call; :func:`transport` does so for a recorded run, and
:func:`~hydro.kernels.transport.reference.transport_reference` is its slow, readable twin.
"""

from hydro.kernels.transport.carry import Transport, transport
from hydro.kernels.transport.model import (
    FIFO,
    JUNCTION,
    LIFO,
    MIXED,
    PIPE,
    RESERVOIR,
    STAGNANT_FLOW,
    TANK,
    TWO_COMPARTMENT,
    Network,
    adjacency,
    link_volumes,
    start_components,
)

__all__ = [
    "FIFO",
    "JUNCTION",
    "LIFO",
    "MIXED",
    "PIPE",
    "RESERVOIR",
    "STAGNANT_FLOW",
    "TANK",
    "TWO_COMPARTMENT",
    "Network",
    "Transport",
    "adjacency",
    "link_volumes",
    "start_components",
    "transport",
]
