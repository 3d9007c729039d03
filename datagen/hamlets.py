"""Synthetic hamlets (ấp / khóm): points inside their commune, households and people that sum up.

No public source lists Trà Vinh's ~800 hamlets with locations, so they are drawn: a count per
commune that grows with population, well-spread points inside the commune polygon (the first one is
the commune centre), households and population apportioned exactly to the commune totals, and a
Khmer share and a poor-household share that follow the province's known geography.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from datagen.geometry import METRIC_EPSG, sample_points_in_polygon
from datagen.names import hamlet_names
from datagen.params import GeneratorParams

HAMLET_COLUMNS: tuple[str, ...] = (
    "hamlet_id",
    "hamlet_name",
    "hamlet_type",
    "commune_id",
    "commune_code",
    "district_name",
    "households",
    "population",
    "khmer_share",
    "poor_household_share",
    "is_commune_centre",
)

KHMER_SHARE_BY_DISTRICT: dict[str, float] = {
    "Huyện Trà Cú": 0.60,
    "Huyện Cầu Ngang": 0.40,
    "Huyện Châu Thành": 0.36,
    "Huyện Tiểu Cần": 0.30,
    "Huyện Cầu Kè": 0.28,
    "Huyện Duyên Hải": 0.17,
    "Thành phố Trà Vinh": 0.17,
    "Huyện Càng Long": 0.06,
}
"""Approximate Khmer share of residents per district (order of the 2009 census ethnic tables)."""

PROVINCE_KHMER_SHARE = 0.31
"""Trà Vinh's Khmer share of population (≈ 31% in the 2009 and 2019 censuses)."""

COASTAL_COMMUNES: frozenset[str] = frozenset(
    {"Thị trấn Mỹ Long", "Xã Mỹ Long Bắc", "Xã Mỹ Long Nam", "Xã Hiệp Mỹ Đông", "Xã Hiệp Mỹ Tây"}
)
"""Cầu Ngang communes on the sea; every Duyên Hải commune is treated as coastal too."""


@dataclass(frozen=True)
class HamletDraw:
    """Internal result of :func:`generate_hamlets`: the layer and per-hamlet context for later layers."""

    hamlets: gpd.GeoDataFrame  # EPSG:32648, HAMLET_COLUMNS + geometry + helpers
    district_centres: gpd.GeoDataFrame  # EPSG:32648, one point per district seat


