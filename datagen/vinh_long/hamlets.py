"""Synthetic hamlets of the new Vĩnh Long, drawn per 2009 commune as the Trà Vinh generator draws them.

Every 2009 commune gets a number of hamlets that grows with its population (as in
:func:`datagen.hamlets.hamlet_counts`); a 2009 commune split between two new communes shares them among
its parts by population (at least one each). Each unit's hamlets are drawn by
:func:`datagen.hamlets.hamlets_of_commune` inside the unit polygon (the first is the unit's centre),
with households and population apportioned exactly to the unit, so that they add up exactly to the
new commune's. Khmer shares follow a district table per former province and are scaled to that
province's share. Hamlets carry their new commune (``commune_id`` / ``commune_code``) and their former
commune (``former_commune_code`` / ``former_commune_name``, ``former_district``, ``former_province``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point

from datagen.geometry import METRIC_EPSG
from datagen.hamlets import (
    HamletDraw,
    apportion,
    calibrate_khmer,
    commune_khmer_means,
    hamlet_counts,
    hamlets_of_commune,
    is_coastal,
    poor_shares,
)
from datagen.names import name_variant
from datagen.params import GeneratorParams
from datagen.vinh_long.calibration import FORMER_PROVINCES, FormerProvince, former_province
from datagen.vinh_long.units import district_seats
from geo.admin_units import normalise_name
from geo.errors import InvalidGeometryError

HAMLET_COLUMNS_2025: tuple[str, ...] = (
    "hamlet_id",
    "hamlet_name",
    "hamlet_type",
    "commune_id",
    "commune_code",
    "former_commune_code",
    "former_commune_name",
    "former_district",
    "former_province",
    "households",
    "population",
    "khmer_share",
    "poor_household_share",
    "is_commune_centre",
)
"""Columns of ``boundaries/hamlets.geojson`` in the 2025-07 package (``commune_id`` is the new commune)."""

HOUSEHOLDS_PER_HAMLET_MIN = 40
"""A unit gets at most one hamlet per this many households (tiny parts of split communes get one)."""

_NUMBERED = re.compile(r"^(Ấp|Khóm) (\d+)$")


def _unit_coastal(fp: FormerProvince, district: str, name: str) -> bool:
    if fp.coastal_communes is None:
        return is_coastal(name, district)
    return (district, name) in fp.coastal_communes


def _counts_per_unit(units: pd.DataFrame, params: GeneratorParams, rng: np.random.Generator) -> np.ndarray:
    """Hamlets per unit: per 2009 commune as :func:`hamlet_counts`, shared among its units by population."""
    pieces = units.groupby("piece_id", sort=False)["population"].sum()
    order = units.drop_duplicates("piece_id").sort_values("piece_order")["piece_id"]
    pieces = pieces.reindex(order)
    counts = dict(
        zip(
            pieces.index,
            hamlet_counts(pieces.to_numpy(), mean_per_commune=params.hamlets_per_commune_mean, rng=rng),
            strict=True,
        )
    )
    out = np.zeros(len(units), dtype=np.int64)
    for pid, idx in units.groupby("piece_id", sort=False).groups.items():
        pos = units.index.get_indexer(idx)
        k = len(pos)
        n = max(int(counts[pid]), k)
        share = apportion(n - k, units["population"].to_numpy(dtype=float)[pos]) + 1
        cap = np.maximum(units["households"].to_numpy()[pos] // HOUSEHOLDS_PER_HAMLET_MIN, 1)
        out[pos] = np.minimum(share, cap)
    return out


def _khmer_means(units: pd.DataFrame, rng: np.random.Generator) -> dict[str, float]:
    """Mean Khmer share per 2009 commune (district table of its former province × noise)."""
    pieces = units.drop_duplicates("piece_id").sort_values("piece_order")
    table = {
        f"{district}, {fp.name}": share
        for fp in FORMER_PROVINCES
        for district, share in fp.khmer_by_district.items()
    }
    means = commune_khmer_means(
        pieces.assign(district_name=pieces["district_key"]), rng, table=table, default=0.2, floor=0.001
    )
    return dict(zip(pieces["piece_id"], means, strict=True))


def _draw_units(units: gpd.GeoDataFrame, params: GeneratorParams, rng: np.random.Generator) -> pd.DataFrame:
    counts = _counts_per_unit(units, params, rng)
    khmer = _khmer_means(units, rng)
    parts = []
    for row, n in zip(units.itertuples(index=False), counts, strict=True):
        fp = former_province(row.former_province_code)
        spec = pd.Series(
            {
                "commune_id": row.unit_id,
                "commune_code": row.former_commune_code,
                "commune_name": row.name_2009,
                "district_name": row.district_key,
                "commune_type": row.type_2009,
                "households": row.households,
                "population": row.population,
            }
        )
        coastal = _unit_coastal(fp, row.former_district, row.name_2009)
        parts.append(
            hamlets_of_commune(spec, row.geometry, int(n), khmer[row.piece_id], rng, coastal=coastal)
        )
    frame = pd.concat(parts, ignore_index=True)
    info = units.drop(columns="geometry").set_index("unit_id")
    for col in (
        "piece_id",
        "commune_name",
        "former_commune_code",
        "former_commune_name",
        "former_split",
        "former_district",
        "former_province",
        "former_province_code",
    ):
        frame[col] = frame["commune_id"].map(info[col])
    frame["unit_id"] = frame["commune_id"]
    frame["new_commune_id"] = frame["commune_id"].map(info["commune_id"])
    return frame


def former_key(frame: pd.DataFrame) -> pd.Series:
    """Key of the former commune: its pre-reform code, else ``"2009:" + piece_id`` (no pre-reform code)."""
    return frame["former_commune_code"].where(frame["former_commune_code"] != "", "2009:" + frame["piece_id"])


def _new_centres(frame: pd.DataFrame, units: pd.DataFrame) -> np.ndarray:
    """The new commune's centre: the centre of the unit named like it, else of its most populous unit."""
    centre = np.zeros(len(frame), dtype=bool)
    unit_centres = frame.index[frame["is_commune_centre"]]
    by_unit = dict(zip(frame.loc[unit_centres, "unit_id"], unit_centres, strict=True))
    for _, group in units.groupby("commune_id", sort=True):
        target = normalise_name(str(group["commune_name"].iloc[0]))
        named = group[
            (group["former_commune_name"].map(normalise_name) == target)
            | (group["name_2009"].map(normalise_name) == target)
        ]
        pick = named if not named.empty else group
        unit = pick.sort_values(["population", "unit_id"], ascending=[False, True]).iloc[0]["unit_id"]
        centre[by_unit[unit]] = True
    return centre


