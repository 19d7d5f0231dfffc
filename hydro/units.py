"""Every conversion to SI in one place.

hydro keeps SI inside (m, m3/s, s, m3, Pa-free heads in m). The engines speak their model's units
(EPANET and SWMM each have US and SI flow units) and people write quantities with units in scenario
files ("100000 m3/d", "1200 mm"); each table here says how many SI units one of theirs is.
Display units (m3/d, L/s, h) are for presentation only and live beside them.
"""

from __future__ import annotations

# ------------------------------------------------------------------------------------------------
# Base factors (exact by definition, NIST SP 811)

FOOT = 0.3048  # m
INCH = 0.0254  # m
US_GALLON = 3.785411784e-3  # m3
ACRE = 4046.8564224  # m2
MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0  # s
GRAVITY = 9.80665  # m/s2, standard

# ------------------------------------------------------------------------------------------------
# EPANET flow units (EN_getflowunits codes in this order) and pressure units (EN_PRESS_UNITS codes)

EPANET_FLOW_NAMES = ("CFS", "GPM", "MGD", "IMGD", "AFD", "LPS", "LPM", "MLD", "CMH", "CMD", "CMS")
EPANET_US_FLOWS = frozenset({"CFS", "GPM", "MGD", "IMGD", "AFD"})
EPANET_FLOW_TO_M3S = {  # EPANET's own rounded factors, kept so results match its reports
    "CFS": 0.028316846592,
    "GPM": 6.30901964e-05,
    "MGD": 0.0438126363888,
    "IMGD": 0.0526167824,  # imperial million gallons per day
    "AFD": 0.0142764098,  # acre-feet per day
    "LPS": 1e-3,
    "LPM": 1e-3 / MINUTE,
    "MLD": 1e3 / DAY,
    "CMH": 1.0 / HOUR,
    "CMD": 1.0 / DAY,
    "CMS": 1.0,
}
# psi, kPa, m, bar, ft -> m of water head (EPANET's own factors)
EPANET_PRESSURE_TO_M = {0: 0.70307, 1: 1 / GRAVITY, 2: 1.0, 3: 10.197162, 4: FOOT}

# ------------------------------------------------------------------------------------------------
# SWMM flow units ([OPTIONS] FLOW_UNITS); the unit system follows them

SWMM_US_FLOWS = frozenset({"CFS", "GPM", "MGD"})
SWMM_FLOW_TO_M3S = {
    "CFS": FOOT**3,
    "GPM": US_GALLON / MINUTE,
    "MGD": 3.785411784e3 / DAY,
    "CMS": 1.0,
    "LPS": 1.0e-3,
    "MLD": 1.0e3 / DAY,
}

# ------------------------------------------------------------------------------------------------
# Quantities people write in scenario files (lower case; parsed by hydro.scenario.schema)

DURATION_UNITS = {
    "s": 1,
    "sec": 1,
    "min": 60,
    "m": 60,
    "h": 3600,
    "hr": 3600,
    "d": 86400,
    "day": 86400,
}
FLOW_UNITS = {
    "m3/s": 1.0,
    "m3/h": 1 / HOUR,
    "m3/d": 1 / DAY,
    "l/s": 1e-3,
    "lps": 1e-3,
    "ml/d": 1e3 / DAY,
    "cms": 1.0,
}
LENGTH_UNITS = {"m": 1.0, "mm": 1e-3, "cm": 1e-2, "km": 1e3}
