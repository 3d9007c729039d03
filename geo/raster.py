"""Raster I/O: Cloud-Optimized GeoTIFF output and reading rasters onto an analysis grid.

Writing goes through rasterio's ``COG`` driver (GDAL >= 3.1): internal 512-pixel tiles, DEFLATE
compression at level 1 (fast), overviews down to 256 pixels, all in COG layout (Debian's
``gdalinfo`` reports ``LAYOUT=COG`` under "Image Structure Metadata").
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pyproj
import rasterio
import rasterio.shutil
from affine import Affine
from numpy.typing import NDArray
from rasterio.enums import Resampling
from rasterio.errors import RasterioError
from rasterio.io import MemoryFile
from rasterio.warp import reproject

from geo.errors import CRSError, DataNotFoundError, ParameterError

__all__ = ["write_cog", "read_raster_to_grid"]

log = logging.getLogger(__name__)

_RESAMPLING = {
    "nearest": Resampling.nearest,
    "bilinear": Resampling.bilinear,
    "average": Resampling.average,
    "mode": Resampling.mode,
    "sum": Resampling.sum,
}


def write_cog(
    path: Path | str,
    array: NDArray[np.generic],
    *,
    transform: Affine,
    crs: pyproj.CRS,
    nodata: float | int,
    tags: Mapping[str, str] | None = None,
    band_description: str = "",
    overview_resampling: str = "nearest",
) -> Path:
    """Write one band as a Cloud-Optimized GeoTIFF with overviews.

    Parameters
    ----------
    path : path-like
        Output file (``.tif``); replaced atomically if it exists.
    array : ndarray (rows, cols)
        Pixel values; its dtype is kept (float32, int32, uint8, ...).
    transform : Affine
        Pixel-to-CRS transform.
    crs : pyproj.CRS
        CRS of the grid.
    nodata : number
        Nodata value stored in the file.
    tags : mapping, optional, keyword-only
        Dataset metadata (model, parameters, sources).
    band_description : str, keyword-only
        Description of the band (e.g. "best-server RSRP dBm").
    overview_resampling : {"nearest", "average", "mode", "bilinear"}, keyword-only
        Resampling of the overview levels ("nearest" for indices and classes).

    Returns
    -------
    Path
        ``path``.
    """
    if array.ndim != 2:
        raise ParameterError(f"write_cog expects a 2-D array, got shape {array.shape}")
    if overview_resampling not in _RESAMPLING:
        raise ParameterError(f"unknown overview resampling {overview_resampling!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {
        "driver": "GTiff",
        "height": array.shape[0],
        "width": array.shape[1],
        "count": 1,
        "dtype": array.dtype.name,
        "crs": rasterio.crs.CRS.from_wkt(pyproj.CRS(crs).to_wkt()),
        "transform": transform,
        "nodata": nodata,
    }
    fd, tmp_name = tempfile.mkstemp(suffix=".tif", dir=path.parent)
    os.close(fd)
    try:
        with MemoryFile() as mem:
            with mem.open(**profile) as dst:
                dst.write(array, 1)
                if tags:
                    dst.update_tags(**{str(k): str(v) for k, v in tags.items()})
                if band_description:
                    dst.set_band_description(1, band_description)
            with mem.open() as src:
                rasterio.shutil.copy(
                    src,
                    tmp_name,
                    driver="COG",
                    COMPRESS="DEFLATE",
                    LEVEL=1,
                    BLOCKSIZE=512,
                    OVERVIEWS="AUTO",
                    OVERVIEW_RESAMPLING=overview_resampling.upper(),
                    PREDICTOR="YES" if array.dtype.kind == "f" else "NO",
                    BIGTIFF="IF_SAFER",
                    NUM_THREADS="ALL_CPUS",
                )
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_name, 0o666 & ~umask)
        os.replace(tmp_name, path)
    except RasterioError as exc:
        raise ParameterError(f"could not write {path}: {exc}") from exc
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    log.info("wrote %s (%d x %d %s)", path, array.shape[1], array.shape[0], array.dtype.name)
    return path


def read_raster_to_grid(
    path: Path | str,
    *,
    transform: Affine,
    crs: pyproj.CRS,
    shape: tuple[int, int],
    resampling: str = "bilinear",
    fill: float = np.nan,
) -> NDArray[np.float32]:
    """Read band 1 of a raster and resample it onto a grid.

    Parameters
    ----------
    path : path-like
        Any raster GDAL reads (GeoTIFF DEM, population count, clutter codes).
    transform, crs, shape : keyword-only
        The target grid (e.g. ``Grid.transform``, ``Grid.crs``, ``Grid.shape``).
    resampling : {"bilinear", "nearest", "average", "mode", "sum"}, keyword-only
        "bilinear" for heights, "nearest"/"mode" for classes, "sum" for counts.
    fill : float, keyword-only
        Value where the source has no data or does not reach.

    Returns
    -------
    ndarray of float32
        Values on the grid.

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    CRSError
        The raster has no CRS.
    ParameterError
        The file is not a readable raster.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"raster {path} does not exist")
    if resampling not in _RESAMPLING:
        raise ParameterError(f"unknown resampling {resampling!r}")
    out = np.full(shape, fill, dtype=np.float32)
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise CRSError(f"{path}: raster has no CRS; write one (e.g. gdal_edit.py -a_srs EPSG:32648)")
            reproject(
                source=rasterio.band(src, 1),
                destination=out,
                dst_transform=transform,
                dst_crs=rasterio.crs.CRS.from_wkt(pyproj.CRS(crs).to_wkt()),
                dst_nodata=fill,
                resampling=_RESAMPLING[resampling],
            )
    except RasterioError as exc:
        raise ParameterError(f"{path}: not a readable raster ({exc})") from exc
    return out
