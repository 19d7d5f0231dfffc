"""The EPANET adapter: the only package that talks to the EPANET library.

:mod:`~hydro.supply.epanet.library` binds the EPANET 2.3 toolkit shipped in ``owa-epanet`` through
ctypes (enums, units, error texts); :mod:`~hydro.supply.epanet.project` is an open project with SI
getters and setters and the simulation loop. Everything that leaves this package is in SI units.
"""

from hydro.supply.epanet.library import (
    WARNINGS,
    LinkProperty,
    LinkState,
    LinkType,
    NodeProperty,
    NodeType,
    QualityType,
    TimeParameter,
    Units,
    engine_version,
    error_text,
    library,
)
from hydro.supply.epanet.project import EpanetProject

__all__ = [
    "WARNINGS",
    "EpanetProject",
    "LinkProperty",
    "LinkState",
    "LinkType",
    "NodeProperty",
    "NodeType",
    "QualityType",
    "TimeParameter",
    "Units",
    "engine_version",
    "error_text",
    "library",
]
