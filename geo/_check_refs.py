"""Checks across layers: hamlets in their communes, household sums, survey keys, sites and nodes in
the province, id references (private to :mod:`geo.validate`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo._checks import (
    _HAMLET_TOLERANCE_DEG,
    _HOUSEHOLD_SUM_TOLERANCE,
    _PROVINCE_TOLERANCE_DEG,
    _SITE_SPREAD_DEG,
    _Findings,
    _is_missing,
    _Layer,
    _map_obj,
)
from geo.crs import classify_lonlat, representative_lonlat
from geo.names import normalize_name

# --------------------------------------------------------------------------- cross-layer checks


def _located(geoms: np.ndarray) -> np.ndarray:
    """True for geometries present and inside Vietnam (the others are already reported as errors)."""
    x, y = representative_lonlat(geoms)
    return np.asarray(classify_lonlat(x, y) == "ok", dtype=bool)


def _ref_layer(layer: _Layer, *, ids: pd.Series | None = None, id_name: str | None = None) -> _Layer:
    """A view of a checked layer for messages, optionally labelled by another id column."""
    view = _Layer(layer.schema, layer.rel, layer.frame, layer.unit, layer.read, layer.ids)
    if ids is not None:
        view.ids, view.id_name = ids, id_name
    return view


def _not_more(layer: _Layer, part: str, whole: str, found: _Findings, hint: str) -> None:
    frame = layer.cleaned
    if frame is None or part not in frame.columns or whole not in frame.columns:
        return
    a = pd.to_numeric(frame[part], errors="coerce").to_numpy(dtype=float)
    b = pd.to_numeric(frame[whole], errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero(a > b)
    found.rows("error", layer, bad, lambda p: f"{part} ({a[p]:g}) is more than {whole} ({b[p]:g})", hint)


def _commune_keys(layer: _Layer, communes: _Layer | None, found: _Findings, *, required: bool) -> pd.Series:
    """Resolve a layer's ``commune_id`` (or ``commune_code``) against the communes; flag unknown keys."""
    frame = layer.cleaned
    assert frame is not None
    cid = (
        frame["commune_id"]
        if "commune_id" in frame.columns
        else pd.Series(None, index=frame.index, dtype=object)
    )
    if communes is None or communes.cleaned is None or "commune_id" not in communes.cleaned.columns:
        return cid
    known = set(communes.cleaned["commune_id"].dropna())
    comm_file = communes.rel
    code = frame["commune_code"] if "commune_code" in frame.columns else None
    if code is not None and "commune_code" in communes.cleaned.columns:
        codes = communes.cleaned.dropna(subset=["commune_code"])
        codes = codes[~codes["commune_code"].duplicated(keep=False)]
        by_code = dict(zip(codes["commune_code"], codes["commune_id"], strict=True))
        from_code = _map_obj(code, lambda c: None if _is_missing(c) else by_code.get(c))
        bad_code = np.flatnonzero((cid.isna() & code.notna() & from_code.isna()).to_numpy())
        found.rows(
            "error",
            layer,
            bad_code,
            lambda p: f"commune_code {code.iloc[p]!r} matches no commune in {comm_file}",
            f"use a commune_code (or commune_id) that {comm_file} holds",
        )
        cid = cid.where(cid.notna(), from_code)
    unknown = np.flatnonzero((cid.notna() & ~cid.isin(known)).to_numpy())
    found.rows(
        "error",
        layer,
        unknown,
        lambda p: f"commune_id {cid.iloc[p]!r} is not in {comm_file}",
        f"use a commune_id that {comm_file} holds (or fix the commune layer)",
    )
    if required:
        none = np.flatnonzero((cid.isna() & (code.isna() if code is not None else True)).to_numpy())
        found.rows(
            "error",
            layer,
            none,
            lambda p: "names no commune (commune_id and commune_code are empty)",
            "fill in the commune_id of the commune this row belongs to",
        )
    return cid.where(cid.isin(known), None).astype(object)


def _check_hamlets(hamlets: _Layer, communes: _Layer | None, found: _Findings) -> None:
    frame = hamlets.cleaned
    assert frame is not None
    frame["commune_id"] = _commune_keys(hamlets, communes, found, required=True)
    _not_more(
        hamlets, "households", "population", found, "a household has at least one person; check both counts"
    )
    if communes is None or communes.cleaned is None or not isinstance(frame, gpd.GeoDataFrame):
        return
    comm = communes.cleaned.drop_duplicates("commune_id").set_index("commune_id")
    has = frame["commune_id"].notna().to_numpy() & _located(np.asarray(frame.geometry.values, dtype=object))
    pos = np.flatnonzero(has)
    if pos.size:
        polys = np.asarray(comm.geometry.reindex(frame["commune_id"].iloc[pos]).values, dtype=object)
        pts = np.asarray(frame.geometry.values, dtype=object)[pos]
        inside = shapely.dwithin(polys, pts, _HAMLET_TOLERANCE_DEG)
        names = frame["commune_id"].iloc[pos].map(comm["commune_name"]) if "commune_name" in comm else None
        out = pos[~inside & ~shapely.is_missing(polys)]
        found.rows(
            "warning",
            hamlets,
            out,
            lambda p: (
                f"lies outside its commune {frame['commune_id'].iloc[p]}"
                + (f" ({names.loc[p]})" if names is not None else "")
            ),
            "check the hamlet's location and its commune_id",
        )
    _check_household_sums(hamlets, communes, found)


