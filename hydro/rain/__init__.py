"""Rainfall: storm intensity formulas, design hyetographs and observed rainfall series.

SI units throughout (seconds, m/s, m), except :meth:`q`, which gives a formula's intensity in its
own units, L/(s·ha) for t in minutes. Their plots are in :mod:`hydro.report.rain`.
"""

from hydro.rain.config import RainfallConfig, load_rainfall_config
from hydro.rain.formula import (
    LSHA_TO_M_PER_S,
    MM_PER_MIN_IN_LSHA,
    ChineseFormula,
    StormFormula,
    TabulatedFormula,
    idf_table,
)
from hydro.rain.hyetograph import (
    PATTERNS,
    Hyetograph,
    alternating_block,
    chicago,
    chicago_mass_curve,
    huff,
    huff_mass_curve,
)
from hydro.rain.series import RainSeries, read_rain_csv

__all__ = [
    "LSHA_TO_M_PER_S",
    "MM_PER_MIN_IN_LSHA",
    "PATTERNS",
    "ChineseFormula",
    "Hyetograph",
    "RainSeries",
    "RainfallConfig",
    "StormFormula",
    "TabulatedFormula",
    "alternating_block",
    "chicago",
    "chicago_mass_curve",
    "huff",
    "huff_mass_curve",
    "idf_table",
    "load_rainfall_config",
    "read_rain_csv",
]
