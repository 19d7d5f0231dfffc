"""The synthetic Xuancheng drainage model: plan, layout, sewer design and the SWMM INP writer.

:func:`write_drainage` writes ``drainage.inp`` and its sidecar; :func:`generate_drainage` returns
the model without writing it. Same arguments, same bytes.
"""

from hydro.synth.drainage.generate import (
    DrainageModel,
    bundled_rainfall,
    default_storm,
    generate_drainage,
    write_drainage,
)

__all__ = [
    "DrainageModel",
    "bundled_rainfall",
    "default_storm",
    "generate_drainage",
    "write_drainage",
]