def _unique_names(frame: pd.DataFrame) -> list[str]:
    """Hamlet names made unique within each new commune (a merged commune may hold two "Ấp 1").

    A repeated numbered name ("Ấp 3", "Khóm 3") takes the next free number of the commune; a repeated
    named one gets a suffix ("Ấp Tân Thành A", as :func:`datagen.names.name_variant`).
    """
    names: list[str] = [str(n) for n in frame["hamlet_name"]]
    for _, idx in frame.groupby("new_commune_id", sort=False).groups.items():
        pos = list(frame.index.get_indexer(idx))
        taken: list[str] = []
        top: dict[str, int] = {}
        for p in pos:
            m = _NUMBERED.match(names[p])
            if m:
                top[m.group(1)] = max(top.get(m.group(1), 0), int(m.group(2)))
        for p in pos:
            name = names[p]
            if name in taken:
                m = _NUMBERED.match(name)
                if m:
                    top[m.group(1)] += 1
                    name = f"{m.group(1)} {top[m.group(1)]}"
                else:
                    name = name_variant(name, taken)
            taken.append(name)
            names[p] = name
    return names


def generate_hamlets_2025(
    units: gpd.GeoDataFrame, *, params: GeneratorParams, rng: np.random.Generator
) -> HamletDraw:
    """Draw the hamlets of every unit.

    Parameters
    ----------
    units
        From :func:`datagen.vinh_long.units.generation_units` (EPSG:32648).
    params
        ``hamlets_per_commune_mean`` (per 2009 commune).
    rng
        Random generator of the hamlet layer.

    Returns
    -------
    HamletDraw
        ``hamlets`` (EPSG:32648) with the written columns :data:`HAMLET_COLUMNS_2025` under internal
        names plus helpers: ``commune_id`` is the **unit** (what the Trà Vinh layer functions group by),
        ``new_commune_id`` the new commune, ``is_commune_centre`` the unit's centre and
        ``new_commune_centre`` the new commune's; ``district_name`` is the 2009 district key. And the
        2009 district seats (``district_centres``).
    """
    frame = _draw_units(units, params, rng)
    for fp in FORMER_PROVINCES:
        mine = (frame["former_province_code"] == fp.code).to_numpy()
        frame.loc[mine, "khmer_share"] = calibrate_khmer(
            frame.loc[mine, "khmer_share"].to_numpy(),
            frame.loc[mine, "population"].to_numpy(),
            target=float(fp.khmer_share.value),
        )
    seats = district_seats(units)
    centre_rows = frame[frame["is_commune_centre"]].set_index("commune_id")
    district_centres = gpd.GeoDataFrame(
        {"district_name": list(seats), "commune_id": list(seats.values())},
        geometry=[Point(centre_rows.at[u, "x"], centre_rows.at[u, "y"]) for u in seats.values()],
        crs=METRIC_EPSG,
    )
    cx = np.array([p.x for p in district_centres.geometry])
    cy = np.array([p.y for p in district_centres.geometry])
    d = np.hypot(frame["x"].to_numpy()[:, None] - cx[None, :], frame["y"].to_numpy()[:, None] - cy[None, :])
    frame["dist_to_town_km"] = d.min(axis=1) / 1000.0
    frame["poor_household_share"] = poor_shares(frame, rng)
    frame["khmer_share"] = frame["khmer_share"].round(3)
    frame["poor_household_share"] = frame["poor_household_share"].round(3)
    frame["hamlet_id"] = (
        frame["new_commune_id"] + "-" + (frame.groupby("new_commune_id").cumcount() + 1).map("{:03d}".format)
    )
    frame["new_commune_centre"] = _new_centres(frame, units)
    frame["hamlet_name"] = _unique_names(frame)
    frame["former_key"] = former_key(frame)
    hamlets = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["x"], frame["y"]), crs=METRIC_EPSG)
    return HamletDraw(hamlets=hamlets, district_centres=district_centres)


