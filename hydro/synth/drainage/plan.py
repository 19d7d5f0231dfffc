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


@dataclass(frozen=True)
class RiverPlan:
    """A river carried through the model as a 1D channel (A unless said)."""

    name: str  # a hydro.synth.city.RIVERS name
    start: tuple[float, float]  # upstream end of the modelled reach (taken onto the river)
    end: tuple[float, float]  # downstream end
    bed_slope: float  # m/m
    bottom_width: float  # m, trapezoidal channel between the dykes
    side_slope: float  # horizontal per vertical
    roughness: float  # Manning n
    normal_flow: float  # m³/s entering upstream in an ordinary flood season
    flood_flow: float  # m³/s entering upstream in the design flood
    flood_return_period: float  # years
    source: str


# The Shuiyang from east of the 城东联圩 past the confluence to the Xuancheng gauge (A: position),
# where scenarios set its stage (the downstream boundary); the Wanxi from the south-west edge of
# the city to its confluence with the Shuiyang at 北门三汊河.
RIVER_PLANS = (
    RiverPlan(
        "shuiyang",
        (7200.0, -1000.0),
        (-3000.0, 8500.0),
        1.0e-4,
        200.0,
        2.5,
        0.030,
        300.0,
        3000.0,
        20.0,
        "A: design flood 3000 m3/s (20-year), 300 m3/s in an ordinary flood season",
    ),
    RiverPlan(
        "wanxi",
        (-2790.0, -3900.0),
        (1000.0, 6800.0),
        3.0e-4,
        50.0,
        2.0,
        0.030,
        30.0,
        460.0,
        20.0,
        "F: 20-year peak 460 m3/s; A: 30 m3/s in an ordinary flood season",
    ),
)
RIVER_REACH = 500.0  # m between river nodes
GAUGE_BED = 5.0  # m, the Shuiyang's bed at the gauge
TRIBUTARY_STEP = 1.0  # m, the Wanxi's bed above the Shuiyang's at the confluence
DYKE_CREST = 19.0  # m, river dykes: the guaranteed 16.50 m plus 2.5 m


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
# (A) Pump curve of a mixed-flow drainage pump (混流泵): rated flow at the rated head, 1.15 x at zero
# head, none at 1.5 x the rated head. The rated head lifts from the design inner level to the
# design outer level (the river's guaranteed level plus an allowance for its rise along the
# river to the station) plus losses.
PUMP_CURVE = ((0.0, 1.15), (0.5, 1.08), (1.0, 1.0), (1.25, 0.7), (1.5, 0.0))  # head/Hd, Q/Qd
PUMP_HEAD_LOSS = 0.8  # m, intake, discharge pipe and flap-gate losses at rated flow
# The units must still deliver at the highest head they meet (GB 50265: 最高扬程, from the
# highest outer level to the lowest inner level): the record river level (F: 17.38 m in 2019)
# plus the allowance, over the drawdown level, stays at or below MAX_HEAD_RATIO x the rated head
# (0.7 x the rated flow on PUMP_CURVE), raising the rated head where the design levels give less.
RECORD_STAGE = 17.38  # m, 宣城 gauge, 2019 (F)
MAX_HEAD_RATIO = 1.25
OUTER_LEVEL_ALLOWANCE = 0.3  # m, river level at the station above the gauge's, in flood
# (A) The inner rivers and ponds (内河/坑塘) of each station's catchment, one level pool.
WATER_SURFACE_RATIO = 0.05  # water surface at the normal level / catchment area (水面率)
BED_AREA_SHARE = 0.5  # water surface at the bed / at the normal level
BANK_AREA_SHARE = 1.5  # water surface at the bank / at the normal level
# Working range: the normal level (常水位) 1.5 m below the catchment's lowest land, the highest
# controlled level 0.3 m below it: 1.2 m between them, as polder inner rivers of the lower Yangtze
# keep (about 1-1.5 m). The deep trunks' outlets lie below the normal level (submerged outlets,
# as in real polders): taking the normal level below every outlet put it 3.7-4.7 m under the
# highest level, and the inner rivers then held a whole storm with the pumps off.
NORMAL_BELOW_BANK = 1.5  # m, from the lowest land down to the normal level
DRAWDOWN = 0.5  # m below the normal level: pre-storm drawdown (预降)
INNER_RIVER_DEPTH = 2.0  # m of water in the inner river at the drawdown level
HIGHEST_BELOW_BANK = 0.3  # m: highest controlled level (最高控制水位) below the lowest land
STORAGE_ABOVE_GROUND = 1.0  # m: the storage top stands above all land of the catchment
STAGE_AREA_STEP = 0.5  # m between points of the stage-area curve above the bank
DESIGN_ABOVE_NORMAL = 0.6  # m: design inner level (设计内水位), where the stations work in a
#                            storm; the rated head is taken from it
FIRST_PUMP_ABOVE_NORMAL = -0.3  # m: the first unit starts here (起排水位), 0.2 m above the
#                                   drawdown level: the station holds the inner river near its
#                                   pre-storm level as a storm begins (starting at the normal
#                                   level + 0.2 m, the rising inner river backed up into the
#                                   submerged trunks of small storms and the 敬亭圩's nodes
#                                   showed 5.4-6.5 % continuity errors); the last at the design
#                                   level; units stop from the drawdown level up
# (A) Gravity sluice (自排闸) beside each station: a flap-gated opening sized to pass twice the
# pumping capacity at 0.3 m head; opened by rule while the inner river stands above the river.
SLUICE_FLOW_FACTOR = 2.0
SLUICE_DESIGN_HEAD = 0.3  # m
SLUICE_HEIGHT = 2.0  # m
SLUICE_COEFF = 0.65
SLUICE_SILL = 0.5  # m above the inner-river bed
SLUICE_OPEN_HEAD = 0.10  # m: opened when the inner river is this much above the river,
SLUICE_CLOSE_HEAD = 0.02  # closed below this (hysteresis against gate chatter)
# (A) Pumping limit (限排): above this river level the stations run half their units (the
# flood-control authority limits discharge into a river over its guaranteed level; between the
# guaranteed 16.50 m and the 2019 record of 17.38 m).
LIMIT_STAGE = 17.0  # m

