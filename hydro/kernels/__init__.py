"""numba kernels that turn engine time series into verdicts per place.

Inputs are (scenario, time, element) arrays, float32 or float64, time-major. Every kernel sweeps the
time rows once and keeps per-element accumulators, in parallel over scenarios and blocks of
elements, so a whole ensemble is scored in one call. Public functions check their arguments in
Python and call a ``@numba.njit(cache=True)`` kernel; each has a slow, obvious twin in
:mod:`hydro.kernels._reference` used by the tests. Time axis, integration rules and missing values
are described once in :mod:`hydro.kernels._common`.
"""

from hydro.kernels._common import KernelArgumentError, intervals, sample_times
from hydro.kernels.flooding import FloodingStats, flooding_stats
from hydro.kernels.graph import edges_to_csr, service_areas, service_membership
from hydro.kernels.hazard import (
    CLASS_NAMES,
    CLASS_WEIGHTS,
    CLASSES,
    DEPTH_EDGES,
    DURATION_EDGES,
    hazard_class,
    hazard_score,
    rank_order,
)
from hydro.kernels.ponding import (
    LANE_DEPTH,
    PondingStats,
    area_table,
    ponding_stats,
    volume_to_depth,
)
from hydro.kernels.pumps import AT_CAPACITY, RUNNING_FLOW, PumpStats, pump_stats
from hydro.kernels.supply import (
    SERVICE_HEAD,
    DominantSource,
    ZoneCompliance,
    dominant_source,
    pressure_compliance,
    zone_compliance,
)

__all__ = [
    "AT_CAPACITY",
    "CLASSES",
    "CLASS_NAMES",
    "CLASS_WEIGHTS",
    "DEPTH_EDGES",
    "DURATION_EDGES",
    "LANE_DEPTH",
    "RUNNING_FLOW",
    "SERVICE_HEAD",
    "DominantSource",
    "FloodingStats",
    "KernelArgumentError",
    "PondingStats",
    "PumpStats",
    "ZoneCompliance",
    "area_table",
    "dominant_source",
    "edges_to_csr",
    "flooding_stats",
    "hazard_class",
    "hazard_score",
    "intervals",
    "ponding_stats",
    "pressure_compliance",
    "pump_stats",
    "rank_order",
    "sample_times",
    "service_areas",
    "service_membership",
    "volume_to_depth",
    "zone_compliance",
]
