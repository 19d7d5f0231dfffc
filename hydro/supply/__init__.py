"""Water supply: EPANET models, scenario edits, source tracing and supply metrics."""

from hydro.supply.run import run

__all__ = ["run"]