# ------------------------------------------------------------------------------------------------
# Design of the sewers (A unless said)
# (F) GB 50014: storm sewers of central areas of small and medium cities 2-3 years.
DESIGN_RETURN_PERIOD = 3.0  # years, new city and polders
OLD_TOWN_RETURN_PERIOD = 2.0  # years, old town: sized to the older, lower standard
INLET_TIME = 10.0  # min, surface concentration time t1 (GB 50014: 5-15 min)
MIN_COVER = 1.0  # m of soil over the crown of a pipe or culvert
ADVERSE_GROUND_COST = 200.0  # m of extra route per metre of ground a sewer climbs
MIN_CONDUIT_LENGTH = 100.0  # m; shorter conduits would force tiny routing steps
POLDER_INLET_FLOW = 5.0  # m³/s; a polder sewer carrying more discharges into the inner
#                                   river (内河) rather than into the next sewer
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


# ------------------------------------------------------------------------------------------------
# Land use (A: classes, shares and imperviousness; a smooth patchwork drawn from the seed).
@dataclass(frozen=True)
class LandUse:
    name: str
    name_zh: str
    imperviousness: float  # mean fraction
    flow_length: float  # m, overland flow length: width = area / flow length
    street_share: float  # streets / area: flood water at the cell's manhole spreads over them


