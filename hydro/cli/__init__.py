"""The ``hydro`` command line: one module per command group, over the Python API.

:mod:`~hydro.cli.app` holds the root command and the whole-model commands (run, compare, score,
ensemble); :mod:`~hydro.cli.supply`, :mod:`~hydro.cli.drainage`, :mod:`~hydro.cli.flood` and
:mod:`~hydro.cli.synth` the groups; :mod:`~hydro.cli.common` what they share (plain-word errors, progress, tables).
"""

from hydro.cli.app import app, main

__all__ = ["app", "main"]
