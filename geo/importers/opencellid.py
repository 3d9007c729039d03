"""OpenCelliD / Mozilla Location Service cell exports -> ``towers/sites.csv``.

Input columns (with or without the header row, as in the per-MCC downloads)::

    radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal

Steps, each counted in the import report (nothing is dropped silently):

1. keep Vietnam (MCC 452); other MCCs are counted and left out;
2. radio -> technology (GSM 2G, UMTS 3G, LTE 4G, NR 5G); other radios (CDMA) left out and counted;
3. MNC -> operator (01 MobiFone, 02 VinaPhone, 04 Viettel, 05 Vietnamobile, 07 Gmobile); cells
   of unknown MNCs are kept in ``towers/unassigned_cells.csv`` and reported;
4. deduplicate by (radio, lon, lat) within each operator (MNC) keeping the row with the latest
   ``updated`` (operators share masts, so two operators' cells at one position are both kept),
   then by cell identity (radio, mcc, net, area, cell), again keeping the latest;
5. leave out cells further than ``clip_buffer_km`` outside the province;
6. cluster the cells of each operator into sites: single linkage with a
   ``site_cluster_m`` threshold (default 150 m) in the UTM zone of the data
   (scipy ``cKDTree.query_pairs`` + connected components). A site's position is
   the mean of its cells' estimated positions.

OpenCelliD positions are crowd-sourced *estimates* (the mean of where phones
heard the cell, often hundreds of metres from the mast), so the layer is
marked ``crowd_sourced = true`` in dataset.toml. Antenna height, band and
status are not in the data: assumed 30 m, 900/2100/1800/3500 MHz for
2G/3G/4G/5G, ``active``; azimuths are left empty (omni).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from geo.crs import utm_crs_for_lonlat
from geo.errors import ImportRejectedError, Problem
from geo.importers._common import Converted, ImportOptions, frame_to_csv_bytes, imported_layer_meta
from geo.safety import check_in_vietnam
from geo.schema import Operator, Technology

__all__ = [
    "OPENCELLID_COLUMNS",
    "MNC_OPERATORS",
    "RADIO_TECHNOLOGY",
    "DEFAULT_BAND_MHZ",
    "DEFAULT_HEIGHT_M",
    "looks_like_opencellid",
    "cluster_sites",
    "convert_opencellid",
]

OPENCELLID_COLUMNS: tuple[str, ...] = (
    "radio",
    "mcc",
    "net",
    "area",
    "cell",
    "unit",
    "lon",
    "lat",
    "range",
    "samples",
    "changeable",
    "created",
    "updated",
    "averageSignal",
)
_REQUIRED = ("radio", "mcc", "net", "area", "cell", "lon", "lat", "updated")
VIETNAM_MCC = 452

#: Vietnamese mobile network codes (MCC 452).
MNC_OPERATORS: dict[int, Operator] = {
    1: Operator.MOBIFONE,
    2: Operator.VINAPHONE,
    4: Operator.VIETTEL,
    5: Operator.VIETNAMOBILE,
    7: Operator.GMOBILE,
}
RADIO_TECHNOLOGY: dict[str, Technology] = {
    "GSM": Technology.G2,
    "UMTS": Technology.G3,
    "LTE": Technology.G4,
    "NR": Technology.G5,
}
#: Assumed carrier frequency per technology (most common Vietnamese deployment), MHz.
DEFAULT_BAND_MHZ: dict[Technology, float] = {
    Technology.G2: 900.0,
    Technology.G3: 2100.0,
    Technology.G4: 1800.0,
    Technology.G5: 3500.0,
}
#: Assumed antenna height above ground, metres.
DEFAULT_HEIGHT_M = 30.0

UNASSIGNED_FILE = "towers/unassigned_cells.csv"
SITES_FILE = "towers/sites.csv"


def looks_like_opencellid(columns: Iterable[str]) -> bool:
    """True if the header is an OpenCelliD export's (or its first row is a headerless data row)."""
    cols = [str(c).strip() for c in columns]
    lower = {c.lower() for c in cols}
    if {"radio", "mcc", "net", "area", "cell"} <= lower:
        return True
    return len(cols) >= 13 and cols[0].upper() in ("GSM", "UMTS", "LTE", "NR", "CDMA")


