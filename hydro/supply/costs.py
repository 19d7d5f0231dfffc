"""What a supply option costs: a unit-cost table, pump energy from operating points, net present
value.

Every number here is an assumption (A) a planner must replace with the design institute's
estimate; the defaults and where their orders of magnitude come from are listed in
``networks/xuancheng/README.md`` ("The Gangkouwan decision study"). A scenario overrides any of
them in a ``[costs]`` table, e.g.::

    [costs]
    energy_tariff = 0.72          # CNY per kWh
    pipe_per_m = { 1000 = 3200, 1200 = 4100 }

Costs are in CNY (yuan) at today's prices; energy in J (tables show kWh).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, field_validator

from hydro.scenario.schema import Strict

KWH = 3.6e6  # J
YEAR = 365.0  # days

# (A) Installed cost of a large buried water main per metre by nominal diameter (mm), CNY:
# pipe (PCCP/DI/steel), laying, trench and reinstatement in open country, 2020s prices.
PIPE_PER_M = {
    300: 700.0,
    400: 900.0,
    500: 1150.0,
    600: 1400.0,
    700: 1700.0,
    800: 2000.0,
    900: 2400.0,
    1000: 2800.0,
    1200: 3700.0,
    1400: 4700.0,
    1600: 5800.0,
    1800: 7000.0,
    2000: 8300.0,
}


class UnitCosts(Strict):
    """The unit-cost table and economic parameters of a study (all assumptions, overridable)."""

    pipe_per_m: dict[int, float] = Field(default_factory=lambda: dict(PIPE_PER_M))
    plant_per_m3d: float = Field(default=1200.0, ge=0)  # CNY per m3/d of treatment capacity
    pump_per_kw: float = Field(default=3000.0, ge=0)  # CNY per kW of pump power installed
    energy_tariff: float = Field(default=0.65, ge=0)  # CNY per kWh
    discount_rate: float = Field(default=0.08, gt=0, lt=1)  # per year
    years: int = Field(default=30, ge=1, le=100)  # analysis period
    pump_life: int = Field(default=15, ge=1, le=100)  # pumps bought again after this
    pump_efficiency: float = Field(default=0.82, gt=0, le=1)  # at the best-efficiency point
    motor_efficiency: float = Field(default=0.95, gt=0, le=1)
    turbine_efficiency: float = Field(default=0.80, gt=0, le=1)  # recovering burned head

    @field_validator("pipe_per_m")
    @classmethod
    def _table(cls, table: dict[int, float]) -> dict[int, float]:
        if len(table) < 2 or any(dn <= 0 or cost < 0 for dn, cost in table.items()):
            raise ValueError(
                "pipe_per_m needs at least two diameters (mm) with costs >= 0 CNY per metre"
            )
        return dict(sorted(table.items()))

    def pipe(self, diameter: float) -> float:
        """[CNY/m] installed cost of a main of ``diameter`` m, linear between the table's
        diameters; outside the table is refused (a cost is never extrapolated)."""
        dn = np.array(list(self.pipe_per_m), dtype=float)
        cost = np.array(list(self.pipe_per_m.values()))
        mm = diameter * 1000
        if not dn[0] - 1e-6 <= mm <= dn[-1] + 1e-6:
            raise ValueError(
                f"costs.pipe_per_m: no cost for DN{mm:.0f}; the table covers "
                f"DN{dn[0]:.0f}-DN{dn[-1]:.0f}"
            )
        return float(np.interp(mm, dn, cost))

    def annuity(self, years: int | None = None) -> float:
        """Present value of 1 CNY a year for ``years`` (default: the analysis period)."""
        n, r = years or self.years, self.discount_rate
        return (1 - (1 + r) ** -n) / r

    def pump_capital(self, kw: float) -> float:
        """[CNY] pumps of ``kw`` bought now and again every pump_life years in the period
        (present value)."""
        buys = range(0, self.years, self.pump_life)
        return kw * self.pump_per_kw * sum((1 + self.discount_rate) ** -y for y in buys)


def pump_efficiency(q: np.ndarray, best: float) -> np.ndarray:
    """Efficiency of a centrifugal pump at ``q`` = flow / rated flow: ``best`` at q = 1 on the
    parabola best * q (2 - q) through zero at shut-off (and at twice the rated flow), never
    below 10 % while it runs."""
    q = np.asarray(q, dtype=float)
    return np.clip(best * q * (2 - q), 0.1, best)


def electric_power(
    hydraulic: np.ndarray, flow: np.ndarray, rated: np.ndarray, costs: UnitCosts
) -> np.ndarray:
    """[W] power drawn from the grid for pumps giving ``hydraulic`` power (rho g Q H, W) at
    ``flow`` (m3/s, steps x pumps) with ``rated`` flows (pumps): pump x motor efficiency."""
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(rated > 0, np.abs(flow) / rated, 1.0)
    return hydraulic / (pump_efficiency(q, costs.pump_efficiency) * costs.motor_efficiency)