def _check_household_sums(hamlets: _Layer, communes: _Layer, found: _Findings) -> None:
    frame, comm = hamlets.cleaned, communes.cleaned
    assert frame is not None and comm is not None
    if "households" not in frame.columns or "households" not in comm.columns:
        return
    sums = pd.to_numeric(frame["households"], errors="coerce").groupby(frame["commune_id"]).sum()
    total = pd.to_numeric(comm["households"], errors="coerce").to_numpy(dtype=float)
    summed = comm["commune_id"].map(sums).to_numpy(dtype=float)
    no_hamlets = np.flatnonzero(comm["commune_id"].notna().to_numpy() & np.isnan(summed))
    found.rows(
        "warning",
        communes,
        no_hamlets,
        lambda p: f"commune has no hamlet in {hamlets.rel}",
        "add its hamlets; hamlet-level analysis skips this commune",
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.abs(summed - total) / np.maximum(total, 1.0)
    off = np.flatnonzero(rel > _HOUSEHOLD_SUM_TOLERANCE)
    found.rows(
        "warning",
        communes,
        off,
        lambda p: (
            f"households ({total[p]:g}) differ from the sum over its hamlets ({summed[p]:g}) "
            f"by {100 * rel[p]:.0f}%"
        ),
        f"make the hamlets' households add up to the commune's (tolerance "
        f"{100 * _HOUSEHOLD_SUM_TOLERANCE:.0f}%)",
    )


def _check_survey(survey: _Layer, hamlets: _Layer | None, communes: _Layer | None, found: _Findings) -> None:
    frame = survey.cleaned
    assert frame is not None
    hid, name = frame["hamlet_id"].copy(), frame["hamlet_name"]
    cid = _commune_keys(survey, communes, found, required=False)
    if hamlets is not None and hamlets.cleaned is not None and "hamlet_id" in hamlets.cleaned.columns:
        ham = hamlets.cleaned.dropna(subset=["hamlet_id"]).drop_duplicates("hamlet_id")
        ham_commune = dict(zip(ham["hamlet_id"], ham["commune_id"], strict=True))
        unknown = np.flatnonzero((hid.notna() & ~hid.isin(ham_commune)).to_numpy())
        found.rows(
            "error",
            survey,
            unknown,
            lambda p: f"hamlet_id {hid.iloc[p]!r} is not in {hamlets.rel}",
            f"use a hamlet_id of {hamlets.rel}, or give commune_id and hamlet_name instead",
        )
        by_name = {
            (c, normalize_name(n)): h
            for h, c, n in zip(ham["hamlet_id"], ham["commune_id"], ham["hamlet_name"], strict=True)
        }
        need = (hid.isna() & name.notna() & cid.notna()).to_numpy()
        resolved = pd.Series(
            [
                by_name.get((c, normalize_name(n))) if m else None
                for c, n, m in zip(cid, name, need, strict=True)
            ],
            index=frame.index,
            dtype=object,
        )
        unmatched = np.flatnonzero(need & resolved.isna().to_numpy())
        found.rows(
            "error",
            survey,
            unmatched,
            lambda p: f"no hamlet named {name.iloc[p]!r} in commune {cid.iloc[p]}",
            f"fix the hamlet_name or give the hamlet_id from {hamlets.rel}",
        )
        hid = hid.where(hid.notna(), resolved)
        own = _map_obj(hid, lambda h: None if _is_missing(h) else ham_commune.get(h))
        clash = np.flatnonzero((own.notna() & cid.notna() & (own != cid)).to_numpy())
        found.rows(
            "error",
            survey,
            clash,
            lambda p: f"hamlet {hid.iloc[p]} belongs to commune {own.iloc[p]}, the row says {cid.iloc[p]}",
            "correct commune_id (or leave it empty: the hamlet's commune is used)",
        )
        cid = cid.where(cid.notna(), own)
    orphan = np.flatnonzero(
        (
            hid.isna()
            & cid.isna()
            & frame["hamlet_id"].isna()
            & (frame["commune_id"].isna() if "commune_id" in frame else True)
        ).to_numpy()
    )
    found.rows(
        "error",
        survey,
        orphan,
        lambda p: "names neither a hamlet_id nor a commune_id",
        "give the hamlet_id, or commune_id (+ hamlet_name); commune-level rows give commune_id only",
    )
    frame["hamlet_id"], frame["commune_id"] = hid.astype(object), cid.astype(object)
    frame["level"] = np.where(hid.notna(), "hamlet", "commune")
    tip = "a part cannot exceed the whole: check both counts of the row"
    for part, whole in (
        ("households_ftth", "households"),
        ("adults_with_smartphone", "adults"),
        ("adults_internet_users", "adults"),
    ):
        _not_more(survey, part, whole, found, tip)


def _province(communes: _Layer | None) -> Any:
    if communes is None or communes.cleaned is None or not isinstance(communes.cleaned, gpd.GeoDataFrame):
        return None
    geoms = np.asarray(communes.cleaned.geometry.values, dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if geoms.size == 0:
        return None
    province = shapely.union_all(shapely.make_valid(geoms))
    shapely.prepare(province)
    return province


def _check_towers(towers: _Layer, province: Any, found: _Findings) -> None:
    frame = towers.cleaned
    assert frame is not None
    if "site_id" not in frame.columns or not isinstance(frame, gpd.GeoDataFrame):
        return
    site = frame["site_id"]
    first = np.flatnonzero((site.notna() & ~site.duplicated()).to_numpy())
    view = _ref_layer(towers, ids=site, id_name="site_id")
    geoms = np.asarray(frame.geometry.values, dtype=object)
    if province is not None:
        ok = first[_located(geoms[first])]
        outside = ok[~shapely.dwithin(province, geoms[ok], _PROVINCE_TOLERANCE_DEG)]
        found.rows(
            "warning",
            view,
            outside,
            lambda p: f"site is outside the province (lon {geoms[p].x:.5f}, lat {geoms[p].y:.5f})",
            "check its coordinates; a site just across the border may be kept on purpose",
        )
    _check_site_consistency(frame, site, first, view, found)


def _check_site_consistency(
    frame: pd.DataFrame, site: pd.Series, first: np.ndarray, view: _Layer, found: _Findings
) -> None:
    """Warn where the cells of one site disagree on the site columns (operator, status, height, place)."""
    grouped = frame.groupby("site_id", sort=False)
    disagree: dict[str, list[str]] = {}
    for col in ("operator", "status", "height_m"):
        if col in frame.columns:
            for key in grouped[col].nunique()[lambda n: n > 1].index:
                disagree.setdefault(key, []).append(col)
    spread_deg = (grouped["lon"].max() - grouped["lon"].min()) + (grouped["lat"].max() - grouped["lat"].min())
    for key in spread_deg[spread_deg > _SITE_SPREAD_DEG].index:
        disagree.setdefault(key, []).append("location (more than ≈100 m apart)")
    odd_pos = [int(p) for p in first if site.iloc[p] in disagree]
    found.rows(
        "warning",
        view,
        odd_pos,
        lambda p: f"the cells of this site disagree on {', '.join(disagree[site.iloc[p]])}",
        "repeat the same operator, status, height_m, lat and lon on every cell row of a site",
    )


def _check_nodes(nodes: _Layer, communes: _Layer | None, province: Any, found: _Findings) -> None:
    frame = nodes.cleaned
    assert frame is not None
    if "commune_id" in frame.columns:
        frame["commune_id"] = _commune_keys(nodes, communes, found, required=False)
    if province is None or not isinstance(frame, gpd.GeoDataFrame):
        return
    geoms = np.asarray(frame.geometry.values, dtype=object)
    ok = np.flatnonzero(_located(geoms))
    outside = ok[~shapely.dwithin(province, geoms[ok], _PROVINCE_TOLERANCE_DEG)]
    found.rows(
        "warning",
        nodes,
        outside,
        lambda p: "node is outside the province",
        "check its coordinates; a node just across the border may be kept on purpose",
    )


def _check_references(layers: Mapping[str, _Layer], found: _Findings) -> None:
    """Checks between layers: keys that must exist, counts that must agree, locations."""
    usable = {k: v for k, v in layers.items() if v.cleaned is not None}
    communes = usable.get("communes")
    if communes is not None:
        _not_more(
            communes,
            "households",
            "population",
            found,
            "a household has at least one person; check both counts",
        )
    province = _province(communes)
    if "hamlets" in usable:
        _check_hamlets(usable["hamlets"], communes, found)
    if "survey" in usable:
        _check_survey(usable["survey"], usable.get("hamlets"), communes, found)
    if "towers" in usable:
        _check_towers(usable["towers"], province, found)
    if "fibre_nodes" in usable:
        _check_nodes(usable["fibre_nodes"], communes, province, found)
