"""Study curves of the supply capacity study (:mod:`hydro.supply.capacity_study`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from hydro.report.style import new_axes


def study_curves(study: xr.Dataset, path: str | Path | None = None):
    """Delivered flow (m³/d) and pressure compliance (%) against the swept pipeline size, one
    line per reservoir level, one column per outage case. Returns the Figure (also written to
    ``path`` when given)."""
    kind = study.attrs["swept"]
    outages = [str(o) for o in study["outage"].values]
    fig, axes = new_axes((4 * len(outages) + 0.5, 6.5), ncols=len(outages), nrows=2)
    axes = np.asarray(axes).reshape(2, len(outages))
    x = study["size"].values * (1000 if kind == "diameter" else 86400)
    source = study.attrs.get("source", "source")
    for col, out in enumerate(outages):
        for level in study["level"].values:
            case = study.sel(outage=out, level=level)
            label = "model level" if np.isnan(level) else f"level {level:g} m"
            flow = case["study_delivered_flow"].values * 86400
            axes[0, col].plot(x, flow, marker="o", label=label)
            axes[1, col].plot(x, case["study_compliance"].values * 100, marker="o", label=label)
        axes[0, col].set_title("rivers out: " + out)
        axes[1, col].set_ylim(0, 102)
        for ax in axes[:, col]:
            ax.ticklabel_format(axis="y", style="plain", useOffset=False)
            ax.grid(alpha=0.3)
        axes[1, col].set_xlabel("diameter (mm)" if kind == "diameter" else "flow cap (m³/d)")
    axes[0, 0].set_ylabel(f"{source} delivered (m³/d)")
    axes[1, 0].set_ylabel("pressure compliance (%)")
    axes[0, 0].legend(fontsize="small")
    fig.suptitle(f"{source} pipeline: what each size delivers, and the city's pressure")
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
