"""The synthetic Xuancheng water-supply model: layout, demand, sizing, works and the INP writer.

:func:`write_supply` writes ``supply.inp`` and its sidecars; :func:`generate_supply` returns the
model without writing it. Same arguments, same bytes.
"""

from hydro.synth.supply.generate import (
    DEFAULT_JUNCTIONS,
    DEFAULT_SEED,
    SupplyModel,
    generate_supply,
    minimum_junctions,
    write_supply,
)

__all__ = [
    "DEFAULT_JUNCTIONS",
    "DEFAULT_SEED",
    "SupplyModel",
    "generate_supply",
    "minimum_junctions",
    "write_supply",
]
