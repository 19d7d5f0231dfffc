"""The thresholds behind the scores: documented defaults, replaceable from Python or a TOML file.

Waterlogging (GB 50014: a road is waterlogged when one lane holds more than 15 cm of water; this
city counts ponding of 30 minutes or more) is judged on a depth x duration matrix; see
:mod:`hydro.kernels.hazard` for the default matrix and how values on a bin edge fall. Supply is
judged against a minimum service head of 28 m (0.28 MPa, six storeys, GB 50013 practice).

A rules file holds any of these keys (all optional; lengths and durations may carry units)::

    [waterlogging]
    lane_depth = "15 cm"                      # depth above which a place counts as waterlogged
    depth_edges = ["15 cm", "30 cm", "50 cm"]  # rows of the class matrix
    duration_edges = ["30min", "1h", "2h"]     # columns: time deeper than lane_depth
    classes = [[0, 0, 0, 0], [0, 1, 2, 3], [0, 2, 3, 4], [0, 3, 4, 4]]
    weights = [0, 1, 2, 4, 8]                 # score = weights[class] * flood volume
    class_names = ["none", "low", "moderate", "high", "severe"]
    rule = "rectangle"                        # time integration: "rectangle" or "trapezoid"
    ponded_depth = "engine"                   # "engine" or "volume" (see WaterloggingRules)

    [supply]
    service_head = "28 m"
    rule = "trapezoid"
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from hydro.errors import ScenarioError
from hydro.kernels import (
    CLASS_NAMES,
    CLASS_WEIGHTS,
    CLASSES,
    DEPTH_EDGES,
    DURATION_EDGES,
    LANE_DEPTH,
    SERVICE_HEAD,
    KernelArgumentError,
)
from hydro.kernels.hazard import check_matrix, check_weights
from hydro.scenario.loader import read_toml, validate
from hydro.scenario.schema import Duration, Length, Strict
from hydro.scoring._common import kernel_errors

PONDED_DEPTHS = ("engine", "volume")


@dataclass(frozen=True)
class WaterloggingRules:
    """How a flooded place is judged.

    lane_depth : [m] a place is waterlogged while its surface water is deeper than this.
    depth_edges, duration_edges, classes : the hazard matrix (:func:`hydro.kernels.hazard_class`);
        the duration is the time spent deeper than ``lane_depth`` [s].
    weights : one per class; score = weights[class] * flood volume [m3].
    class_names : one label per class, for tables.
    rule : time integration, "rectangle" (default: each reported value holds over the interval it
        closes, SWMM's own accounting of its summaries) or "trapezoid".
    ponded_depth : where the model ponds, "engine" (default) takes the depth SWMM computes above
        the node's rim (water depth - full depth: the figure of SWMM's Node Flooding Summary), and
        "volume" takes ponded volume / ponded area. SWMM's ponded volume also fills the surface of
        the conduits at the node, so "volume" reads 5-40 % deeper (measured on user1.inp with
        100 m2 ponded areas).
    """

    lane_depth: float = LANE_DEPTH
    depth_edges: tuple[float, ...] = DEPTH_EDGES
    duration_edges: tuple[float, ...] = DURATION_EDGES
    classes: tuple[tuple[int, ...], ...] = CLASSES
    weights: tuple[float, ...] = CLASS_WEIGHTS
    class_names: tuple[str, ...] = CLASS_NAMES
    rule: Literal["rectangle", "trapezoid"] = "rectangle"
    ponded_depth: Literal["engine", "volume"] = "engine"

    def __post_init__(self) -> None:
        if not np.isfinite(self.lane_depth) or self.lane_depth < 0:
            raise ScenarioError(f"lane_depth must be a depth >= 0 m, got {self.lane_depth!r}")
        if self.rule not in ("rectangle", "trapezoid"):
            raise ScenarioError(f"rule must be 'rectangle' or 'trapezoid', got {self.rule!r}")
        if self.ponded_depth not in PONDED_DEPTHS:
            raise ScenarioError(
                f"ponded_depth must be one of {', '.join(PONDED_DEPTHS)}, got {self.ponded_depth!r}"
            )
        # The kernels' own checks of the matrix, edges and weights (numpy only: making the rules
        # loads no kernel), so that a bad rule fails here, not in the middle of an ensemble.
        with kernel_errors(kind=ScenarioError):
            matrix = check_matrix(self.depth_edges, self.duration_edges, self.classes)[2]
            top = int(np.max(matrix))
            if check_weights(self.weights).size <= top:
                raise KernelArgumentError(
                    f"class {top} has no weight: {len(self.weights)} weights given"
                )
        if len(self.class_names) <= top:
            raise ScenarioError(
                f"class_names must name every class 0..{top}, got {len(self.class_names)} names"
            )

    def class_name(self, value: int) -> str:
        """The label of a class; 'unknown' for -1 (no surface depth to judge)."""
        return self.class_names[value] if 0 <= value < len(self.class_names) else "unknown"


@dataclass(frozen=True)
class SupplyRules:
    """service_head [m]: a node is served while its pressure head is at least this.
    rule: time weighting, "trapezoid" (default; EPANET reports instants) or "rectangle"."""

    service_head: float = SERVICE_HEAD
    rule: Literal["rectangle", "trapezoid"] = "trapezoid"

    def __post_init__(self) -> None:
        if not np.isfinite(self.service_head):
            raise ScenarioError(
                f"service_head must be a number of metres, got {self.service_head!r}"
            )
        if self.rule not in ("rectangle", "trapezoid"):
            raise ScenarioError(f"rule must be 'rectangle' or 'trapezoid', got {self.rule!r}")


@dataclass(frozen=True)
class ScoringRules:
    waterlogging: WaterloggingRules = field(default_factory=WaterloggingRules)
    supply: SupplyRules = field(default_factory=SupplyRules)


# The defaults, shared (the rules are frozen).
DEFAULT_RULES = ScoringRules()


# ------------------------------------------------------------------------------------------------
# The rules file


class _WaterloggingTable(Strict):
    lane_depth: Length = LANE_DEPTH
    depth_edges: list[Length] = Field(default_factory=lambda: list(DEPTH_EDGES), min_length=1)
    duration_edges: list[Duration] = Field(
        default_factory=lambda: [int(t) for t in DURATION_EDGES], min_length=1
    )
    classes: list[list[int]] = Field(default_factory=lambda: [list(r) for r in CLASSES])
    weights: list[float] = Field(default_factory=lambda: list(CLASS_WEIGHTS))
    class_names: list[str] = Field(default_factory=lambda: list(CLASS_NAMES))
    rule: Literal["rectangle", "trapezoid"] = "rectangle"
    ponded_depth: Literal["engine", "volume"] = "engine"


class _SupplyTable(Strict):
    service_head: Length = SERVICE_HEAD
    rule: Literal["rectangle", "trapezoid"] = "trapezoid"


class _RulesFile(Strict):
    waterlogging: _WaterloggingTable = Field(default_factory=_WaterloggingTable)
    supply: _SupplyTable = Field(default_factory=_SupplyTable)


def load_rules(path: str | Path) -> ScoringRules:
    """Scoring rules from a TOML file (see the module docstring); unknown keys are errors."""
    table = validate(_RulesFile, read_toml(path), path)
    w, s = table.waterlogging, table.supply
    try:
        return ScoringRules(
            WaterloggingRules(
                lane_depth=w.lane_depth,
                depth_edges=tuple(w.depth_edges),
                duration_edges=tuple(float(d) for d in w.duration_edges),
                classes=tuple(tuple(row) for row in w.classes),
                weights=tuple(w.weights),
                class_names=tuple(w.class_names),
                rule=w.rule,
                ponded_depth=w.ponded_depth,
            ),
            SupplyRules(service_head=s.service_head, rule=s.rule),
        )
    except ScenarioError as err:
        raise ScenarioError(f"{path}: {err}") from None