def is_coastal(commune_name: str, district_name: str) -> bool:
    """Return whether a commune lies on the sea (Duyên Hải, seaward Cầu Ngang)."""
    return district_name == "Huyện Duyên Hải" or commune_name in COASTAL_COMMUNES


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into integers proportional to ``weights`` that sum exactly to ``total``.

    Largest-remainder (Hamilton) method; ties break by position, so the result is deterministic.
    """
    w = np.asarray(weights, dtype=float)
    if total < 0 or len(w) == 0 or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("apportion needs total >= 0 and non-negative weights with a positive sum")
    quota = total * w / w.sum()
    base = np.floor(quota).astype(np.int64)
    rest = int(total - base.sum())
    order = np.argsort(-(quota - base), kind="stable")
    base[order[:rest]] += 1
    return base


def hamlet_counts(population: np.ndarray, *, mean_per_commune: float, rng: np.random.Generator) -> np.ndarray:
    """Return hamlets per commune: proportional to population with noise, 3 to 16 each."""
    pop = np.asarray(population, dtype=float)
    mean_size = pop.sum() / (len(pop) * mean_per_commune)
    raw = pop / mean_size * rng.lognormal(0.0, 0.18, len(pop))
    return np.clip(np.rint(raw), 3, 16).astype(np.int64)


def commune_centre(polygon: BaseGeometry) -> Point:
    """Return the commune centre: the centroid when 150 m inside the polygon, else a representative point."""
    centroid = polygon.centroid
    if polygon.buffer(-150).contains(centroid):
        return centroid
    return polygon.representative_point()


def seat_commune_ids(communes: pd.DataFrame) -> dict[str, str]:
    """Return ``district_name -> commune_id`` of each district seat.

    The seat is the township named like the district ("Thị trấn Trà Cú" for "Huyện Trà Cú"),
    "Phường 1" of a city, otherwise the most populous township or ward of the district.
    """
    seats: dict[str, str] = {}
    for district, group in communes.groupby("district_name", sort=True):
        stem = str(district).split(" ", 1)[1] if str(district).startswith("Huyện ") else ""
        named = group[group["commune_name"] == f"Thị trấn {stem}"]
        if named.empty:
            named = group[group["commune_name"] == "Phường 1"]
        if named.empty:
            urban = group[group["commune_type"] != "xã"]
            named = (urban if not urban.empty else group).sort_values("population", ascending=False)
        seats[str(district)] = str(named.iloc[0]["commune_id"])
    return seats


def commune_khmer_means(
    communes: pd.DataFrame,
    rng: np.random.Generator,
    *,
    table: Mapping[str, float] = KHMER_SHARE_BY_DISTRICT,
    default: float = 0.2,
    floor: float = 0.01,
) -> np.ndarray:
    """Return each commune's mean Khmer share: district level times log-normal noise, ``floor``–0.95.

    Parameters
    ----------
    communes
        Communes with ``district_name``.
    rng
        Random generator.
    table
        District name -> Khmer share of residents (0–1); default Trà Vinh's :data:`KHMER_SHARE_BY_DISTRICT`.
    default
        Share of a district missing from ``table``.
    floor
        Smallest commune mean (0.01 for Trà Vinh; lower for provinces with almost no Khmer residents).
    """
    base = communes["district_name"].map(table).fillna(default).to_numpy(dtype=float)
    return np.clip(base * rng.lognormal(0.0, 0.45, len(base)), floor, 0.95)


def hamlets_of_commune(
    row: pd.Series,
    polygon: BaseGeometry,
    n: int,
    khmer_mean: float,
    rng: np.random.Generator,
    *,
    coastal: bool | None = None,
) -> pd.DataFrame:
    """Draw the ``n`` hamlets of one commune (metric coordinates; the first is the commune centre).

    Parameters
    ----------
    row
        The commune: ``commune_id``, ``commune_code``, ``commune_name``, ``district_name``,
        ``commune_type``, ``households``, ``population``.
    polygon
        Its (Multi)Polygon in EPSG:32648.
    n
        Number of hamlets (at least 1).
    khmer_mean
        Mean Khmer share of the commune (0–1).
    rng
        Random generator.
    coastal
        Whether the commune is on the sea; ``None`` uses :func:`is_coastal` (Trà Vinh's coast).
    """
    centre = commune_centre(polygon)
    others = sample_points_in_polygon(polygon, n - 1, rng, existing=np.array([[centre.x, centre.y]]))
    xy = np.vstack([[centre.x, centre.y], others])
    urban = row["commune_type"] != "xã"
    if coastal is None:
        coastal = is_coastal(row["commune_name"], row["district_name"])
    kappa = 2.5
    khmer = rng.beta(max(khmer_mean * kappa, 0.05), max((1 - khmer_mean) * kappa, 0.05), n)
    khmer[0] *= 0.6  # centres are more Kinh / Hoa (traders, officials)
    names = hamlet_names(n, urban=urban, khmer_shares=khmer, coastal=coastal, rng=rng)
    weights = rng.gamma(3.0, 1.0, n)
    weights[0] *= 1.6  # the commune centre (market, committee) is the largest hamlet
    households = apportion(int(row["households"]), weights)
    size = np.clip(1.0 + 0.12 * (khmer - 0.3) + rng.normal(0.0, 0.04, n), 0.8, 1.25)
    population = apportion(int(row["population"]), households * size)
    kind = "khóm" if urban else "ấp"
    return pd.DataFrame(
        {
            "hamlet_id": [f"{row['commune_id']}-{i:02d}" for i in range(1, n + 1)],
            "hamlet_name": names,
            "hamlet_type": kind,
            "commune_id": row["commune_id"],
            "commune_code": row["commune_code"],
            "district_name": row["district_name"],
            "households": households,
            "population": population,
            "khmer_share": khmer,
            "is_commune_centre": np.arange(n) == 0,
            "urban": urban,
            "coastal": coastal,
            "x": xy[:, 0],
            "y": xy[:, 1],
        }
    )


def calibrate_khmer(khmer: np.ndarray, population: np.ndarray, *, target: float) -> np.ndarray:
    """Scale Khmer shares so that the population-weighted mean equals ``target`` (clipped to 0–0.98)."""
    k = np.asarray(khmer, dtype=float)
    for _ in range(20):
        mean = float((k * population).sum() / population.sum())
        if abs(mean - target) < 1e-5:
            break
        k = np.clip(k * target / mean, 0.0, 0.98)
    return k


def poor_shares(frame: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Return each hamlet's poor + near-poor household share (0.005–0.6).

    Higher in Khmer-majority, coastal and remote hamlets; about 8% province-wide.
    """
    remote = np.clip(frame["dist_to_town_km"].to_numpy() / 15.0, 0.0, 1.0)
    share = (
        0.025
        + 0.12 * frame["khmer_share"].to_numpy()
        + 0.04 * frame["coastal"].to_numpy()
        + 0.04 * remote
        - 0.015 * frame["urban"].to_numpy()
        + rng.normal(0.0, 0.02, len(frame))
    )
    return np.clip(share, 0.005, 0.6)


def generate_hamlets(
    communes: gpd.GeoDataFrame, *, params: GeneratorParams, rng: np.random.Generator
) -> HamletDraw:
    """Draw the hamlet layer for ``communes``.

    Parameters
    ----------
    communes
        Commune layer (EPSG:4326) with ``commune_id``, ``commune_code``, ``commune_name``,
        ``district_name``, ``commune_type``, ``population``, ``households``.
    params
        Generator parameters (``hamlets_per_commune_mean``).
    rng
        Random generator of the hamlet layer.

    Returns
    -------
    HamletDraw
        Hamlets (EPSG:32648) whose households and population sum exactly to each commune's, and the
        district seats. Helper columns ``urban``, ``coastal``, ``dist_to_town_km`` are for the other
        layers and are not written.
    """
    metric = communes.to_crs(METRIC_EPSG).sort_values("commune_id", kind="stable").reset_index(drop=True)
    counts = hamlet_counts(
        metric["population"].to_numpy(), mean_per_commune=params.hamlets_per_commune_mean, rng=rng
    )
    khmer_means = commune_khmer_means(metric, rng)
    parts = [
        hamlets_of_commune(row, row.geometry, int(n), float(k), rng)
        for (_, row), n, k in zip(metric.iterrows(), counts, khmer_means, strict=True)
    ]
    frame = pd.concat(parts, ignore_index=True)
    frame["khmer_share"] = calibrate_khmer(
        frame["khmer_share"].to_numpy(), frame["population"].to_numpy(), target=PROVINCE_KHMER_SHARE
    )
    seats = seat_commune_ids(metric)
    centre_rows = frame[frame["is_commune_centre"]].set_index("commune_id")
    district_centres = gpd.GeoDataFrame(
        {
            "district_name": list(seats),
            "commune_id": list(seats.values()),
        },
        geometry=[Point(centre_rows.at[c, "x"], centre_rows.at[c, "y"]) for c in seats.values()],
        crs=METRIC_EPSG,
    )
    cx = np.array([p.x for p in district_centres.geometry])
    cy = np.array([p.y for p in district_centres.geometry])
    d = np.hypot(frame["x"].to_numpy()[:, None] - cx[None, :], frame["y"].to_numpy()[:, None] - cy[None, :])
    frame["dist_to_town_km"] = d.min(axis=1) / 1000.0
    frame["poor_household_share"] = poor_shares(frame, rng)
    frame["khmer_share"] = frame["khmer_share"].round(3)
    frame["poor_household_share"] = frame["poor_household_share"].round(3)
    hamlets = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["x"], frame["y"]), crs=METRIC_EPSG)
    return HamletDraw(hamlets=hamlets, district_centres=district_centres)