def _with_header(frame: pd.DataFrame) -> pd.DataFrame:
    cols = [str(c).strip() for c in frame.columns]
    if cols and cols[0].upper() in ("GSM", "UMTS", "LTE", "NR", "CDMA"):
        # headerless per-MCC download: the "header" is the first data row
        first = pd.DataFrame([cols], columns=range(len(cols)))
        body = pd.DataFrame(frame.to_numpy(), columns=range(len(cols)))
        frame = pd.concat([first, body], ignore_index=True)
        names = list(OPENCELLID_COLUMNS[: len(cols)]) + [f"extra_{i}" for i in range(len(cols) - 14)]
        frame.columns = names
        return frame
    frame = frame.copy()
    frame.columns = [c if c == "averageSignal" else c.lower() for c in cols]
    return frame


def _numeric(frame: pd.DataFrame, col: str) -> pd.Series:
    text = frame[col].astype(str).str.strip()
    return pd.to_numeric(text.where(text != "", None), errors="coerce")


def _parse(frame: pd.DataFrame, filename: str) -> pd.DataFrame:
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise ImportRejectedError(
            f"{filename}: OpenCelliD export lacks column(s) {', '.join(missing)}; expected "
            f"{','.join(OPENCELLID_COLUMNS)}"
        )
    out = pd.DataFrame({"row": np.arange(len(frame)) + 2, "radio": frame["radio"].astype(str).str.upper()})
    for col in ("mcc", "net", "area", "cell", "lon", "lat", "updated", "range", "samples"):
        out[col] = _numeric(frame, col) if col in frame.columns else np.nan
    bad = out[out[["mcc", "net", "area", "cell", "lon", "lat"]].isna().any(axis=1)]
    if len(bad):
        rows = ", ".join(str(r) for r in bad["row"].head(5))
        raise ImportRejectedError(
            f"{filename}: {len(bad)} row(s) have a missing or non-numeric mcc/net/area/cell/lon/lat "
            f"(row {rows}{' ...' if len(bad) > 5 else ''}) -> fix or remove them"
        )
    out["updated"] = out["updated"].fillna(0)
    return out


def cluster_sites(lon_deg: np.ndarray, lat_deg: np.ndarray, *, threshold_m: float) -> np.ndarray:
    """Single-linkage clusters of points closer than ``threshold_m``.

    Parameters
    ----------
    lon_deg, lat_deg : numpy.ndarray
        Positions, EPSG:4326 degrees.
    threshold_m : float
        Two points closer than this (in the UTM zone of their mean) are linked, metres.

    Returns
    -------
    numpy.ndarray of int
        Cluster label per point, numbered 0.. in order of first appearance.
    """
    n = len(lon_deg)
    if n == 0:
        return np.zeros(0, dtype=int)
    crs = utm_crs_for_lonlat(float(np.mean(lon_deg)), float(np.mean(lat_deg)))
    to_m = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    x, y = to_m.transform(np.asarray(lon_deg, float), np.asarray(lat_deg, float))
    pairs = cKDTree(np.column_stack([x, y])).query_pairs(r=threshold_m, output_type="ndarray")
    graph = (
        coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
        if len(pairs)
        else coo_matrix((n, n))
    )
    _, labels = connected_components(graph, directed=False)
    # renumber by first appearance so ids are stable for a given input order
    _, first = np.unique(labels, return_index=True)
    order = np.argsort(first)
    remap = np.empty_like(order)
    remap[order] = np.arange(len(order))
    return remap[labels]


def _drop_report(report: list[str], what: str, count: int) -> None:
    if count:
        report.append(f"{count} row(s) {what}")


