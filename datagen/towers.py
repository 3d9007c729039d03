"""Synthetic base stations (``towers/sites.csv``): one row per cell, site columns repeated.

Sites follow population (a hamlet is picked with probability proportional to its population times
an urban factor, the site lands a few hundred metres from it), every commune gets a floor of sites
for rural coverage, and a few remote hamlets are deliberately kept 5–10 km from any site so that the
coverage analysis has real gaps to find. Operators, technologies, bands, heights and EIRP follow
typical Vietnamese deployments; none of it describes a real site.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from datagen.geometry import METRIC_EPSG, sample_points_in_polygon
from datagen.params import GeneratorParams
from geo.errors import ParameterError
from geo.schema import SITE_CSV_COLUMNS

log = logging.getLogger(__name__)

SITE_COLUMNS: tuple[str, ...] = SITE_CSV_COLUMNS

OPERATOR_SHARES: tuple[tuple[str, str, float], ...] = (
    ("Viettel", "VTL", 0.45),
    ("VinaPhone", "VNP", 0.29),
    ("MobiFone", "MBF", 0.245),
    ("Vietnamobile", "VNM", 0.015),
)
"""(operator, site-id prefix, share of active sites)."""

GAP_PLAN: tuple[tuple[str, int, float, float], ...] = (
    ("Huyện Duyên Hải", 2, 5500.0, 7000.0),
    ("Huyện Trà Cú", 2, 4300.0, 5300.0),
    ("Huyện Cầu Ngang", 1, 4500.0, 5500.0),
)
"""(district, number of deliberate coverage-gap zones, radius range in metres): coast and far corners."""

COASTAL_GAP_DISTRICTS: frozenset[str] = frozenset({"Huyện Cầu Ngang"})
"""Districts of :data:`GAP_PLAN` whose gap zones must be around coastal hamlets."""

GAP_MIN_COMMUNE_AREA_LEFT = 0.25
"""A gap zone is refused if it leaves a commune with less than this share of its area site-eligible."""

SOURCE = "synthetic (PhuSong datagen)"

URBAN_FACTOR = {"phường": 2.4, "thị trấn": 1.6, "xã": 1.0}
"""Sites per person relative to rural communes (traffic, not only coverage, drives urban sites)."""

FLOOR_SITES_PER_COMMUNE = 3

MAX_PLACEMENT_FAILURES = 400
"""Consecutive hamlets without room for a site after which placement gives up (area is full)."""


@dataclass(frozen=True)
class GapZone:
    """A deliberate coverage hole: no site within ``radius_m`` of hamlet ``hamlet_id``."""

    hamlet_id: str
    x: float
    y: float
    radius_m: float


@dataclass(frozen=True)
class CellSpec:
    """Radio parameters of one cell layer."""

    technology: str
    band_mhz: float
    code: str
    eirp_dbm: tuple[float, float]
    bandwidths_mhz: tuple[float, ...]


LAYERS = {
    "L18": CellSpec("4G", 1800.0, "L18", (58.0, 61.0), (15.0, 20.0)),
    "L09": CellSpec("4G", 900.0, "L09", (56.0, 59.0), (5.0, 10.0)),
    "L21": CellSpec("4G", 2100.0, "L21", (58.0, 61.0), (10.0, 15.0)),
    "U21": CellSpec("3G", 2100.0, "U21", (55.0, 58.0), (5.0,)),
    "G09": CellSpec("2G", 900.0, "G09", (53.0, 57.0), (0.2,)),
    "N35": CellSpec("5G", 3500.0, "N35", (72.0, 76.0), (100.0,)),
}
"""Cell layers: 4G on 1800/900/2100 MHz, legacy 3G 2100 and 2G 900, 5G n78 (3500 MHz) in the city.

