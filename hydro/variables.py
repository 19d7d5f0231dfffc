"""Registry of every result variable: its name, units, dimensions and long name.

Every array that ``hydro`` puts in a Dataset is registered here once. Names are plain language
(``pressure_head``, ``flooding_rate``); units are SI and live in attrs, never in names. The Dataset
builder in :mod:`hydro.results` refuses unregistered names and wrong dimensions, so a typo fails
at once instead of producing a file nobody can read.

Dimension names are registered too (:data:`DIMENSIONS`): a variable on an unknown dimension is
refused, so the same thing is never called two names in two files.

A variable's ``standard_name`` is set only where the CF standard name table has one that means
exactly the same quantity (checked against table version 93); most network quantities have none.
Coordinates (element properties such as ``elevation`` or ``x``) are registered too, in
:data:`COORDINATES`, so that :mod:`hydro.results` writes the same attrs whoever built the Dataset.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variable:
    """What one result variable is: written into its attrs when a Dataset is built."""

    name: str
    units: str
    dims: tuple[str, ...]
    long_name: str
    dtype: str = "float32"
    standard_name: str = ""
    cell_methods: str = ""

    def attrs(self) -> dict[str, str]:
        attrs = {"units": self.units, "long_name": self.long_name}
        if self.standard_name:
            attrs["standard_name"] = self.standard_name
        if self.cell_methods:
            attrs["cell_methods"] = self.cell_methods
        return attrs


VARIABLES: dict[str, Variable] = {}

# Every dimension a hydro Dataset may have, and what runs along it.
DIMENSIONS: dict[str, str] = {
    "scenario": "one run of a model (a single run has a scenario dimension of size 1)",
    "time": "elapsed time since the start of the run",
    "node": "EPANET junctions, reservoirs and tanks; SWMM junctions, outfalls, storage, dividers",
    "link": "EPANET pipes, pumps and valves; SWMM conduits, pumps, orifices, weirs, outlets",
    "tank": "EPANET tanks",
    "pump": "pumps",
    "step": "EPANET's hydraulic time steps of a run, in order (irregular: see step_start)",
    "step_link": "links whose flow a supply run keeps at every hydraulic step",
    "plant": "treatment plants of the named supply sources",
    "booster": "secondary-supply booster stations",
    "source": "named water sources (and 'initial', 'other' water)",
    "zone": "supply zones",
    "subcatchment": "SWMM subcatchments",
    "gauge": "SWMM rain gauges",
    "station": "drainage pump stations",
    "polder": "dyked polders",
    "budget_term": "terms of a run's water budget (rain, infiltration, outflow, stored, lost...)",
    "worst": "rank among the worst places (0 = worst)",
    "outage": "capacity study: the set of sources out",
    "size": "capacity study: the swept size (diameter or flow cap)",
    "level": "capacity study: the reservoir level",
    "plant_capacity": "capacity study: the source's plant capacity",
    "transmission_diameter": "capacity study: the diameter of the source's transmission mains",
    "aid_diameter": "capacity study: the mutual-aid mains' diameter (0: as built)",
    "element": "capacity study: what is upgraded (raw main, plant, transmission, mutual aid)",
    "main_node": "capacity study: nodes along the raw main, from the reservoir to the clear well",
    "delivery": "reservoir drawdown: the constant rate drawn for the city",
    "day": "reservoir drawdown: days since the start of the dry season",
    "return_period": "design storms: return period",
    "duration": "design storms: duration",
    "y": "grid rows (northing of cell centres)",
    "x": "grid columns (easting of cell centres)",
}


def register(
    name: str,
    units: str,
    dims: tuple[str, ...],
    long_name: str,
    dtype: str = "float32",
    *,
    standard_name: str = "",
    cell_methods: str = "",
) -> Variable:
    """Add a variable to the registry; registering the same name twice differently is a bug."""
    var = Variable(name, units, tuple(dims), long_name, dtype, standard_name, cell_methods)
    unknown = [d for d in var.dims if d not in DIMENSIONS]
    if unknown:
        raise ValueError(
            f"variable {name!r}: unregistered dimension(s) {unknown}; add them to "
            "hydro.variables.DIMENSIONS"
        )
    old = VARIABLES.get(name)
    if old is not None and old != var:
        raise ValueError(f"variable {name!r} is already registered as {old}")
    VARIABLES[name] = var
    return var


def get(name: str) -> Variable:
    try:
        return VARIABLES[name]
    except KeyError:
        raise KeyError(f"{name!r} is not a registered hydro variable") from None


@dataclass(frozen=True)
class Coordinate:
    """What one coordinate (an element's name or property) is: written into its attrs."""

    name: str
    long_name: str
    units: str = ""  # "" for names and categories, which have no units

    def attrs(self) -> dict[str, str]:
        attrs = {"long_name": self.long_name}
        if self.units:
            attrs["units"] = self.units
        return attrs


COORDINATES: dict[str, Coordinate] = {}


def register_coordinate(name: str, long_name: str, units: str = "") -> Coordinate:
    """Add a coordinate to the registry (an element dimension's names or a per-element property)."""
    coord = Coordinate(name, long_name, units)
    old = COORDINATES.get(name)
    if old is not None and old != coord:
        raise ValueError(f"coordinate {name!r} is already registered as {old}")
    COORDINATES[name] = coord
    return coord


# Element names: the ids the model or its sidecar gives them.
for _dim in (
    "scenario",
    "node",
    "link",
    "tank",
    "pump",
    "subcatchment",
    "gauge",
    "source",
    "zone",
    "plant",
    "station",
    "polder",
    "booster",
):
    register_coordinate(_dim, f"{_dim} name")
register_coordinate("node_type", "kind of node (junction, reservoir, tank, outfall, storage...)")
register_coordinate("link_type", "kind of link (pipe, pump, valve, conduit, weir...)")
register_coordinate("from_node", "start node of the link (positive flow leaves it)")
register_coordinate("to_node", "end node of the link")
register_coordinate("elevation", "node elevation", "m")
register_coordinate("length", "link length", "m")
register_coordinate("diameter", "link diameter", "m")
# Map units are the model's own: metres of its CRS when it has one (hydro.results adds the
# projection standard names then), unknown otherwise.
register_coordinate("x", "x coordinate of the node in the model's map")
register_coordinate("y", "y coordinate of the node in the model's map")
register_coordinate(
    "outline",
    "outline of the subcatchment as a WKT polygon in the model's map ('' when it has none)",
)
register_coordinate(
    "source_kind", "what the source label is (reservoir, tank, junction, initial or other)"
)
register_coordinate("step", "hydraulic step of the run (0, 1, ...; its start is step_start)")
register_coordinate("step_link", "link whose flow is kept at every hydraulic step")
register_coordinate("pump_rated_flow", "rated (best-efficiency) flow at full speed", "m3 s-1")
register_coordinate("pump_station", "station the pump belongs to")
register_coordinate("node_zone", "supply zone of the node ('' none)")
register_coordinate("node_population", "people served at the node (NaN: unknown)", "1")

_ST = ("scenario", "time")

# --- water supply (EPANET) ----------------------------------------------------------------------
register("pressure_head", "m", (*_ST, "node"), "pressure head above node elevation")
register("hydraulic_head", "m", (*_ST, "node"), "hydraulic head (elevation + pressure head)")
register(
    "demand", "m3 s-1", (*_ST, "node"), "water delivered at node (negative: supply into network)"
)
register("leakage", "m3 s-1", (*_ST, "node"), "leakage (emitter outflow) at node, part of demand")
register(
    "demand_deficit",
    "m3 s-1",
    (*_ST, "node"),
    "required demand not delivered (pressure-driven analysis)",
)
register("tank_level", "m", (*_ST, "tank"), "water depth in tank above its bottom")
register("flow", "m3 s-1", (*_ST, "link"), "flow rate, positive from start node to end node")
register("velocity", "m s-1", (*_ST, "link"), "mean flow velocity")
register("headloss", "m", (*_ST, "link"), "head at start node minus head at end node")
register(
    "status",
    "1",
    (*_ST, "link"),
    "link closed (0), open (1) or active (2, a valve in control)",
    dtype="int8",
)
register("pump_power", "W", (*_ST, "pump"), "power drawn by pump")
register("chemical_concentration", "mg L-1", (*_ST, "node"), "chemical concentration at node")
register("water_age", "s", (*_ST, "node"), "water age at node")
register("trace_fraction", "1", (*_ST, "node"), "fraction of water from the model's trace node")
register(
    "source_share", "1", (*_ST, "node", "source"), "fraction of water at node from each source"
)

# --- urban drainage (SWMM) ----------------------------------------------------------------------
register("water_depth", "m", (*_ST, "node"), "water depth above node invert")
register("total_inflow", "m3 s-1", (*_ST, "node"), "lateral plus upstream inflow into node")
register("lateral_inflow", "m3 s-1", (*_ST, "node"), "runoff, dry-weather and external inflow")
register(
    "flooding_rate",
    "m3 s-1",
    (*_ST, "node"),
    "rate water leaves the network at node (surcharge overflow)",
)
register("node_volume", "m3", (*_ST, "node"), "water stored at node, ponded water included")
register("ponded_volume", "m3", (*_ST, "node"), "water ponded on the surface above node")
register("flow_depth", "m", (*_ST, "link"), "water depth in link")
register("capacity_fraction", "1", (*_ST, "link"), "fraction of link's full depth or area in use")
register(
    "rainfall",
    "m s-1",
    (*_ST, "subcatchment"),
    "rainfall intensity on subcatchment",
    standard_name="lwe_precipitation_rate",
)
register("runoff", "m3 s-1", (*_ST, "subcatchment"), "runoff rate leaving subcatchment")
register(
    "rain_intensity",
    "m s-1",
    (*_ST, "gauge"),
    "rainfall intensity at rain gauge",
    standard_name="lwe_precipitation_rate",
)

# --- SWMM engine adapter: link storage and the engine's own report figures (hydro/drainage) -----
# engine_* are SWMM's .rpt summaries (every routing step), NaN where the report lists no value.
_SN, _SL = ("scenario", "node"), ("scenario", "link")
register("link_volume", "m3", (*_ST, "link"), "water stored in link")
register("engine_flooded_duration", "s", _SN, "time node flooded (SWMM Node Flooding Summary)")
register(
    "engine_max_flooding_rate", "m3 s-1", _SN, "maximum flooding rate (SWMM Node Flooding Summary)"
)
register(
    "engine_time_of_max_flooding",
    "s",
    _SN,
    "time of maximum flooding since simulation start (SWMM Node Flooding Summary)",
    dtype="float64",
)
register("engine_flood_volume", "m3", _SN, "total flood volume (SWMM Node Flooding Summary)")
register(
    "engine_max_ponded_depth",
    "m",
    _SN,
    "maximum ponded depth above full depth (SWMM Node Flooding Summary, dynamic wave)",
)
register(
    "engine_max_ponded_volume",
    "m3",
    _SN,
    "maximum ponded volume (SWMM Node Flooding Summary, kinematic wave/steady flow)",
)
register("engine_max_depth", "m", _SN, "maximum water depth (SWMM Node Depth Summary)")
register(
    "engine_surcharged_duration",
    "s",
    _SN,
    "time water stood above the highest conduit crown (SWMM Node Surcharge Summary)",
)
register("engine_max_flow", "m3 s-1", _SL, "maximum |flow| (SWMM Link Flow Summary)")
register(
    "engine_max_velocity", "m s-1", _SL, "maximum |velocity| of conduit (SWMM Link Flow Summary)"
)
register(
    "engine_pump_utilization",
    "1",
    _SL,
    "fraction of the simulation the pump was on (SWMM Pumping Summary)",
)
register("engine_pump_startups", "1", _SL, "number of pump start-ups (SWMM Pumping Summary)")
register("engine_pump_min_flow", "m3 s-1", _SL, "minimum flow while on (SWMM Pumping Summary)")
register("engine_pump_avg_flow", "m3 s-1", _SL, "average flow while on (SWMM Pumping Summary)")
register("engine_pump_max_flow", "m3 s-1", _SL, "maximum flow (SWMM Pumping Summary)")
register("engine_pumped_volume", "m3", _SL, "total volume pumped (SWMM Pumping Summary)")
register("engine_pump_energy", "J", _SL, "energy used by pump (SWMM Pumping Summary)")
register(
    "engine_pump_off_curve_low",
    "1",
    _SL,
    "fraction of on-time below the pump curve's lowest point (SWMM Pumping Summary)",
)
register(
    "engine_pump_off_curve_high",
    "1",
    _SL,
    "fraction of on-time above the pump curve's highest point (SWMM Pumping Summary)",
)
register(
    "node_continuity_error",
    "1",
    _SN,
    "node's flow balance error: (inflow - outflow - change in storage) / inflow "
    "(SWMM Node Inflow Summary)",
    dtype="float64",
)
register(
    "water_budget",
    "m3",
    ("scenario", "budget_term"),
    "where the run's water came from and went (SWMM's continuity tables, pumping, ponding)",
    dtype="float64",
)

# --- rainfall: IDF tables (hydro/rain) ----------------------------------------------------------
register(
    "idf_intensity",
    "m s-1",
    ("duration", "return_period"),
    "mean rainfall intensity over the duration (storm intensity formula)",
    dtype="float64",
    standard_name="lwe_precipitation_rate",
)
register(
    "idf_depth",
    "m",
    ("duration", "return_period"),
    "rainfall depth over the duration (storm intensity formula)",
    dtype="float64",
    standard_name="lwe_thickness_of_precipitation_amount",
)

# --- scores: waterlogging, pump-station and supply coverage (hydro/scoring) ---------------------
# Times are seconds since the start of the run; NaN where there is nothing to time.
_F8 = "float64"
for _name, _units, _long in (
    ("peak_flooding_rate", "m3 s-1", "largest flooding rate"),
    ("time_of_peak_flooding", "s", "time of the largest flooding rate"),
    ("flood_volume", "m3", "volume that overflowed the node"),
    ("flooded_duration", "s", "time flooded (overflowing or ponded)"),
    ("flooding_onset", "s", "time the node starts to overflow"),
    ("flooding_recession", "s", "from the peak flooding rate until the overflow stops"),
    ("waterlogged_duration", "s", "time the surface water is deeper than the lane depth"),
    ("longest_waterlogged_spell", "s", "longest continuous time deeper than the lane depth"),
    ("waterlogging_onset", "s", "time the surface water first gets deeper than the lane depth"),
    (
        "waterlogging_recession",
        "s",
        "from the largest ponded depth until the water is last back to the lane depth",
    ),
    ("hazard_score", "m3", "hazard class weight x flood volume"),
):
    register(_name, _units, _SN, _long, dtype=_F8)
# Ponded water stands on streets that are normally dry: CF's flood water, measured at the node.
register(
    "max_ponded_depth",
    "m",
    _SN,
    "largest depth of water on the surface above the node",
    dtype=_F8,
    standard_name="flood_water_thickness",
    cell_methods="time: maximum",
)
register(
    "time_of_max_ponded_depth",
    "s",
    _SN,
    "time of the largest ponded depth",
    dtype=_F8,
    standard_name="time_of_maximum_flood_depth",
)
register(
    "hazard_class", "1", _SN, "waterlogging hazard class (depth x duration matrix)", dtype="int8"
)
register(
    "hazard_rank", "1", _SN, "rank of the node by hazard score (1 = worst, 0 = dry)", dtype="int32"
)
register(
    "waterlogged_points",
    "1",
    ("scenario",),
    "waterlogging points with hazard class >= 1",
    dtype="int32",
)
register(
    "flooded_at_end",
    "1",
    _SN,
    "1 where the node still overflows or holds ponded water at the end of the run",
    dtype="int8",
)
register(
    "waterlogged_at_end",
    "1",
    _SN,
    "1 where the surface water is still deeper than the lane depth at the end of the run",
    dtype="int8",
)
register(
    "unreliable",
    "1",
    _SN,
    "1 where the node's continuity error exceeds the limit: its figures are not to be trusted",
    dtype="int8",
)
register("waterlogged_nodes", "1", ("scenario",), "nodes with hazard class >= 1", dtype="int32")
register(
    "unreliable_nodes",
    "1",
    ("scenario",),
    "flooded nodes whose continuity error exceeds the limit",
    dtype="int32",
)
register(
    "nodes_flooded_at_end",
    "1",
    ("scenario",),
    "nodes still overflowing or ponded at the end of the run",
    dtype="int32",
)
register(
    "street_flood_volume",
    "m3",
    ("scenario",),
    "volume overflowed at street nodes (junctions that are not rivers)",
    dtype=_F8,
)
register("flooded_nodes", "1", ("scenario",), "nodes that overflowed", dtype="int32")
register("total_flood_volume", "m3", ("scenario",), "volume overflowed at all nodes", dtype=_F8)
register(
    "worst_node", "1", ("scenario", "worst"), "nodes with the highest hazard rank", dtype="object"
)
register("worst_score", "m3", ("scenario", "worst"), "hazard score of the worst nodes", dtype=_F8)
register("worst_class", "1", ("scenario", "worst"), "hazard class of the worst nodes", dtype="int8")
_SS, _SP = ("scenario", "station"), ("scenario", "pump")
for _name, _units, _long in (
    ("station_contributing_area", "m2", "area of the subcatchments draining to the station"),
    ("station_impervious_area", "m2", "impervious part of the contributing area"),
    ("station_design_capacity", "m3 s-1", "design capacity of the station"),
    ("station_peak_inflow", "m3 s-1", "largest inflow into the station's wet well"),
    ("station_capacity_ratio", "1", "design capacity / peak inflow (< 1: too small)"),
    ("station_running_share", "1", "share of time at least one pump runs"),
    (
        "station_full_capacity_share",
        "1",
        "share of time the station pumps at (98 % of) its design capacity or more",
    ),
    ("station_pumped_volume", "m3", "volume pumped by the station"),
    ("station_peak_flow", "m3 s-1", "largest flow pumped by the station"),
    ("station_peak_wet_well_depth", "m", "largest water depth in the wet well"),
    ("station_flood_volume", "m3", "volume overflowed at nodes of the service area"),
):
    register(_name, _units, _SS, _long, dtype=_F8)
register("station_nodes", "1", _SS, "nodes in the service area", dtype="int32")
register("station_subcatchments", "1", _SS, "subcatchments in the service area", dtype="int32")
register(
    "station_flooded_nodes", "1", _SS, "nodes of the service area that overflowed", dtype="int32"
)
register(
    "station_waterlogged_points",
    "1",
    _SS,
    "waterlogging points of the service area with hazard class >= 1",
    dtype="int32",
)
register(
    "pump_utilization",
    "1",
    _SP,
    "share of time the pump is on (flow > 0.001 cfs, as SWMM's Percent Utilized)",
    dtype=_F8,
)
register("pump_volume", "m3", _SP, "volume pumped", dtype=_F8)
register("pump_peak_flow", "m3 s-1", _SP, "largest flow pumped", dtype=_F8)
register("pump_mean_flow", "m3 s-1", _SP, "mean flow while on", dtype=_F8)
register("polder_area", "m2", ("scenario", "polder"), "declared area of the polder", dtype=_F8)
register(
    "polder_covered_area",
    "m2",
    ("scenario", "polder"),
    "contributing area of the polder's pump stations",
    dtype=_F8,
)
register(
    "polder_coverage",
    "1",
    ("scenario", "polder"),
    "contributing area of the polder's stations / polder area",
    dtype=_F8,
)
register(
    "uncovered_points",
    "1",
    ("scenario",),
    "waterlogging points whose water reaches no pump station",
    dtype="int32",
)
register(
    "uncovered_waterlogged_points",
    "1",
    ("scenario",),
    "waterlogged points (hazard class >= 1) that no pump station covers",
    dtype="int32",
)
register(
    "main_source",
    "1",
    _SN,
    "index along `source` of the largest time-mean source share (-1: none)",
    dtype="int16",
)
register(
    "mean_source_share",
    "1",
    ("scenario", "node", "source"),
    "time-mean fraction of the water at the node from each source",
    dtype=_F8,
)
register(
    "node_service_compliance",
    "1",
    _SN,
    "share of time the pressure head is at or above the service head",
    dtype=_F8,
)
for _name, _units, _long, _dtype in (
    ("source_main_nodes", "1", "nodes whose main source this is", "int32"),
    ("source_main_population", "1", "people at nodes whose main source this is", _F8),
    ("source_main_demand", "m3 s-1", "mean demand of nodes whose main source this is", _F8),
    ("source_delivery_share", "1", "share of the water delivered that came from the source", _F8),
):
    register(_name, _units, ("scenario", "source"), _long, dtype=_dtype)
_SB = ("scenario", "booster")
register("booster_served_nodes", "1", _SB, "nodes downstream of the booster station", dtype="int32")
register(
    "booster_min_pressure_head", "m", _SB, "lowest pressure head at the served nodes", dtype=_F8
)
register(
    "booster_compliance",
    "1",
    _SB,
    "mean share of time the served nodes are at or above the service head",
    dtype=_F8,
)
register(
    "booster_meets_service_head",
    "1",
    _SB,
    "1 if every served node stays at or above the service head all the time",
    dtype="int8",
)
register(
    "zone_demand_compliance",
    "1",
    (*_ST, "zone"),
    "share of the zone's demand at nodes at or above the service head",
    dtype=_F8,
)
register(
    "zone_compliance",
    "1",
    ("scenario", "zone"),
    "time- and demand-weighted share of the zone's demand at or above the service head",
    dtype=_F8,
)
register(
    "zone_min_pressure_head",
    "m",
    ("scenario", "zone"),
    "lowest pressure head at a demand node of the zone",
    dtype=_F8,
)

# --- supply run health (hydro/supply/health.py), over every hydraulic step --------------------
_S1, _STK = ("scenario",), ("scenario", "tank")
register(
    "mass_balance_error",
    "1",
    _S1,
    "(water in - consumer demand - leakage - stored) / water in, over every hydraulic step",
    dtype="float64",
)
register("hydraulic_steps", "1", _S1, "hydraulic time steps of the run", dtype="int32")
register("unbalanced_steps", "1", _S1, "hydraulic steps EPANET left unbalanced", dtype="int32")
register(
    "unstable_steps",
    "1",
    _S1,
    "hydraulic steps balanced only with link statuses held (EPANET: may be unstable)",
    dtype="int32",
)
register(
    "disconnected_steps",
    "1",
    _S1,
    "hydraulic steps with nodes cut off from every source",
    dtype="int32",
)
register(
    "negative_pressure_nodes",
    "1",
    _S1,
    "nodes serving demand or leaking whose pressure head fell below 0 m",
    dtype="int32",
)
register(
    "min_service_pressure",
    "m",
    _S1,
    "lowest pressure head at a node serving demand or leaking, at any hydraulic step",
    dtype="float64",
)
register(
    "emitter_backflow_volume",
    "m3",
    _S1,
    "water emitters took into the pipes at negative pressure",
    dtype="float64",
)
register(
    "tank_balance_error",
    "m3",
    _STK,
    "the solver's net inflow into the tank minus its change in volume (< 0: water created)",
    dtype="float64",
)
register(
    "tank_empty_outflow_time",
    "s",
    _STK,
    "time the tank sent water out while at its minimum level",
    dtype="float64",
)

# --- supply run accounts over every hydraulic step (hydro/supply/epanet/accounts.py) -----------
_SS1, _SSN = ("scenario", "step"), ("scenario", "node")
_STEP = {
    "step_start": ("s", _SS1, "start of the hydraulic step (elapsed)"),
    "step_duration": ("s", _SS1, "how long the step's state holds"),
    "step_inflow": ("m3 s-1", _SS1, "water into the network from reservoirs and negative demands"),
    "step_consumer": ("m3 s-1", _SS1, "consumer demand delivered"),
    "step_leakage": ("m3 s-1", _SS1, "leakage (negative: emitters taking water in)"),
    "step_unserved": ("m3 s-1", _SS1, "consumer demand asked for and not delivered"),
    "step_tank_volume": ("m3", (*_SS1, "tank"), "tank volume at the step's start"),
    "step_tank_inflow": ("m3 s-1", (*_SS1, "tank"), "net tank inflow as the solver balanced it"),
    "step_pump_flow": ("m3 s-1", (*_SS1, "pump"), "pump flow"),
    "step_pump_speed": ("1", (*_SS1, "pump"), "pump relative speed"),
    "step_pump_power": ("W", (*_SS1, "pump"), "power drawn by pump"),
    "step_link_flow": ("m3 s-1", (*_SS1, "step_link"), "flow of a watched link"),
    "node_required_volume": ("m3", _SSN, "consumer demand asked for over the run"),
    "node_delivered_volume": ("m3", _SSN, "consumer demand delivered over the run"),
    "node_leakage_volume": ("m3", _SSN, "leakage over the run"),
    "node_time_at_service_head": (
        "s",
        _SSN,
        "time with pressure head at or above the service head",
    ),
    "node_min_pressure": ("m", _SSN, "lowest pressure head at any hydraulic step"),
}
for _name, (_units, _dims, _long) in _STEP.items():
    register(_name, _units, _dims, _long, dtype="float64")
register(
    "step_pump_state",
    "1",
    (*_SS1, "pump"),
    "EPANET pump status: 0 cannot deliver head, 1 held closed, 2 closed, 3 open, 5 beyond curve",
    dtype="int8",
)
_SP1 = ("scenario", "pump")
register("pump_running_time", "s", _SP1, "time the pump was meant to run", dtype="float64")
register(
    "pump_in_band",
    "1",
    _SP1,
    "share of running time within 70-120 % of the rated flow (scaled by speed)",
    dtype="float64",
)
register(
    "pump_at_shutoff",
    "1",
    _SP1,
    "share of running time below 10 % of the rated flow or unable to deliver head",
    dtype="float64",
)
register(
    "pump_beyond_curve",
    "1",
    _SP1,
    "share of running time beyond the last point of the pump curve",
    dtype="float64",
)
register("pump_starts_per_day", "d-1", _SP1, "pump starts per day", dtype="float64")

# --- supply answers (hydro/supply/metrics.py) ---------------------------------------------------
_SZ = ("scenario", "zone")
register(
    "pressure_compliance", "1", (*_ST, "zone"), "share of demand nodes at or above the service head"
)
register(
    "population_compliance",
    "1",
    (*_ST, "zone"),
    "share of population at demand nodes at or above the service head",
)
register("required_volume", "m3", _SZ, "consumer demand asked for over the run (leakage excluded)")
register("unserved_volume", "m3", _SZ, "consumer demand not delivered over the run")
register("unserved_fraction", "1", _SZ, "unserved volume / required volume")
register("leakage_volume", "m3", _SZ, "leakage over the run")
register(
    "zone_source_share",
    "1",
    (*_ST, "zone", "source"),
    "demand-weighted share of each source in the zone's delivered water",
)
register(
    "mean_water_age",
    "s",
    _SZ,
    "demand-weighted mean water age over the last 24 h of the run (or the whole run)",
)
register("max_water_age", "s", _SZ, "highest water age at a demand node over the last 24 h")
register("tank_level_min", "m", ("scenario", "tank"), "lowest tank level over the run")
register("tank_level_max", "m", ("scenario", "tank"), "highest tank level over the run")
register("pump_energy", "J", ("scenario", "pump"), "energy drawn by pump over the run")
register("plant_output", "m3 s-1", (*_ST, "plant"), "flow a source's plant sends into the network")
register("raw_main_flow", "m3 s-1", (*_ST, "plant"), "flow in a source's raw-water main")
register(
    "raw_main_velocity",
    "m s-1",
    (*_ST, "plant"),
    "highest velocity along a source's raw-water main",
)
register("raw_main_headloss", "m", (*_ST, "plant"), "head loss along a source's raw-water main")

register(
    "service_compliance",
    "1",
    _SZ,
    "share of demand nodes' time at or above the service head over the run (every step)",
    dtype="float64",
)
register(
    "population_service_compliance",
    "1",
    _SZ,
    "share of people's time at or above the service head over the run (every step)",
    dtype="float64",
)
register("water_age_drift", "s", _SZ, "change of mean_water_age from the 24 h before")
register("clear_well_inflow", "m3 s-1", (*_ST, "plant"), "flow into a source's clear-water well")
register(
    "plant_volume",
    "m3",
    ("scenario", "plant"),
    "water a source's plant sent into the city over the run (every step)",
    dtype="float64",
)
register(
    "clear_well_inflow_volume",
    "m3",
    ("scenario", "plant"),
    "water that flowed into a source's clear-water well over the run (every step)",
    dtype="float64",
)

# --- supply capacity study (hydro/supply/capacity_study.py) -------------------------------------
# Every case of the grid; the flows are means over the measured window (after the warm-up),
# integrated over every hydraulic step.
_STUDY = ("outage", "size", "plant_capacity", "transmission_diameter", "aid_diameter", "level")
for _name, _units, _long in (
    (
        "study_delivered_flow",
        "m3 s-1",
        "mean flow the source's plant sends into the city (its transmission mains)",
    ),
    ("study_served_flow", "m3 s-1", "mean consumer demand the city is served"),
    ("study_demand_flow", "m3 s-1", "mean consumer demand the city asks for"),
    ("study_compliance", "1", "mean city pressure compliance (hourly)"),
    ("study_worst_compliance", "1", "lowest hourly city pressure compliance"),
    ("study_unserved_fraction", "1", "share of the city's consumer demand not served"),
    ("study_mass_balance_error", "1", "the case run's mass balance error (over the whole run)"),
    ("study_raw_water_flow", "m3 s-1", "mean raw-water flow into the plant (the raw main)"),
    (
        "study_valve_head",
        "m",
        "mean head the flow-control valve burns while water flows (hourly)",
    ),
    ("study_valve_head_max", "m", "largest head the flow-control valve burns (hourly)"),
    ("study_main_flow", "m3 s-1", "raw-water flow at the hour study_main_head is drawn for"),
    (
        "study_main_min_pressure",
        "m",
        "lowest pressure head along the raw main at its nodes (hourly)",
    ),
    (
        "study_main_min_pressure_at",
        "m",
        "chainage of the lowest pressure head along the raw main",
    ),
):
    register(_name, _units, _STUDY, _long + " over the study's measured window", dtype="float64")
register(
    "study_converged", "1", _STUDY, "EPANET converged in every step (1) or not (0)", dtype="int8"
)
for _name, _units, _long in (
    (
        "study_capital_cost",
        "CNY",
        "capital cost of the option: the raw main and whatever is built larger than it is",
    ),
    ("study_pumping_power", "W", "mean power all the city's pumps draw from the grid"),
    ("study_source_pumping_power", "W", "mean power the source's high-lift pumps draw"),
    (
        "study_present_cost",
        "CNY",
        "net present value of the capital cost and the city's pumping energy over the period",
    ),
    (
        "study_recoverable_power",
        "W",
        "mean power a turbine in place of the flow-control valve could recover",
    ),
):
    register(_name, _units, _STUDY, _long, dtype="float64")
for _name, _units, _long in (
    ("study_break_outage_time", "s", "a raw-main break: isolate, repair, refill, flush"),
    (
        "study_break_outage_time_unvalved",
        "s",
        "a raw-main break without line valves (the whole main drained and refilled)",
    ),
    ("study_break_drained_volume", "m3", "water drained from the raw main's isolated segment"),
    ("study_break_refill_time", "s", "refilling the drained segment at the filling velocity"),
    (
        "study_break_unserved_volume",
        "m3",
        "city demand not served while the raw main is out (the grid's case with it out)",
    ),
    ("study_surge_head", "m", "Joukowsky head rise when the raw main's flow stops (screening)"),
    (
        "study_surge_head_closure",
        "m",
        "head rise when the flow stops over the valve's closure time (Michaud, screening)",
    ),
    (
        "study_surge_max_pressure",
        "m",
        "largest steady plus Joukowsky pressure head along the raw main (screening)",
    ),
    (
        "study_surge_min_pressure",
        "m",
        "steady minus Joukowsky pressure head at the raw main's high point (screening)",
    ),
    (
        "study_pressure_class",
        "MPa",
        "nominal pressure class the raw main needs for a sudden stop (screening)",
    ),
    (
        "study_pressure_class_closure",
        "MPa",
        "nominal pressure class the raw main needs for the valve's closure (screening)",
    ),
):
    register(_name, _units, _STUDY, _long, dtype="float64")
register(
    "study_column_separation",
    "1",
    _STUDY,
    "1 where the surge could draw the high point to vapour pressure (screening)",
    dtype="int8",
)
register(
    "study_main_head",
    "m",
    (*_STUDY, "main_node"),
    "hydraulic grade along the raw main at the measured window's hour of largest raw-water flow",
    dtype="float64",
)
register(
    "study_upgrade_gain",
    "m3 s-1",
    (*_STUDY, "element"),
    "consumer demand served more with the element one step up its candidate set",
    dtype="float64",
)
register(
    "study_binding",
    "1",
    _STUDY,
    "the element whose upgrade serves the city most (or why none binds)",
    dtype="object",
)

# --- reservoir drawdown (hydro/supply/reservoir.py) ---------------------------------------------
register(
    "reservoir_level",
    "m",
    ("delivery", "day"),
    "reservoir water level at the day's start",
    dtype="float64",
)
register(
    "days_to_minimum_level",
    "d",
    ("delivery",),
    "days until the reservoir reaches its minimum level (NaN: not in the run)",
    dtype="float64",
)
register(
    "reservoir_spill",
    "m3",
    ("delivery",),
    "water let go above the flood-limit level over the run",
    dtype="float64",
)


# --- 2-D surface (hydro/flood): rasters on the DEM's cell centres --------------------------------
# The surface's water_depth and velocity are the node/link quantities above on grid cells, so they
# live in a registry of their own, read by hydro.flood's Dataset builder. Dims: scenario (one run:
# size 1, as the network's), time, y, x; the mass-balance terms are per scenario. Standard names
# from the CF table (v93): flood_water_thickness / flood_water_speed / surface_altitude.
SURFACE_VARIABLES: dict[str, Variable] = {}


def register_surface(
    name: str,
    units: str,
    dims: tuple[str, ...],
    long_name: str,
    dtype: str = "float32",
    standard_name: str = "",
    cell_methods: str = "",
) -> Variable:
    var = Variable(name, units, tuple(dims), long_name, dtype, standard_name, cell_methods)
    old = SURFACE_VARIABLES.get(name)
    if old is not None and old != var:
        raise ValueError(f"surface variable {name!r} is already registered as {old}")
    SURFACE_VARIABLES[name] = var
    return var


def get_surface(name: str) -> Variable:
    try:
        return SURFACE_VARIABLES[name]
    except KeyError:
        raise KeyError(f"{name!r} is not a registered hydro surface variable") from None


_TYX, _YX = ("scenario", "time", "y", "x"), ("scenario", "y", "x")
register_surface(
    "water_depth", "m", _TYX, "water depth on the cell", standard_name="flood_water_thickness"
)
register_surface(
    "velocity",
    "m s-1",
    _TYX,
    "flow speed at the cell centre (mean unit discharge of opposite faces / depth)",
    standard_name="flood_water_speed",
)
register_surface(
    "ground_level",
    "m",
    _YX,
    "ground level the surface ran on (raised buildings included)",
    dtype="float64",
    standard_name="surface_altitude",
)
register_surface(
    "max_water_depth",
    "m",
    _YX,
    "largest water depth over the run (every step)",
    standard_name="flood_water_thickness",
    cell_methods="time: maximum",
)
register_surface(
    "max_velocity",
    "m s-1",
    _YX,
    "largest flow speed over the run (every step)",
    standard_name="flood_water_speed",
    cell_methods="time: maximum",
)
register_surface(
    "time_of_arrival",
    "s",
    _YX,
    "first time the water is deeper than the arrival depth (NaN: never)",
)
register_surface(
    "waterlogging_duration",
    "s",
    _YX,
    "time the water is deeper than 0.15 m (GB 50014 lane depth, or the case's value)",
)
register_surface(
    "max_hazard_rating",
    "1",
    _YX,
    "largest flood hazard rating d*(v+0.5)+DF over the run (Defra/EA FD2320)",
)
register_surface(
    "hazard_class",
    "1",
    _YX,
    "flood hazard class from the largest rating: 0 dry, 1 low, 2 moderate, "
    "3 significant, 4 extreme (FD2320)",
    dtype="int8",
)
register_surface("infiltrated_depth", "m", _YX, "water infiltrated into the ground over the run")
for _name, _long in (
    ("initial_volume", "water on the surface at the start"),
    ("final_volume", "water on the surface at the end"),
    ("rain_volume", "rain that fell on the active cells"),
    ("inflow_volume", "water brought in by inflow hydrographs"),
    ("boundary_inflow_volume", "water that entered through the grid's edges"),
    ("boundary_outflow_volume", "water that left through the grid's edges"),
    ("infiltration_volume", "water infiltrated into the ground"),
    ("clipped_volume", "water created by setting round-off negative depths to 0"),
    ("overflow_volume", "water a coupled drainage network put on the surface at its nodes"),
    ("drained_volume", "water the surface gave to a coupled drainage network at its nodes"),
):
    register_surface(_name, "m3", ("scenario",), _long, dtype="float64")
register_surface(
    "mass_balance_error",
    "1",
    ("scenario",),
    "(initial + inflows - outflows - final) / (initial + inflows)",
    dtype="float64",
)

# Coupled runs (hydro/flood/coupling.py): per coupled drainage node, on the surface Dataset.
register_surface(
    "exchange_flow",
    "m3 s-1",
    ("scenario", "time", "node"),
    "flow from the drainage network onto the surface at the node (negative: into the network)",
)
register_surface(
    "node_overflow_volume",
    "m3",
    ("scenario", "node"),
    "water the node put on the surface",
    dtype="float64",
)
register_surface(
    "node_drained_volume",
    "m3",
    ("scenario", "node"),
    "water the node took from the surface",
    dtype="float64",
)
