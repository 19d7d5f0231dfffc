"""hydro: a hydraulic scenario engine for water supply (EPANET) and urban drainage (SWMM)."""

__version__ = "0.1.0"