def _dedupe(cells: pd.DataFrame, report: list[str]) -> pd.DataFrame:
    ordered = cells.sort_values(["updated", "row"], ascending=[False, True], kind="mergesort")
    by_pos = ordered.drop_duplicates(subset=["net", "radio", "lon", "lat"], keep="first")
    _drop_report(
        report,
        "left out as duplicates of the same (radio, lon, lat) of one operator with an older 'updated'",
        len(ordered) - len(by_pos),
    )
    by_cell = by_pos.drop_duplicates(subset=["radio", "mcc", "net", "area", "cell"], keep="first")
    _drop_report(
        report,
        "left out as older positions of the same cell (radio, mcc, net, area, cell)",
        len(by_pos) - len(by_cell),
    )
    return by_cell.sort_values("row")


def _clip_to_province(
    cells: pd.DataFrame, province: gpd.GeoDataFrame | None, buffer_km: float, filename: str, report: list[str]
) -> pd.DataFrame:
    if province is None or province.empty or cells.empty:
        return cells
    area = province.geometry.union_all()
    crs = utm_crs_for_lonlat(*np.asarray(area.centroid.coords[0]))
    area_m = gpd.GeoSeries([area], crs=4326).to_crs(crs).buffer(buffer_km * 1000.0).iloc[0]
    pts = gpd.GeoSeries(shapely.points(cells["lon"], cells["lat"]), crs=4326).to_crs(crs)
    inside = np.asarray(shapely.contains_xy(area_m, pts.x.to_numpy(), pts.y.to_numpy()))
    if not inside.any():
        raise ImportRejectedError(
            f"{filename}: none of the {len(cells)} Vietnamese cells lies within {buffer_km:g} km of the "
            "province "
            "-> is this the right export (province / MCC)?"
        )
    _drop_report(report, f"left out: more than {buffer_km:g} km outside the province", int((~inside).sum()))
    return cells[inside]


def _cell_table(cells: pd.DataFrame, threshold_m: float, report: list[str]) -> pd.DataFrame:
    parts = []
    for op in Operator:
        sub = cells[cells["operator"] == op.value].copy()
        if sub.empty:
            continue
        labels = cluster_sites(sub["lon"].to_numpy(), sub["lat"].to_numpy(), threshold_m=threshold_m)
        sub["cluster"] = labels
        site_lon = sub.groupby("cluster")["lon"].transform("mean")
        site_lat = sub.groupby("cluster")["lat"].transform("mean")
        mnc = next(m for m, o in MNC_OPERATORS.items() if o is op)
        sub["site_id"] = [f"OCI-{mnc:02d}-{k + 1:05d}" for k in labels]
        sub["site_lon"], sub["site_lat"] = site_lon.round(6), site_lat.round(6)
        report.append(
            f"{op.value}: {len(sub)} cell(s) clustered into {labels.max() + 1} site(s) "
            f"(single linkage, {threshold_m:g} m)"
        )
        parts.append(sub)
    merged = pd.concat(parts, ignore_index=True)
    tech = merged["technology"]
    return pd.DataFrame(
        {
            "site_id": merged["site_id"],
            "cell_id": [
                f"{VIETNAM_MCC}-{int(n):02d}-{int(a)}-{int(c)}-{r}"
                for n, a, c, r in zip(
                    merged["net"], merged["area"], merged["cell"], merged["radio"], strict=True
                )
            ],
            "operator": merged["operator"],
            "lat": merged["site_lat"],
            "lon": merged["site_lon"],
            "height_m": DEFAULT_HEIGHT_M,
            "status": "active",
            "technology": tech,
            "band_mhz": [DEFAULT_BAND_MHZ[Technology(t)] for t in tech],
            "azimuth_deg": "",
            "cell_lat": merged["lat"].round(6),
            "cell_lon": merged["lon"].round(6),
            "range_m": merged["range"].astype("Int64"),
            "samples": merged["samples"].astype("Int64"),
            "updated": [_iso_date(u) for u in merged["updated"]],
        }
    )


def _iso_date(unix_s: float) -> str:
    if not np.isfinite(unix_s) or unix_s <= 0:
        return ""
    return dt.datetime.fromtimestamp(float(unix_s), tz=dt.UTC).date().isoformat()


