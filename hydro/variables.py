"""Registry of every result variable: its name, units, dimensions and long name.

Every array that ``hydro`` puts in a Dataset is registered here once. Names are plain language
(``pressure_head``, ``flooding_rate``); units are SI and live in attrs, never in names. The Dataset
builder in :mod:`hydro.results` refuses unregistered names and wrong dimensions, so a typo fails
at once instead of producing a file nobody can read.

Dimension names used across hydro:
``scenario``, ``time`` (elapsed since the start of the run), ``node``, ``link``, ``tank``,
``subcatchment``, ``source``, ``zone``, ``station``, ``gauge``.
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

    def attrs(self) -> dict[str, str]:
        return {"units": self.units, "long_name": self.long_name}


VARIABLES: dict[str, Variable] = {}


def register(name: str, units: str, dims: tuple[str, ...], long_name: str,
             dtype: str = "float32") -> Variable:
    """Add a variable to the registry; registering the same name twice differently is a bug."""
    var = Variable(name, units, tuple(dims), long_name, dtype)
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


_ST = ("scenario", "time")

# --- water supply (EPANET) ----------------------------------------------------------------------
register("pressure_head", "m", (*_ST, "node"), "pressure head above node elevation")
register("hydraulic_head", "m", (*_ST, "node"), "hydraulic head (elevation + pressure head)")
register("demand", "m3 s-1", (*_ST, "node"), "water delivered at node (negative: supply into network)")
register("demand_deficit", "m3 s-1", (*_ST, "node"),
         "required demand not delivered (pressure-driven analysis)")
register("tank_level", "m", (*_ST, "tank"), "water depth in tank above its bottom")
register("flow", "m3 s-1", (*_ST, "link"), "flow rate, positive from start node to end node")
register("velocity", "m s-1", (*_ST, "link"), "mean flow velocity")
register("headloss", "m", (*_ST, "link"), "head at start node minus head at end node")
register("status", "1", (*_ST, "link"), "link open (1) or closed (0)", dtype="int8")
register("pump_power", "W", (*_ST, "pump"), "power drawn by pump")
register("chemical_concentration", "mg L-1", (*_ST, "node"), "chemical concentration at node")
register("water_age", "s", (*_ST, "node"), "water age at node")
register("trace_fraction", "1", (*_ST, "node"), "fraction of water from the model's trace node")
register("source_share", "1", (*_ST, "node", "source"), "fraction of water at node from each source")

# --- urban drainage (SWMM) ----------------------------------------------------------------------
register("water_depth", "m", (*_ST, "node"), "water depth above node invert")
register("total_inflow", "m3 s-1", (*_ST, "node"), "lateral plus upstream inflow into node")
register("lateral_inflow", "m3 s-1", (*_ST, "node"), "runoff, dry-weather and external inflow")
register("flooding_rate", "m3 s-1", (*_ST, "node"), "rate water leaves the network at node (surcharge overflow)")
register("node_volume", "m3", (*_ST, "node"), "water stored at node, ponded water included")
register("ponded_volume", "m3", (*_ST, "node"), "water ponded on the surface above node")
register("flow_depth", "m", (*_ST, "link"), "water depth in link")
register("capacity_fraction", "1", (*_ST, "link"), "fraction of link's full depth or area in use")
register("rainfall", "m s-1", (*_ST, "subcatchment"), "rainfall intensity on subcatchment")
register("runoff", "m3 s-1", (*_ST, "subcatchment"), "runoff rate leaving subcatchment")
register("rain_intensity", "m s-1", (*_ST, "gauge"), "rainfall intensity at rain gauge")

# --- SWMM engine adapter: link storage and the engine's own report figures (hydro/drainage) -----
# engine_* are SWMM's .rpt summaries (every routing step), NaN where the report lists no value.
_SN, _SL = ("scenario", "node"), ("scenario", "link")
register("link_volume", "m3", (*_ST, "link"), "water stored in link")
register("engine_flooded_duration", "s", _SN, "time node flooded (SWMM Node Flooding Summary)")
register("engine_max_flooding_rate", "m3 s-1", _SN,
         "maximum flooding rate (SWMM Node Flooding Summary)")
register("engine_time_of_max_flooding", "s", _SN,
         "time of maximum flooding since simulation start (SWMM Node Flooding Summary)",
         dtype="float64")
register("engine_flood_volume", "m3", _SN, "total flood volume (SWMM Node Flooding Summary)")
register("engine_max_ponded_depth", "m", _SN,
         "maximum ponded depth above full depth (SWMM Node Flooding Summary, dynamic wave)")
register("engine_max_ponded_volume", "m3", _SN,
         "maximum ponded volume (SWMM Node Flooding Summary, kinematic wave/steady flow)")
register("engine_max_depth", "m", _SN, "maximum water depth (SWMM Node Depth Summary)")
register("engine_surcharged_duration", "s", _SN,
         "time water stood above the highest conduit crown (SWMM Node Surcharge Summary)")
register("engine_max_flow", "m3 s-1", _SL, "maximum |flow| (SWMM Link Flow Summary)")
register("engine_max_velocity", "m s-1", _SL,
         "maximum |velocity| of conduit (SWMM Link Flow Summary)")
register("engine_pump_utilization", "1", _SL,
         "fraction of the simulation the pump was on (SWMM Pumping Summary)")
register("engine_pump_startups", "1", _SL, "number of pump start-ups (SWMM Pumping Summary)")
register("engine_pump_min_flow", "m3 s-1", _SL, "minimum flow while on (SWMM Pumping Summary)")
register("engine_pump_avg_flow", "m3 s-1", _SL, "average flow while on (SWMM Pumping Summary)")
register("engine_pump_max_flow", "m3 s-1", _SL, "maximum flow (SWMM Pumping Summary)")
register("engine_pumped_volume", "m3", _SL, "total volume pumped (SWMM Pumping Summary)")
register("engine_pump_energy", "J", _SL, "energy used by pump (SWMM Pumping Summary)")
register("engine_pump_off_curve_low", "1", _SL,
         "fraction of on-time below the pump curve's lowest point (SWMM Pumping Summary)")
register("engine_pump_off_curve_high", "1", _SL,
         "fraction of on-time above the pump curve's highest point (SWMM Pumping Summary)")

# --- rainfall: IDF tables (hydro/rain) ----------------------------------------------------------
register("idf_intensity", "m s-1", ("duration", "return_period"),
         "mean rainfall intensity over the duration (storm intensity formula)", dtype="float64")
register("idf_depth", "m", ("duration", "return_period"),
         "rainfall depth over the duration (storm intensity formula)", dtype="float64")
