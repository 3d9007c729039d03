"""Coordinate reference systems: the metric CRS of a province and plausibility of coordinates.

Storage and display use EPSG:4326 (longitude, latitude in degrees, WGS 84). Distances and
areas are computed in the UTM zone of the data's centroid (EPSG:326xx north of the equator),
e.g. EPSG:32648 for Trà Vinh.

The checks here recognise the three usual ways coordinates go wrong in files handed over by
provincial offices and operators: latitude and longitude swapped, projected metres (UTM or
VN-2000) read as if they were degrees, and points simply elsewhere (a sign lost, 0/0).
"""

from __future__ import annotations

from typing import Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pyproj
import shapely

from geo.errors import CRSError

__all__ = [
    "WGS84",
    "VIETNAM_BOUNDS_DEG",
    "CoordinateIssue",
    "classify_lonlat",
    "describe_coordinate_issue",
    "in_vietnam",
    "metric_crs_for",
    "representative_lonlat",
    "utm_crs_for_lonlat",
]

WGS84 = pyproj.CRS.from_epsg(4326)

#: ``(lon_min, lat_min, lon_max, lat_max)`` in degrees: mainland Vietnam and its islands,
#: Hoàng Sa (Paracels) and Trường Sa (Spratlys) included, with a small margin.
VIETNAM_BOUNDS_DEG: tuple[float, float, float, float] = (102.0, 6.0, 118.0, 23.5)

CoordinateIssue = Literal["ok", "missing", "swapped", "projected", "outside"]


def in_vietnam(lon_deg: npt.ArrayLike, lat_deg: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Return True where ``(lon_deg, lat_deg)`` lies inside :data:`VIETNAM_BOUNDS_DEG`."""
    lon = np.asarray(lon_deg, dtype=float)
    lat = np.asarray(lat_deg, dtype=float)
    x0, y0, x1, y1 = VIETNAM_BOUNDS_DEG
    return (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)


def classify_lonlat(lon_deg: npt.ArrayLike, lat_deg: npt.ArrayLike) -> npt.NDArray[np.str_]:
    """Classify coordinates that claim to be WGS 84 longitude/latitude in degrees.

    Parameters
    ----------
    lon_deg, lat_deg
        Longitudes and latitudes (degrees, EPSG:4326), any array-like of equal length.

    Returns
    -------
    numpy.ndarray of str
        Per point one of ``"ok"`` (inside Vietnam), ``"missing"`` (NaN), ``"swapped"`` (the
        pair is inside Vietnam once latitude and longitude are exchanged), ``"projected"``
        (magnitudes beyond ±180/±90: metres of a projected CRS such as UTM or VN-2000 read as
        degrees) or ``"outside"`` (valid degrees, but not in Vietnam).
    """
    lon = np.atleast_1d(np.asarray(lon_deg, dtype=float))
    lat = np.atleast_1d(np.asarray(lat_deg, dtype=float))
    out = np.full(lon.shape, "outside", dtype="<U9")
    projected = (np.abs(lon) > 180.0) | (np.abs(lat) > 90.0)
    swapped = in_vietnam(lat, lon)
    out[projected] = "projected"
    out[swapped] = "swapped"
    out[in_vietnam(lon, lat)] = "ok"
    out[np.isnan(lon) | np.isnan(lat)] = "missing"
    return out


def describe_coordinate_issue(issue: CoordinateIssue) -> tuple[str, str]:
    """Return ``(message, hint)`` for a coordinate issue found by :func:`classify_lonlat`."""
    x0, y0, x1, y1 = VIETNAM_BOUNDS_DEG
    texts: dict[str, tuple[str, str]] = {
        "missing": ("coordinates are missing", "fill in the location (lon/lat in WGS 84 degrees)"),
        "swapped": (
            "latitude and longitude look swapped (the point is in Vietnam once exchanged)",
            "exchange the lat and lon values (or columns); Vietnam has lon ≈ 102–118, lat ≈ 6–23",
        ),
        "projected": (
            "coordinates look like metres of a projected CRS (UTM / VN-2000) read as degrees",
            "declare the file's real CRS (e.g. EPSG:32648 for UTM 48N, or the VN-2000 zone) "
            "or reproject it to EPSG:4326 before loading",
        ),
        "outside": (
            f"coordinates are outside Vietnam (lon {x0}–{x1}, lat {y0}–{y1})",
            "check the signs and decimal separators, and that lon/lat are WGS 84 degrees",
        ),
    }
    return texts[issue]


def representative_lonlat(
    geometries: npt.ArrayLike,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return the centre of each geometry's bounding box as ``(x, y)`` arrays.

    Cheap stand-in for a centroid that also works on invalid geometries; NaN for missing or
    empty geometries. Units are those of the geometries' CRS.
    """
    bounds = shapely.bounds(np.asarray(geometries, dtype=object))
    x = (bounds[:, 0] + bounds[:, 2]) / 2.0
    y = (bounds[:, 1] + bounds[:, 3]) / 2.0
    return x, y


def utm_crs_for_lonlat(lon_deg: float, lat_deg: float) -> pyproj.CRS:
    """Return the WGS 84 / UTM CRS of the zone containing ``(lon_deg, lat_deg)``.

    EPSG:326zz north of the equator, EPSG:327zz south of it; zone zz = ⌊(lon + 180) / 6⌋ + 1.
    """
    if not (np.isfinite(lon_deg) and np.isfinite(lat_deg)) or abs(lon_deg) > 180 or abs(lat_deg) > 90:
        raise CRSError(f"cannot choose a UTM zone for lon={lon_deg}, lat={lat_deg}: not WGS 84 degrees")
    zone = min(int((lon_deg + 180.0) // 6.0) + 1, 60)
    return pyproj.CRS.from_epsg((32600 if lat_deg >= 0 else 32700) + zone)


def metric_crs_for(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> pyproj.CRS:
    """Return the UTM CRS of the centroid of ``gdf``, for metric work.

    Parameters
    ----------
    gdf
        Features in any CRS (reprojected to EPSG:4326 first); must not be empty.

    Returns
    -------
    pyproj.CRS
        WGS 84 / UTM zone of the area-weighted centroid (EPSG:32648 for Trà Vinh). For
        points and lines the plain mean of the centroids is used.

    Raises
    ------
    CRSError
        When ``gdf`` has no CRS, no non-empty geometry, or its centroid is not in degrees.
    """
    if gdf.crs is None:
        raise CRSError("cannot choose a metric CRS: the layer has no CRS")
    geoms = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    if not pyproj.CRS(gdf.crs).equals(WGS84):
        geoms = geoms.to_crs(WGS84)
    arr = np.asarray(geoms.values, dtype=object)
    arr = arr[~(shapely.is_missing(arr) | shapely.is_empty(arr))]
    if arr.size == 0:
        raise CRSError("cannot choose a metric CRS: the layer has no geometry")
    cents = shapely.centroid(arr)
    x, y = shapely.get_x(cents), shapely.get_y(cents)
    weights = shapely.area(arr)
    if not np.isfinite(weights).all() or weights.sum() <= 0:
        weights = np.ones_like(x)
    return utm_crs_for_lonlat(float(np.average(x, weights=weights)), float(np.average(y, weights=weights)))