def convert_opencellid(
    frame: pd.DataFrame, filename: str, *, province: gpd.GeoDataFrame | None, options: ImportOptions
) -> Converted:
    """Convert an OpenCelliD export (text cells) to the towers layer.

    Parameters
    ----------
    frame : pandas.DataFrame
        The CSV as read (text cells).
    filename : str
        For messages.
    province : GeoDataFrame or None
        Commune polygons (EPSG:4326) to clip to; None = no clipping.
    options : ImportOptions
        ``site_cluster_m`` and ``clip_buffer_km``.

    Returns
    -------
    Converted
        ``towers/sites.csv`` (and ``towers/unassigned_cells.csv`` when unknown MNCs occur).
    """
    report: list[str] = []
    problems: list[Problem] = []
    cells = _parse(_with_header(frame), filename)
    report.append(f"read {len(cells)} row(s) from {filename}")
    other = cells["mcc"] != VIETNAM_MCC
    if other.all():
        mccs = ", ".join(str(int(m)) for m in sorted(cells["mcc"].unique())[:5])
        raise ImportRejectedError(f"{filename}: no Vietnamese cells (MCC 452); the file has MCC {mccs}")
    _drop_report(report, "left out: MCC other than 452 (not a Vietnamese network)", int(other.sum()))
    cells = cells[~other]
    known_radio = cells["radio"].isin(list(RADIO_TECHNOLOGY))
    if (~known_radio).any():
        radios = ", ".join(sorted(cells.loc[~known_radio, "radio"].unique()))
        problems.append(
            Problem(
                "warning",
                filename,
                "radio",
                f"{int((~known_radio).sum())} cell(s) with radio {radios} left out (not GSM/UMTS/LTE/NR)",
            )
        )
    cells = cells[known_radio]
    inside = check_in_vietnam(cells["lon"].to_numpy(), cells["lat"].to_numpy(), filename)
    _drop_report(report, "left out: coordinates outside Vietnam", int((~inside).sum()))
    cells = _dedupe(cells[inside], report)
    cells = _clip_to_province(cells, province, options.clip_buffer_km, filename, report)
    cells = cells.assign(
        technology=cells["radio"].map(lambda r: RADIO_TECHNOLOGY[r].value),
        operator=cells["net"].map(lambda n: MNC_OPERATORS[int(n)].value if int(n) in MNC_OPERATORS else ""),
    )
    files: dict[str, bytes] = {}
    unknown = cells[cells["operator"] == ""]
    if len(unknown):
        mncs = ", ".join(f"{int(m):02d}" for m in sorted(unknown["net"].unique()))
        problems.append(
            Problem(
                "warning",
                filename,
                "net",
                f"{len(unknown)} cell(s) with unknown MNC {mncs} "
                f"kept in {UNASSIGNED_FILE}, not in the coverage layer",
                "add the operator of that MNC if it is a real Vietnamese network",
            )
        )
        files[UNASSIGNED_FILE] = frame_to_csv_bytes(unknown.drop(columns=["operator"]))
    known = cells[cells["operator"] != ""]
    if known.empty:
        raise ImportRejectedError(f"{filename}: no cell of a known Vietnamese operator (MNC 01/02/04/05/07)")
    table = _cell_table(known, options.site_cluster_m, report)
    files[SITES_FILE] = frame_to_csv_bytes(table)
    meta = imported_layer_meta(
        SITES_FILE,
        options,
        source=f"OpenCelliD export {filename} (crowd-sourced cell position estimates)",
        licence="CC-BY-SA-4.0",
        crowd_sourced=True,
        notes=(
            f"Cells clustered into sites per operator, single linkage within {options.site_cluster_m:g} m; "
            f"site position = mean of cell estimates (cell_lat/cell_lon keep the estimates). Assumed: "
            f"height {DEFAULT_HEIGHT_M:g} m, band 900/2100/1800/3500 MHz for 2G/3G/4G/5G, status active, "
            "omni antennas."
        ),
    )
    return Converted(
        files=files, meta={"towers": meta}, problems=problems, report=report, importer="opencellid"
    )
