"""The synthetic Xuancheng that both bundled models stand on: place, terrain, rivers, zones, polders.

The water-supply and drainage generators share this one picture of the city so that their pipes,
rivers and ground agree. Facts from public sources are marked (F), working assumptions (A); see
../shared/context/xuancheng.md and networks/xuancheng/README.md.

Local coordinates are metres east (x) and north (y) of the city centre; :func:`to_projected` turns
them into CGCS2000 / 3-degree Gauss-Kruger CM 120E (EPSG:4549), the CRS the INP files are written in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# (F) City centre, WGS84/CGCS2000 geographic.
CENTRE_LON = 118.758
CENTRE_LAT = 30.940
CRS = "EPSG:4549"  # (A) CGCS2000 / 3-degree Gauss-Kruger CM 120E

# CGCS2000 ellipsoid and the EPSG:4549 transverse Mercator parameters.
_A = 6378137.0
_F = 1 / 298.257222101
_LON0 = 120.0
_FALSE_EASTING = 500000.0


def transverse_mercator(lon: float, lat: float) -> tuple[float, float]:
    """Geographic degrees -> EPSG:4549 easting, northing in metres (Snyder's series, mm accuracy)."""
    e2 = _F * (2 - _F)
    ep2 = e2 / (1 - e2)
    phi = math.radians(lat)
    lam = math.radians(lon - _LON0)
    n = _A / math.sqrt(1 - e2 * math.sin(phi) ** 2)
    t = math.tan(phi) ** 2
    c = ep2 * math.cos(phi) ** 2
    a = lam * math.cos(phi)
    e4, e6 = e2 * e2, e2 * e2 * e2
    m = _A * (
        (1 - e2 / 4 - 3 * e4 / 64 - 5 * e6 / 256) * phi
        - (3 * e2 / 8 + 3 * e4 / 32 + 45 * e6 / 1024) * math.sin(2 * phi)
        + (15 * e4 / 256 + 45 * e6 / 1024) * math.sin(4 * phi)
        - (35 * e6 / 3072) * math.sin(6 * phi)
    )
    x = _FALSE_EASTING + n * (
        a + (1 - t + c) * a**3 / 6 + (5 - 18 * t + t * t + 72 * c - 58 * ep2) * a**5 / 120
    )
    y = m + n * math.tan(phi) * (
        a * a / 2
        + (5 - t + 9 * c + 4 * c * c) * a**4 / 24
        + (61 - 58 * t + t * t + 600 * c - 330 * ep2) * a**6 / 720
    )
    return x, y


CENTRE_EASTING, CENTRE_NORTHING = transverse_mercator(CENTRE_LON, CENTRE_LAT)


def to_projected(x, y):
    """Local metres (east, north of the centre) -> EPSG:4549 metres.

    Within the city (about 10 km across) the grid convergence (~0.6 degrees) and scale error
    (< 1e-4) are below the precision of a synthetic model, so a shift is enough.
    """
    return np.asarray(x) + CENTRE_EASTING, np.asarray(y) + CENTRE_NORTHING


# ------------------------------------------------------------------------------------------------
# Terrain (A): falls from the south-east hills to the north-west plain, urban ground 10-40 m, low
# polder land 10-18 m, 敬亭山 rising north of the city.


def ground_elevation(x, y):
    """Synthetic ground elevation in metres at local coordinates (vectorised, deterministic)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    # Regional slope: about 2.5 m per km along the south-east -> north-west axis.
    along = (x - y) / math.sqrt(2.0)  # grows towards the south-east
    z = 21.0 + 9.0 * np.tanh(along / 6000.0)
    # Gentle undulation so that drainage finds local lows (fixed phases: no randomness).
    z += 1.5 * np.sin(x / 1300.0 + 0.7) * np.cos(y / 1700.0 - 0.4)
    # 敬亭山 (Jingting Mountain), north of the city.
    z += 60.0 * np.exp(-(((x + 1500.0) / 1500.0) ** 2 + ((y - 7500.0) / 1200.0) ** 2))
    # South-east hills beyond the urban edge.
    z += 25.0 * np.exp(-(((x - 6000.0) / 3000.0) ** 2 + ((y + 7000.0) / 2500.0) ** 2))
    # Polder land sits low: pull it into 10-18 m.
    for polder in POLDERS:
        inside = polder.contains(x, y)
        z = np.where(inside, np.clip(10.5 + 0.45 * (z - 10.0), 10.5, 17.5), z)
    return np.clip(z, 9.0, None)


# ------------------------------------------------------------------------------------------------
# Areas


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle in local metres."""

    name: str
    name_zh: str
    xmin: float
    xmax: float
    ymin: float
    ymax: float

    @property
    def area_km2(self) -> float:
        return (self.xmax - self.xmin) * (self.ymax - self.ymin) / 1e6

    def contains(self, x, y):
        x = np.asarray(x)
        y = np.asarray(y)
        return (x >= self.xmin) & (x <= self.xmax) & (y >= self.ymin) & (y <= self.ymax)


# (A) Supply zones: the main urban area in the middle, the development zone to the west, the
# eastern area to the east (the work plan names the three; their extents are assumptions).
ZONES = (
    Box("main", "主城区", -3000.0, 3000.0, -3500.0, 3500.0),
    Box("devzone", "经开区", -8000.0, -3000.0, -3000.0, 3000.0),
    Box("east", "东部片区", 3000.0, 6500.0, -3000.0, 2500.0),
)

# (F) Dyked polders: 城东联圩 20.89 km² between the Shuiyang and the Wanxi; 敬亭圩 3.8 km².
# (A) Their placement and rectangular outline.
POLDERS = (
    Box("chengdong", "城东联圩", 1500.0, 6725.0, 2500.0, 6500.0),  # 5.225 km x 4.0 km = 20.9 km²
    Box("jingting", "敬亭圩", -3500.0, -1500.0, 3600.0, 5500.0),  # 2.0 km x 1.9 km = 3.8 km²
)


# ------------------------------------------------------------------------------------------------
# Rivers (F names and topology; A geometry). Polylines in local metres, upstream to downstream.


@dataclass(frozen=True)
class River:
    name: str
    name_zh: str
    points: tuple[tuple[float, float], ...]
    normal_stage: float  # m, water level in an ordinary flood season
    flood_stage: float  # m, high stage scenarios use

    def xy(self) -> np.ndarray:
        return np.asarray(self.points, dtype=float)


# (F) 宛溪河 crosses the city from the south-west and joins the 水阳江 at 北门三汊河 (north gate).
# (F) 水阳江 skirts the city on the east and north; Xuancheng gauge guaranteed level 16.50 m, typical
# flood-season levels 12-13 m.
CONFLUENCE = (1000.0, 6800.0)  # 北门三汊河 (A: position)
RIVERS = (
    River(
        "wanxi",
        "宛溪河",
        ((-4500.0, -6500.0), (-2200.0, -3000.0), (-400.0, 0.0), (600.0, 3500.0), CONFLUENCE),
        12.0,
        16.5,
    ),
    River(
        "shuiyang",
        "水阳江",
        (
            (8000.0, -7000.0),
            (7200.0, -1000.0),
            (7000.0, 3000.0),
            (6900.0, 6900.0),
            CONFLUENCE,
            (-3000.0, 8500.0),
            (-9000.0, 9500.0),
        ),
        12.0,
        16.5,
    ),
)


# ------------------------------------------------------------------------------------------------
# Water sources (F existence; A placement). Local metres.


@dataclass(frozen=True)
class Source:
    name: str
    name_zh: str
    intake: tuple[float, float]
    plant: tuple[float, float]
    raw_main_km: float
    water_level: float  # m, raw-water level at the intake (normal)


SOURCES = (
    # (F) Main source today, east side of the city.
    Source("shuiyang", "水阳江", (7300.0, -800.0), (5200.0, -600.0), 2.5, 12.0),
    # (F) 23.6 km raw-water main from 文昌 on the 青弋江 with one lift and one booster station.
    Source("qingyi", "青弋江", (-25000.0, -9000.0), (-8500.0, -1500.0), 23.6, 9.0),
    # (F) 港口湾水库, flood-limit level 133.00 m; (A) 40-50 km gravity main to a new plant on the
    # south-east edge, normal level 120-133 m.
    Source("gangkouwan", "港口湾水库", (32000.0, -28000.0), (4500.0, -4800.0), 45.0, 126.0),
)