EIRP is per cell over the carrier: e.g. 4G 43 dBm transmit + 15–17 dBi antenna − ~1 dB feeder."""


def operator_counts(n_sites: int) -> dict[str, int]:
    """Return active sites per operator for ``n_sites`` in total (largest remainder, exact sum)."""
    shares = np.array([s for _, _, s in OPERATOR_SHARES])
    quota = n_sites * shares / shares.sum()
    base = np.floor(quota).astype(int)
    for i in np.argsort(-(quota - base), kind="stable")[: n_sites - base.sum()]:
        base[i] += 1
    return {op: int(c) for (op, _, _), c in zip(OPERATOR_SHARES, base, strict=True)}


def choose_gap_zones(
    hamlets: pd.DataFrame,
    communes: gpd.GeoDataFrame,
    province: BaseGeometry,
    rng: np.random.Generator,
    *,
    plan: Sequence[tuple[str, int, float, float]] = GAP_PLAN,
    coastal_only: Collection[str] = COASTAL_GAP_DISTRICTS,
    existing: Sequence[GapZone] = (),
) -> list[GapZone]:
    """Pick remote hamlets to stay out of coverage: on the province edge, far from district seats.

    Candidates lie within 2 km of the province outline (sea coast or river bank), are not commune
    centres and, in Cầu Ngang, are coastal. Zones are at least 12 km apart; each gets a radius from
    :data:`GAP_PLAN` in which no active site is placed. A zone is refused when it would leave a
    commune with less than :data:`GAP_MIN_COMMUNE_AREA_LEFT` of its area outside the zones, so every
    commune keeps a site.

    Parameters
    ----------
    hamlets
        Hamlets with ``x``, ``y`` (EPSG:32648), ``district_name``, ``is_commune_centre``,
        ``coastal``, ``dist_to_town_km``.
    communes
        Commune polygons in EPSG:32648.
    province
        Province outline in EPSG:32648.
    rng
        Random generator.
    plan
        ``(district, number of zones, min radius m, max radius m)`` rows; default Trà Vinh's :data:`GAP_PLAN`.
    coastal_only
        Districts of ``plan`` whose zones must be around coastal hamlets.
    existing
        Zones already chosen elsewhere (kept 12 km away from; not returned).

    Returns
    -------
    list of GapZone
        The new zones, in the order of ``plan``.
    """
    edge_m = shapely.distance(province.boundary, shapely.points(hamlets["x"], hamlets["y"]))
    polygons = list(communes.geometry)
    zones: list[GapZone] = []
    for district, count, r_min, r_max in plan:
        keep = (hamlets["district_name"] == district) & ~hamlets["is_commune_centre"] & (edge_m < 2000)
        if district in coastal_only:
            keep &= hamlets["coastal"]
        pool = hamlets[keep].sort_values(["dist_to_town_km", "hamlet_id"], ascending=[False, True])
        added = 0
        for _, h in pool.iterrows():
            if added >= count:
                break
            if any(np.hypot(h["x"] - z.x, h["y"] - z.y) <= 12_000 for z in [*existing, *zones]):
                continue
            zone = GapZone(
                str(h["hamlet_id"]), float(h["x"]), float(h["y"]), float(rng.uniform(r_min, r_max))
            )
            holes = shapely.union_all([shapely.Point(z.x, z.y).buffer(z.radius_m) for z in [*zones, zone]])
            if all(p.difference(holes).area >= GAP_MIN_COMMUNE_AREA_LEFT * p.area for p in polygons):
                zones.append(zone)
                added += 1
    return zones


def in_gap_zone(x: float, y: float, zones: list[GapZone]) -> bool:
    """Return whether ``(x, y)`` (EPSG:32648) lies inside any gap zone."""
    return any(np.hypot(x - z.x, y - z.y) < z.radius_m for z in zones)


class _Placer:
    """Rejection sampler of site positions around hamlets (positions kept in growing arrays)."""

    def __init__(
        self,
        area: BaseGeometry,
        zones: list[GapZone],
        rng: np.random.Generator,
        *,
        spacing_scale: float = 1.0,
        existing: pd.DataFrame | None = None,
    ) -> None:
        self.area = area  # province shrunk by 50 m, EPSG:32648
        self.zones = zones
        self.rng = rng
        self.spacing_scale = spacing_scale
        self.xy = np.empty((64, 2))
        self.ops = np.empty(64, dtype=object)
        self.n = 0
        if existing is not None:
            for x, y, op in zip(existing["x"], existing["y"], existing["operator"], strict=True):
                self._append(float(x), float(y), str(op))

    def place(self, hx: float, hy: float, operator: str, *, urban: bool) -> tuple[float, float] | None:
        """Return a position near ``(hx, hy)`` for ``operator`` or ``None`` after 40 failed tries."""
        sigma = 260.0 if urban else 750.0
        spacing = (300.0 if urban else 1100.0) * self.spacing_scale
        xy, same = self.xy[: self.n], self.ops[: self.n] == operator
        for _ in range(40):
            x, y = hx + self.rng.normal(0, sigma), hy + self.rng.normal(0, sigma)
            if in_gap_zone(x, y, self.zones) or not shapely.contains_xy(self.area, x, y):
                continue
            if self.n:
                d = np.hypot(xy[:, 0] - x, xy[:, 1] - y)
                if d.min() < 60.0 or (same.any() and d[same].min() < spacing):
                    continue
            self._append(x, y, operator)
            return x, y
        return None

    def _append(self, x: float, y: float, operator: str) -> None:
        if self.n == len(self.xy):
            self.xy = np.vstack([self.xy, np.empty_like(self.xy)])
            self.ops = np.concatenate([self.ops, np.empty(len(self.ops), dtype=object)])
        self.xy[self.n] = (x, y)
        self.ops[self.n] = operator
        self.n += 1


def _site_weights(hamlets: pd.DataFrame, commune_type: pd.Series) -> np.ndarray:
    """Return each hamlet's site weight: population times :data:`URBAN_FACTOR` of its commune."""
    factor = hamlets["commune_id"].map(commune_type).map(URBAN_FACTOR).fillna(1.0).to_numpy()
    return hamlets["population"].to_numpy(dtype=float) * factor


