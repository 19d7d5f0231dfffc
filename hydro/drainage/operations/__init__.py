"""Drainage scenario operations: pure edits of a :class:`~hydro.drainage.inp.SwmmInput`.

Each operation is a strict pydantic model registered with ``@operation("drainage")`` (the scenario
schema builds its ``operations`` list from the registry) and has one method,
``apply(inp, *, assets=None) -> SwmmInput``: SwmmInput in, a new SwmmInput out, no files touched.
Values in a scenario are SI (m, m3/s, seconds); they are turned into the model's own units (the
INP's FLOW_UNITS) here, so the same scenario works on a US-unit model.

How each operation is expressed in SWMM 5.2, and why:

* ``river_stage``: outfalls become FIXED (constant stage) or TIMESERIES (stage series) outfalls,
  gates and route-to nodes kept. A stage is a water-surface elevation (m), never a depth. A river
  the model carries as a channel (its sidecar lists the river's nodes) has its stage set at its
  downstream outfall, and the river then starts the run at the steady levels of that stage and
  its inflows (:mod:`hydro.drainage.rivers`).
* ``river_flow``: the flow entering a channel river upstream ([INFLOWS] at its inflow node), a
  constant or a series; the river starts at the steady levels of that flow.
* ``pump_outage``: control rules ``IF SIMULATION TIME >= t1 AND SIMULATION TIME < t2 THEN PUMP p
  STATUS = OFF`` at a high priority. SWMM re-evaluates the pumps' start/stop depths before the
  rules at every routing step (routing.c), so the rule must be evaluated at every step too: the
  model's RULE_STEP is set to 0 when it was longer.
* ``pump_capacity``: for the whole run, a copy of the pump curve with every flow scaled by the
  fraction (SWMM multiplies the curve flow by the pump's setting, so the two are the same flow,
  but the scaled curve keeps SWMM's start/stop depths untouched and its dQ/dH right). In a time
  window, rules set the pump's SETTING to the fraction while it runs (and back to 1 after the
  window); after each start-up SWMM's depth control runs the pump at full speed for one routing
  step before the rule scales it.
* ``blockage``: silt in the invert. SWMM has one "filled" shape, FILLED_CIRCULAR, so circular
  conduits become FILLED_CIRCULAR with the fill depth that removes the fraction of the area;
  rectangular, trapezoidal and triangular conduits become the section above the silt (height less
  the fill, the trapezoid's bottom widened) with both offsets raised by the fill, which is exact.
  Other closed shapes shrink uniformly (every length x sqrt(1 - fraction)); irregular and street
  sections are refused (their transects would need rewriting).
* ``imperviousness``: %Imperv of chosen subcatchments (by name, land use or map area) set or
  scaled, with optional extra depression storage (LID-like) added to S-Imperv and S-Perv.
* ``initial_state``: initial depths of storage units and junctions (wet wells by station name),
  or a SWMM hotstart file ([FILES] USE HOTSTART).

Stations, rivers and their stages come from the model's assets
(:func:`hydro.drainage.assets.load_drainage_assets`: its sidecar, or inferred from the INP, where a
station is named after its wet well); pumps and outfalls can always be named directly.
"""

from hydro.drainage.operations._common import (
    RESTORE_PRIORITY,
    RULE_PRIORITY,
    Area,
    DrainageOperation,
    ScenarioPath,
    Window,
    unique_name,
)
from hydro.drainage.operations.blockage import (
    Blockage,
    circle_fill_area,
    circle_fill_depth,
    silted_section,
)
from hydro.drainage.operations.initial_state import InitialState
from hydro.drainage.operations.pumps import PumpCapacity, PumpOutage
from hydro.drainage.operations.river import RiverFlow, RiverStage, set_river_stage
from hydro.drainage.operations.surface import Imperviousness, land_uses

__all__ = [
    "RESTORE_PRIORITY",
    "RULE_PRIORITY",
    "Area",
    "Blockage",
    "DrainageOperation",
    "Imperviousness",
    "InitialState",
    "PumpCapacity",
    "PumpOutage",
    "RiverFlow",
    "RiverStage",
    "ScenarioPath",
    "Window",
    "circle_fill_area",
    "circle_fill_depth",
    "land_uses",
    "set_river_stage",
    "silted_section",
    "unique_name",
]
