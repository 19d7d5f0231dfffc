"""SWMM side: INP files, the engine adapter, and readers of SWMM's binary output and report."""

from hydro.drainage.inp import SwmmInput, read_inp, si_factors
from hydro.drainage.swmm.engine import run
from hydro.drainage.swmm.output import SwmmOutput, read_out
from hydro.drainage.swmm.report import SwmmReport, parse_report, read_report

__all__ = [
    "SwmmInput",
    "SwmmOutput",
    "SwmmReport",
    "parse_report",
    "read_inp",
    "read_out",
    "read_report",
    "run",
    "si_factors",
]