def _floor_anchors(
    hamlets: pd.DataFrame,
    communes: gpd.GeoDataFrame,
    zones: list[GapZone],
    weights: np.ndarray,
    outside: np.ndarray,
    rng: np.random.Generator,
) -> list[tuple[float, float, int]]:
    """Return ``(x, y, hamlet_row)`` anchors of the floor sites: up to 3 per commune.

    Anchors are hamlets outside the gap zones (drawn by weight); a commune with no such hamlet gets
    one anchor at a random point of its area outside the zones, tied to its centre hamlet.
    """
    anchors: list[tuple[float, float, int]] = []
    holes = (
        shapely.union_all([shapely.Point(z.x, z.y).buffer(z.radius_m + 300) for z in zones])
        if zones
        else None
    )
    polygons = communes.set_index("commune_id").geometry
    for commune_id, group in hamlets.groupby("commune_id", sort=True):
        free = group.index[outside[group.index]]
        if len(free):
            w = weights[free]
            k = min(FLOOR_SITES_PER_COMMUNE, len(free))
            picks = rng.choice(free.to_numpy(), size=k, replace=False, p=w / w.sum())
            anchors += [(float(hamlets.at[h, "x"]), float(hamlets.at[h, "y"]), int(h)) for h in picks]
            continue
        region = polygons[commune_id].difference(holes) if holes is not None else polygons[commune_id]
        if region.is_empty:
            continue
        x, y = sample_points_in_polygon(region, 1, rng, inset_m=100.0)[0]
        anchors.append((float(x), float(y), int(group.index[0])))
    return anchors


