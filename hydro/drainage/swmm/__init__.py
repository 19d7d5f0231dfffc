"""The SWMM adapter: the only package that talks to the SWMM engine (swmm-toolkit).

:mod:`~hydro.drainage.swmm.engine` runs a model in a private folder and builds the Dataset,
:mod:`~hydro.drainage.swmm.output` reads SWMM's binary output, :mod:`~hydro.drainage.swmm.report`
parses its report (continuity, summaries, errors).
"""
