"""What the Xuancheng drainage model is built from: facts (F) and working assumptions (A).

Every number the drainage generator uses that is not a law of hydraulics lives here, so that the
model's README can cite each one and a user with better data changes it in one place. Places are in
local metres east (x) and north (y) of the city centre (see :mod:`hydro.synth.city`).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from hydro.synth.city import Box

# ------------------------------------------------------------------------------------------------
# Extent (A): the built-up central city south of the Jingting polder plus the two dyked polders
# of hydro.synth.city.POLDERS, about 55 km² in all (F: built-up area 63 km² in 2019).
CITY = Box("city", "主城区", -2500.0, 2500.0, -3500.0, 2500.0)  # 30 km², gravity drainage
OLD_TOWN = Box("old_town", "老城区", -1500.0, 800.0, -1500.0, 1500.0)  # astride the Wanxi

# ------------------------------------------------------------------------------------------------
# Rivers and outfalls
# (F) Around 2000: 27 km of trunk drains and 33 outfalls. (A) Gravity outfalls every 400 m on
# each bank of the Wanxi where it crosses the city, each with a flap gate.
OUTFALL_SPACING = 400.0  # m along the river
OUTFALL_SETBACK = 15.0  # m from the river's centre line to the outfall (its bank)
# (A) Pump stations discharge 1 m below the river's normal stage (submerged, flap-gated outlet).
STATION_OUTLET_BELOW_NORMAL = 1.0


@dataclass(frozen=True)
class StationPlan:
    """One polder pump station: design facts and where it stands."""

    key: str  # short code used in element names
    name: str
    name_zh: str
    polder: str  # name of a hydro.synth.city.POLDERS box
    position: tuple[float, float]  # (A) wet well, local metres
    river: str  # river it discharges into (hydro.synth.city.RIVERS name)
    capacity: float  # m³/s, design pumping capacity
    pumps: int  # (A) number of equal units
    target_area: float | None  # m², catchment to aim for; None: what the others leave
    source: str  # F/A note for the README and sidecar


# (F) 4 main drainage pump stations totalling 26.3 m³/s; 别土桥 9.6 m³/s for 7.97 km²; 敬亭圩
# 2.4 m³/s; 城东联圩 2.4 m³/s. (A) The remaining 11.9 m³/s belongs to a fourth station in the
# 城东联圩; positions, unit counts and the split of the 城东联圩 between three stations.
STATIONS = (
    StationPlan(
        "BTQ",
        "bietuqiao",
        "别土桥泵站",
        "chengdong",
        (2300.0, 6350.0),
        "shuiyang",
        9.6,
        4,
        7.97e6,
        "F: 9.6 m3/s for 7.97 km2; A: position, 4 units",
    ),
    StationPlan(
        "PS4",
        "station4",
        "第四排涝泵站(假设)",
        "chengdong",
        (5400.0, 6350.0),
        "shuiyang",
        11.9,
        5,
        None,
        "A: the 26.3 m3/s total less the three named stations; position",
    ),
    StationPlan(
        "CD",
        "chengdong",
        "城东联圩泵站",
        "chengdong",
        (6600.0, 3400.0),
        "shuiyang",
        2.4,
        2,
        2.5e6,
        "F: 2.4 m3/s; A: position, 2 units, 2.5 km2 catchment",
    ),
    StationPlan(
        "JT",
        "jingting",
        "敬亭圩泵站",
        "jingting",
        (-1600.0, 4600.0),
        "wanxi",
        2.4,
        2,
        None,
        "F: 2.4 m3/s; A: position, 2 units",
    ),
)
# (A) Pump curve: flow at the design head is the unit's rated flow; the design head lifts water
# from the wet well's operating level to the flood stage plus losses.
PUMP_CURVE = ((0.0, 1.15), (0.5, 1.08), (1.0, 1.0), (1.25, 0.7), (1.5, 0.0))  # head/Hd, Q/Qd
PUMP_HEAD_LOSS = 0.5  # m, discharge losses added to the static lift at the design point
FIRST_PUMP_ON = 0.3  # m above the incoming trunk's invert
PUMP_ON_STEP = 0.4  # m between successive units' start levels
PUMP_OFF_DEPTH = 0.6  # m of water left in the sump when the last unit stops
SUMP_DEPTH = 1.5  # m from the wet-well floor to the incoming trunk's invert
WET_WELL_AREA_PER_FLOW = 100.0  # m² of wet well and forebay per m³/s of capacity
DISCHARGE_WALL_ABOVE_FLOOD = 3.0  # m, discharge chamber walls above the flood stage
CHAMBER_AREA_PER_FLOW = 20.0  # m² of discharge chamber per m³/s of capacity
# (A) Gravity sluice (涵闸) beside each station: flap-gated opening sized to pass twice the
# pumping capacity at 0.3 m head; it drains the polder while the river is low.
SLUICE_FLOW_FACTOR = 2.0
SLUICE_DESIGN_HEAD = 0.3  # m
SLUICE_HEIGHT = 2.0  # m
SLUICE_COEFF = 0.65

# ------------------------------------------------------------------------------------------------
# Design of the sewers (A unless said)
# (F) GB 50014: storm sewers of central areas of small and medium cities 2-3 years.
DESIGN_RETURN_PERIOD = 3.0  # years, new city and polders
OLD_TOWN_RETURN_PERIOD = 2.0  # years, old town: sized to the older, lower standard
INLET_TIME = 10.0  # min, surface concentration time t1 (GB 50014: 5-15 min)
MIN_COVER = 1.0  # m of soil over the crown of a pipe or culvert
ADVERSE_GROUND_COST = 200.0  # m of extra route per metre of ground a sewer climbs
MIN_CONDUIT_LENGTH = 100.0  # m; shorter conduits would force tiny routing steps
POLDER_CHANNEL_FLOW = 5.0  # m³/s; above this a polder trunk is an open drain (内河)
VELOCITY_RANGE = (0.6, 4.0)  # m/s, bounds of the full-flow velocity used for flow time

# ------------------------------------------------------------------------------------------------
# Waterlogging-prone points (A): a railway (position assumed) with road underpasses, and low
# streets of the old town.
RAILWAY = ((-2300.0, -3500.0), (-1600.0, 2500.0))  # through the low west of the city
UNDERPASS_SPACING = 1200.0  # m along the railway
UNDERPASS_DEPTH = 3.5  # m, road in the underpass below the surrounding ground, at most
UNDERPASS_MIN_DIP = 1.5  # m; where the sewers leave less room there is no underpass
POINT_COVER = 0.3  # m kept over the highest sewer crown under a dip
UNDERPASS_PONDED_AREA = 1200.0  # m², 80 m of 15 m wide roadway
LOW_STREETS = 8  # number of low old-town streets
LOW_STREET_DEPTH = 1.0  # m below the surrounding ground, at most
LOW_STREET_MIN_DIP = 0.5  # m
LOW_STREET_PONDED_AREA = 2500.0  # m²
STREET_STORAGE_FRACTION = 0.05  # ponded area of an ordinary junction / its catchment area


# ------------------------------------------------------------------------------------------------
# Land use (A: classes, shares and imperviousness; a smooth patchwork drawn from the seed).
@dataclass(frozen=True)
class LandUse:
    name: str
    name_zh: str
    imperviousness: float  # mean fraction
    flow_length: float  # m, overland flow length: width = area / flow length


LAND_USES = (
    LandUse("old_town", "老城区混合用地", 0.85, 40.0),
    LandUse("commercial", "商业用地", 0.85, 40.0),
    LandUse("residential", "居住用地", 0.65, 60.0),
    LandUse("industrial", "工业用地", 0.75, 60.0),
    LandUse("public", "公共设施用地", 0.60, 60.0),
    LandUse("green", "绿地", 0.15, 100.0),
    LandUse("open", "农田与水面", 0.05, 100.0),
)
# Shares of the classes in each part of the city (same order as LAND_USES).
LAND_USE_SHARES = {
    "old_town": (0.75, 0.12, 0.0, 0.0, 0.05, 0.08, 0.0),
    "city": (0.0, 0.10, 0.50, 0.12, 0.12, 0.16, 0.0),
    "chengdong": (0.0, 0.05, 0.40, 0.25, 0.05, 0.12, 0.13),
    "jingting": (0.0, 0.0, 0.35, 0.05, 0.05, 0.20, 0.35),
}
LAND_USE_PATCH = 600.0  # m, size of the patches of one class
IMPERVIOUSNESS_SD = 0.05
# (A) Runoff coefficient of the rational method: 0.9 on impervious, 0.15 on pervious ground.
RUNOFF_COEFF_IMPERVIOUS = 0.9
RUNOFF_COEFF_PERVIOUS = 0.15
# (A) Surface parameters (SWMM manual typical values) and Horton infiltration of the region's
# yellow-brown clayey soils.
N_IMPERVIOUS = 0.013
N_PERVIOUS = 0.15
STORE_IMPERVIOUS = 2.0  # mm
STORE_PERVIOUS = 5.0  # mm
PCT_ZERO = 25.0  # % of impervious area without depression storage
HORTON = (50.0, 5.0, 4.0, 7.0)  # max rate mm/h, min rate mm/h, decay 1/h, drying time days
SLOPE_RANGE = (0.003, 0.08)  # subcatchment slope bounds, m/m

# ------------------------------------------------------------------------------------------------
# Sections (A: standard sizes). Minimum slopes follow GB 50014 practice for each size.
ROUGHNESS = {"pipe": 0.013, "box": 0.014, "channel": 0.025}
CIRCULAR = (
    (0.3, 0.003),
    (0.4, 0.002),
    (0.5, 0.0015),
    (0.6, 0.0012),
    (0.8, 0.001),
    (1.0, 0.0008),
    (1.2, 0.0006),
    (1.35, 0.0006),
    (1.5, 0.0005),
    (1.65, 0.0005),
    (1.8, 0.0005),
    (2.0, 0.0005),
)
BOXES = (
    (2.0, 1.5, 1),
    (2.5, 1.5, 1),
    (2.5, 2.0, 1),
    (3.0, 2.0, 1),
    (3.0, 2.5, 1),
    (3.5, 2.5, 1),
    (4.0, 2.5, 1),
    (4.0, 3.0, 1),
    (5.0, 3.0, 1),
    (4.0, 3.0, 2),
    (5.0, 3.0, 2),
)  # w, h, barrels
BOX_MIN_SLOPE = 0.0004
CHANNEL_DEPTH = 3.0  # m, least bank height of an open drain
CHANNEL_SIDE_SLOPE = 1.5  # horizontal per vertical
CHANNEL_FREEBOARD = 0.5  # m kept free at the design flow
CHANNEL_MIN_SLOPE = 0.0002
CHANNEL_WIDTHS = (2.0, 60.0)  # m, bottom width range
MAX_SEWER_SLOPE = 0.02

# ------------------------------------------------------------------------------------------------
# Simulation (A)
START = _dt.datetime(2024, 7, 1)  # a flood-season day, when the default storm begins
RECESSION = 4 * 3600  # s simulated after the storm ends
REPORT_STEP = 300  # s
ROUTING_STEP = 10.0  # s, largest dynamic-wave step (variable step below it)
DEFAULT_SUBCATCHMENTS = 1500
MIN_SUBCATCHMENTS = 100
MAX_SUBCATCHMENTS = 100_000