def place_sites(
    hamlets: pd.DataFrame,
    communes: gpd.GeoDataFrame,
    province: BaseGeometry,
    zones: list[GapZone],
    *,
    n_active: int,
    rng: np.random.Generator,
    spacing_scale: float = 1.0,
    existing: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Place ``n_active`` active sites: a floor per commune, the rest following population.

    Parameters
    ----------
    hamlets
        Hamlets (EPSG:32648 ``x``, ``y``) with ``hamlet_id``, ``commune_id``, ``population``, ``urban``;
        index ``0..n-1``.
    communes
        Communes (EPSG:32648) with ``commune_id`` and ``commune_type``.
    province
        Province outline (EPSG:32648).
    zones
        Gap zones kept free of sites.
    n_active
        Number of active sites.
    rng
        Random generator of the tower layer.
    spacing_scale
        Factor on the same-operator spacing (1.1 km rural, 300 m in towns); below 1 for provinces with
        more sites per km² than Trà Vinh.
    existing
        Sites already placed nearby (``x``, ``y``, ``operator``): the new ones keep the spacing from them.

    Returns
    -------
    pandas.DataFrame
        ``operator``, ``x``, ``y``, ``hamlet_id``, ``urban`` per site (the new sites only).
    """
    counts = operator_counts(n_active)
    operators = np.array([op for op, c in counts.items() for _ in range(c)])
    rng.shuffle(operators)
    placer = _Placer(province.buffer(-50.0), zones, rng, spacing_scale=spacing_scale, existing=existing)
    weights = _site_weights(hamlets, communes.set_index("commune_id")["commune_type"])
    outside = np.array(
        [not in_gap_zone(x, y, zones) for x, y in zip(hamlets["x"], hamlets["y"], strict=True)]
    )
    queue = _floor_anchors(hamlets, communes, zones, weights, outside, rng)
    p = np.where(outside, weights, 0.0)
    p = p / p.sum()
    rows: list[dict[str, object]] = []
    i = 0
    failures = max_failures = 0
    while len(rows) < n_active:
        if failures > MAX_PLACEMENT_FAILURES:
            raise ParameterError(
                f"could place only {len(rows)} of {n_active} sites at the minimum spacing in this area; "
                "ask for fewer sites (--sites)"
            )
        if i < len(queue):
            x, y, h = queue[i]
        else:
            h = int(rng.choice(len(hamlets), p=p))
            x, y = float(hamlets.at[h, "x"]), float(hamlets.at[h, "y"])
        i += 1
        op = str(operators[len(rows)])
        urban = bool(hamlets.at[h, "urban"])
        pos = placer.place(x, y, op, urban=urban)
        failures = failures + 1 if pos is None else 0
        max_failures = max(max_failures, failures)
        if pos is not None:
            rows.append(
                {
                    "operator": op,
                    "x": pos[0],
                    "y": pos[1],
                    "hamlet_id": hamlets.at[h, "hamlet_id"],
                    "urban": urban,
                }
            )
    log.info("placed %d sites; longest run of hamlets without room: %d", len(rows), max_failures)
    return pd.DataFrame(rows)


def move_vietnamobile_to_towns(sites: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Swap operators so that Vietnamobile's few sites are in wards and townships."""
    out = sites.copy()
    rural_vnm = out.index[(out["operator"] == "Vietnamobile") & ~out["urban"]].to_numpy()
    urban_other = out.index[(out["operator"] != "Vietnamobile") & out["urban"]].to_numpy()
    partners = rng.choice(urban_other, size=min(len(rural_vnm), len(urban_other)), replace=False)
    for a, b in zip(rural_vnm, partners, strict=False):
        out.loc[a, "operator"], out.loc[b, "operator"] = out.loc[b, "operator"], out.loc[a, "operator"]
    return out


def plan_sites(
    hamlets: pd.DataFrame,
    active: pd.DataFrame,
    zones: list[GapZone],
    *,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Return 12 ``planned`` sites: 2 inside gap zones, 4 at poorly served rural hamlets, 6 in towns.

    Only the first gap zone of Duyên Hải and of Trà Cú get a planned site, so gaps remain even when
    planned sites are counted.
    """
    rows: list[dict[str, object]] = []
    ops = ("Viettel", "VinaPhone", "MobiFone")
    by_id = hamlets.set_index("hamlet_id")
    seen: set[str] = set()
    for zone in zones:
        district = by_id.at[zone.hamlet_id, "district_name"]
        if district in seen or len(seen) >= 2:
            continue
        seen.add(district)
        ang = rng.uniform(0, 2 * np.pi)
        dist = zone.radius_m * rng.uniform(0.35, 0.55)
        rows.append(
            {
                "x": zone.x + dist * np.sin(ang),
                "y": zone.y + dist * np.cos(ang),
                "hamlet_id": zone.hamlet_id,
                "operator": "Viettel",
            }
        )
    ax, ay = active["x"].to_numpy(), active["y"].to_numpy()
    nearest = np.array(
        [np.hypot(ax - x, ay - y).min() for x, y in zip(hamlets["x"], hamlets["y"], strict=True)]
    )
    outside = np.array(
        [not in_gap_zone(x, y, zones) for x, y in zip(hamlets["x"], hamlets["y"], strict=True)]
    )
    rural = hamlets.index[outside & ~hamlets["urban"].to_numpy()]
    for h in rural[np.argsort(-nearest[rural], kind="stable")][:4]:
        rows.append(
            {
                "x": hamlets.at[h, "x"] + rng.normal(0, 300),
                "y": hamlets.at[h, "y"] + rng.normal(0, 300),
                "hamlet_id": hamlets.at[h, "hamlet_id"],
                "operator": ops[len(rows) % 3],
            }
        )
    urban = hamlets[hamlets["urban"]].sort_values(["population", "hamlet_id"], ascending=[False, True])
    for _, h in urban.head(6).iterrows():
        rows.append(
            {
                "x": h["x"] + rng.normal(0, 200),
                "y": h["y"] + rng.normal(0, 200),
                "hamlet_id": h["hamlet_id"],
                "operator": ops[len(rows) % 3],
            }
        )
    out = pd.DataFrame(rows)
    out["urban"] = out["hamlet_id"].map(by_id["urban"]).astype(bool)
    return out


def _layers_for_site(urban: bool, city: bool, planned: bool, rng: np.random.Generator) -> list[str]:
    """Return the cell layers of one site (codes of :data:`LAYERS`)."""
    if planned:
        return ["L18"]
    if urban:
        first = "L18" if rng.random() < 0.8 else "L21"
        layers = [first] + (["L21" if first == "L18" else "L18"] if rng.random() < 0.3 else [])
    else:
        layers = ["L18" if rng.random() < 0.65 else "L09"]
    if rng.random() < (0.25 if urban else 0.3):
        layers.append("U21")
    if rng.random() < (0.15 if urban else 0.3):
        layers.append("G09")
    return layers


def _height_m(urban: bool, city: bool, rng: np.random.Generator) -> float:
    if city:
        return float(np.round(rng.uniform(12, 18) if rng.random() < 0.15 else rng.uniform(18, 32)))
    if urban:
        return float(np.round(rng.uniform(24, 40)))
    return float(np.round(rng.uniform(30, 45)))


def cells_for_sites(sites: pd.DataFrame, *, five_g_sites: set[int], rng: np.random.Generator) -> pd.DataFrame:
    """Expand sites into cell rows (three sectors per layer; some 2G cells omni).

    Parameters
    ----------
    sites
        One row per site with ``site_id``, ``operator``, ``lon``, ``lat``, ``status``, ``urban``,
        ``city``, ``commune_id``.
    five_g_sites
        Row positions of sites that get a 5G (3500 MHz) layer.
    rng
        Random generator.
    """
    rows: list[dict[str, object]] = []
    for pos, s in enumerate(sites.itertuples(index=False)):
        layers = _layers_for_site(bool(s.urban), bool(s.city), s.status == "planned", rng)
        if pos in five_g_sites:
            layers.append("N35")
        height = _height_m(bool(s.urban), bool(s.city), rng)
        rotation = rng.normal(0.0, 12.0)
        for code in layers:
            spec = LAYERS[code]
            omni = code == "G09" and rng.random() < 0.25
            sectors = [None] if omni else [0.0, 120.0, 240.0]
            bw = float(rng.choice(spec.bandwidths_mhz))
            for k, base in enumerate(sectors, start=1):
                eirp = rng.uniform(*spec.eirp_dbm) - (3.0 if omni else 0.0)
                rows.append(
                    {
                        "site_id": s.site_id,
                        "cell_id": f"{s.site_id}-{code}-{k}",
                        "operator": s.operator,
                        "lat": round(float(s.lat), 6),
                        "lon": round(float(s.lon), 6),
                        "height_m": height,
                        "status": s.status,
                        "technology": spec.technology,
                        "band_mhz": spec.band_mhz,
                        "azimuth_deg": None
                        if base is None
                        else float(np.round((base + rotation + rng.normal(0, 4)) % 360)),
                        "beamwidth_deg": None if base is None else 65.0,
                        "eirp_dbm": float(np.round(eirp, 1)),
                        "bandwidth_mhz": bw,
                        "commune_id": s.commune_id,
                        "source": SOURCE,
                    }
                )
    return pd.DataFrame(rows, columns=list(SITE_COLUMNS))


def generate_sites(
    hamlets: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    province: BaseGeometry,
    *,
    params: GeneratorParams,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, list[GapZone]]:
    """Draw the base-station layer.

    Parameters
    ----------
    hamlets
        Hamlets (EPSG:32648) from :func:`datagen.hamlets.generate_hamlets`.
    communes
        Commune layer (any CRS) with ``commune_id``, ``commune_type``, ``district_name``.
    province
        Province outline (EPSG:32648).
    params
        ``n_sites`` active sites are drawn; 12 planned sites come on top.
    rng
        Random generator of the tower layer.

    Returns
    -------
    (pandas.DataFrame, list of GapZone)
        Cell rows in :data:`SITE_COLUMNS` (lat/lon EPSG:4326) and the gap zones kept free of active sites.
    """
    frame = pd.DataFrame(hamlets.drop(columns="geometry")).reset_index(drop=True)
    metric = communes.to_crs(METRIC_EPSG)
    zones = choose_gap_zones(frame, metric, province, rng)
    active = place_sites(frame, metric, province, zones, n_active=params.n_sites, rng=rng)
    active = move_vietnamobile_to_towns(active, rng)
    active["status"] = "active"
    planned = plan_sites(frame, active, zones, rng=rng)
    planned["status"] = "planned"
    sites = pd.concat([active, planned], ignore_index=True)
    sites["commune_id"] = commune_of_points(sites["x"].to_numpy(), sites["y"].to_numpy(), metric)
    prefix = {op: p for op, p, _ in OPERATOR_SHARES}
    numbers = sites.groupby("operator").cumcount() + 1
    sites["site_id"] = [f"{prefix[o]}{n:04d}" for o, n in zip(sites["operator"], numbers, strict=True)]
    city_ids = set(communes.loc[communes["district_name"].str.startswith("Thành phố"), "commune_id"])
    sites["city"] = sites["commune_id"].isin(city_ids) & sites["urban"]
    lonlat = gpd.GeoSeries(gpd.points_from_xy(sites["x"], sites["y"]), crs=METRIC_EPSG).to_crs(4326)
    sites["lon"], sites["lat"] = lonlat.x.round(6), lonlat.y.round(6)
    city_active = sites.index[sites["city"] & (sites["status"] == "active")].to_numpy()
    five_g = five_g_sites(sites, city_active, rng)
    cells = cells_for_sites(sites, five_g_sites=five_g, rng=rng)
    return cells.sort_values(["site_id", "cell_id"], kind="stable").reset_index(drop=True), zones


def five_g_sites(sites: pd.DataFrame, city_active: np.ndarray, rng: np.random.Generator) -> set[int]:
    """Pick 8 city sites for 5G: 5 Viettel, 2 VinaPhone, 1 MobiFone (fewer if not available)."""
    chosen: set[int] = set()
    for op, k in (("Viettel", 5), ("VinaPhone", 2), ("MobiFone", 1)):
        pool = [i for i in city_active if sites.at[i, "operator"] == op]
        if pool:
            chosen |= {int(i) for i in rng.choice(pool, size=min(k, len(pool)), replace=False)}
    return chosen


def commune_of_points(x: np.ndarray, y: np.ndarray, communes: gpd.GeoDataFrame) -> list[str]:
    """Return the ``commune_id`` containing each point (nearest commune for points on no polygon)."""
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=communes.crs)
    joined = gpd.sjoin_nearest(points, communes[["commune_id", "geometry"]], how="left")
    joined = joined[~joined.index.duplicated(keep="first")]
    return joined["commune_id"].astype(str).tolist()
