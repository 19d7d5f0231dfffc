"""Water supply: EPANET models, scenario edits, source tracing and supply metrics."""

from hydro.supply.run import run
from hydro.supply.tracing import source_shares

__all__ = ["run", "source_shares"]