def hamlets_for_output(hamlets: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the written hamlet layer (EPSG:4326, :data:`HAMLET_COLUMNS_2025`), keys of the new communes."""
    out = hamlets.assign(
        commune_id=hamlets["new_commune_id"],
        commune_code=hamlets["new_commune_id"],
        is_commune_centre=hamlets["new_commune_centre"],
    )
    return out[[*HAMLET_COLUMNS_2025, "geometry"]].to_crs(4326)


def misplaced_hamlets(hamlets_4326: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> list[str]:
    """Return the ids of hamlets whose point (rounded to 6 decimals) is not inside its commune only.

    Parameters
    ----------
    hamlets_4326
        Hamlets (EPSG:4326) with ``hamlet_id`` and ``commune_id``.
    communes
        Commune polygons (EPSG:4326) with ``commune_id``.
    """
    x = np.round(hamlets_4326.geometry.x.to_numpy(), 6)
    y = np.round(hamlets_4326.geometry.y.to_numpy(), 6)
    points = shapely.points(x, y)
    polygons = communes.set_index("commune_id").geometry
    own = np.asarray(polygons.reindex(hamlets_4326["commune_id"]).values, dtype=object)
    inside = shapely.contains(own, points)
    tree = shapely.STRtree(communes.geometry.values)
    hits = tree.query(points, predicate="within")
    n_hits = np.bincount(hits[0], minlength=len(points))
    bad = ~inside | (n_hits != 1)
    return [str(h) for h in hamlets_4326["hamlet_id"].to_numpy()[bad]]


def check_hamlets_inside(hamlets_4326: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> None:
    """Raise :class:`InvalidGeometryError` when a hamlet is not inside its new commune (and only it)."""
    bad = misplaced_hamlets(hamlets_4326, communes)
    if bad:
        raise InvalidGeometryError(
            f"{len(bad)} hamlet(s) outside their new commune or inside two: {', '.join(bad[:10])}"
        )


def khmer_share_by(hamlets: pd.DataFrame, column: str) -> Mapping[str, float]:
    """Population-weighted Khmer share per value of ``column`` (e.g. ``former_province``)."""
    weighted = (hamlets["khmer_share"] * hamlets["population"]).groupby(hamlets[column]).sum()
    shares = weighted / hamlets.groupby(column)["population"].sum()
    return {str(k): float(v) for k, v in shares.items()}