# Imperviousness (A) is the directly connected impervious fraction SWMM routes to the sewers,
# calibrated so that a subcatchment's runoff coefficient in the 3-year, 2-hour design storm falls
# in GB 50014-2021's ranges of the composite runoff coefficient (table 3.2.2-2): dense districts
# (建筑密集区) 0.60-0.70, fairly dense (较密集区) 0.45-0.60, sparse (稀疏区) 0.20-0.45; green land
# 0.10-0.20 (table 3.2.2-1). With the Horton parameters below SWMM gives 0.97 on impervious and
# 0.14 on pervious ground in that storm, so a class's coefficient is about
# 0.97·imperviousness + 0.14·(1 - imperviousness): old town and commercial 0.65, residential
# and industrial 0.55, public 0.49 (fairly dense), green 0.16, open land (fields, water, farm
# roads; sparse) 0.22 (tests/test_synth_drainage.py runs the storm and checks). Street shares (A) within
# GB 50137-2011's 10-25 % of urban land for roads and transport, less in green land and fields.
LAND_USES = (
    LandUse("old_town", "老城区混合用地", 0.59, 40.0, 0.20),
    LandUse("commercial", "商业用地", 0.59, 40.0, 0.20),
    LandUse("residential", "居住用地", 0.47, 60.0, 0.15),
    LandUse("industrial", "工业用地", 0.47, 60.0, 0.12),
    LandUse("public", "公共设施用地", 0.40, 60.0, 0.15),
    LandUse("green", "绿地", 0.02, 100.0, 0.03),
    LandUse("open", "农田与水面", 0.09, 100.0, 0.02),
)
# Shares of the classes in each part of the city (same order as LAND_USES).
LAND_USE_SHARES = {
    "old_town": (0.75, 0.12, 0.0, 0.0, 0.05, 0.08, 0.0),
    "city": (0.0, 0.10, 0.50, 0.12, 0.12, 0.16, 0.0),
    "chengdong": (0.0, 0.05, 0.40, 0.25, 0.05, 0.12, 0.13),
    "jingting": (0.0, 0.0, 0.35, 0.05, 0.05, 0.20, 0.35),
}
LAND_USE_PATCH = 600.0  # m, size of the patches of one class
IMPERVIOUSNESS_SD = 0.05  # cell to cell (clipped at 0.02 and 0.98)
# (A) Runoff coefficient of the rational method: 0.9 on impervious, 0.15 on pervious ground.
RUNOFF_COEFF_IMPERVIOUS = 0.9
RUNOFF_COEFF_PERVIOUS = 0.15
# (A) Surface parameters (SWMM manual typical values). Horton infiltration: 75 mm/h initial rate
# (SWMM manual: dry loam with little vegetation), 5 mm/h final rate (hydrologic soil groups B/C),
# decay 2 /h, 7 days to dry: the pervious runoff coefficient of the calibration above.
N_IMPERVIOUS = 0.013
N_PERVIOUS = 0.15
STORE_IMPERVIOUS = 2.0  # mm
STORE_PERVIOUS = 5.0  # mm
PCT_ZERO = 25.0  # % of impervious area without depression storage
HORTON = (75.0, 5.0, 2.0, 7.0)  # max rate mm/h, min rate mm/h, decay 1/h, drying time days
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
# Routing (A, chosen by measuring convergence on the bundled scenarios; README.md): dynamic wave
# with Preissmann-slot surcharge, steps of at most 5 s at half the Courant limit, 20 trials.
ROUTING_STEP = 5.0  # s, largest dynamic-wave step (variable step below it)
VARIABLE_STEP = 0.5  # fraction of the Courant-limited step
MAX_TRIALS = 20
SURCHARGE_METHOD = "SLOT"
# (A) Water a node stores per metre of rise, m²: SWMM moves a node's depth by its inflow less its
# outflow over this area at least (with the slot method, also while it is surcharged). SWMM's
# default (1.17 m²) is one manhole; a node of this skeleton stands for a 3.6 ha cell whose branch
# sewers (about 900 m of DN300-400: 60-120 m³ over the metre or two they fill) and some 30
# manholes fill as it rises: 80 m² per metre. SWMM does not count this water in the node's
# volume, so while it is held it is missing from SWMM's balance, and it is returned as the network
# drains (the runs end drained; README.md gives what is held at the peak).
MIN_SURFAREA = 80.0
DEFAULT_SUBCATCHMENTS = 1500
MIN_SUBCATCHMENTS = 100
MAX_SUBCATCHMENTS = 100_000
