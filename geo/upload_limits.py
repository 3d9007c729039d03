"""Upload size limits per layer, checked on the file's size before anything reads it.

The upload page (``views/upload.py``) calls :func:`check_upload_size` with the size the browser
sent, before it takes the bytes, unzips or parses anything: a file over its layer's limit is
refused with a message naming the file, its size and the limit, and nothing is stored. The same
limit then becomes the importer's own ``max_upload_bytes`` (:func:`import_limits`), so the page and
:func:`geo.importers.plan_import` never disagree.

Default limits (MB = 1,000,000 bytes, as ``--max-upload-mb`` of the CLI):

===========  =======  =====================================================================
layer        MB       why
===========  =======  =====================================================================
boundaries   200      commune polygons of a province at full detail (GeoPackage, zipped SHP)
hamlets      50       hamlet points or polygons
towers       50       operator sheets, OpenCelliD extracts (``452.csv.gz``)
fibre        50       access nodes and cable routes
roads        300      OSM road extracts of a province
survey       20       one row per hamlet
===========  =======  =====================================================================

Override one with ``PHUSONG_UPLOAD_LIMIT_MB_<LAYER>`` (e.g. ``PHUSONG_UPLOAD_LIMIT_MB_ROADS=500``;
a positive number, fractions allowed). Streamlit refuses anything above its own
``server.maxUploadSize`` (``.streamlit/config.toml``, in MiB: 300, which covers the largest default
above) before PhuSong sees it; raise that too (or ``STREAMLIT_SERVER_MAX_UPLOAD_SIZE``) when raising
a limit above it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

from geo.errors import ImportRejectedError, ParameterError
from geo.safety import ImportLimits

__all__ = [
    "DEFAULT_LIMITS_MB",
    "ENV_PREFIX",
    "MB",
    "check_upload_size",
    "describe_size",
    "import_limits",
    "upload_limit_bytes",
    "upload_limits",
]

MB = 1_000_000
"""Bytes in a megabyte of these limits (decimal, as the CLI's ``--max-upload-mb``)."""

#: Default largest upload per layer (names of :data:`geo.importers.LAYERS`), MB.
DEFAULT_LIMITS_MB: Mapping[str, float] = MappingProxyType(
    {"boundaries": 200, "hamlets": 50, "towers": 50, "fibre": 50, "roads": 300, "survey": 20}
)

#: Environment variable prefix of an override: ``PHUSONG_UPLOAD_LIMIT_MB_TOWERS=80``.
ENV_PREFIX = "PHUSONG_UPLOAD_LIMIT_MB_"

_MAX_MB = 10_000.0  # 10 GB: anything above is a typo, not a limit


def _env_name(layer: str) -> str:
    return f"{ENV_PREFIX}{layer.upper()}"


def upload_limit_bytes(layer: str, environ: Mapping[str, str] | None = None) -> int:
    """The largest accepted upload of ``layer``, bytes (default, or the environment's override).

    Raises
    ------
    ImportRejectedError
        ``layer`` is not an importable layer.
    ParameterError
        The override is not a number in (0, 10000] MB (the message names the variable).
    """
    if layer not in DEFAULT_LIMITS_MB:
        raise ImportRejectedError(f"unknown layer {layer!r}; use one of {', '.join(DEFAULT_LIMITS_MB)}")
    env = os.environ if environ is None else environ
    name = _env_name(layer)
    raw = env.get(name, "").strip()
    if not raw:
        return int(DEFAULT_LIMITS_MB[layer] * MB)
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= _MAX_MB):
        raise ParameterError(
            f"{name}={raw!r}: give the upload limit in MB, a number above 0 and at most 10000"
        )
    return max(1, int(value * MB))


def upload_limits(environ: Mapping[str, str] | None = None) -> dict[str, int]:
    """Every layer's limit, bytes."""
    return {layer: upload_limit_bytes(layer, environ) for layer in DEFAULT_LIMITS_MB}


def describe_size(size: int) -> str:
    """``"61.3 MB"``, ``"850 KB"`` or ``"12 bytes"`` (decimal units)."""
    if size >= MB:
        return f"{size / MB:.1f} MB"
    if size >= 1000:
        return f"{size / 1000:.0f} KB"
    return f"{size} bytes"


def check_upload_size(
    layer: str, filename: str, size: int, *, environ: Mapping[str, str] | None = None
) -> None:
    """Refuse an upload larger than its layer's limit, from its size alone (nothing is read).

    Parameters
    ----------
    layer
        The layer it would be imported into.
    filename
        Its name as uploaded (for the message).
    size
        Its size in bytes (``UploadedFile.size``, or the file's ``st_size``).

    Raises
    ------
    ImportRejectedError
        The file is larger than the limit: the message names the file, its size, the limit and
        the variable that raises it.
    """
    limit = upload_limit_bytes(layer, environ)
    if int(size) <= limit:
        return
    raise ImportRejectedError(
        f"{filename}: the file is {describe_size(int(size))}, larger than the {describe_size(limit)} "
        f"limit for {layer} uploads; it was not read -> split it, or ask the data office to raise "
        f"{_env_name(layer)}"
    )


def import_limits(
    layer: str, base: ImportLimits | None = None, environ: Mapping[str, str] | None = None
) -> ImportLimits:
    """``base`` (default :class:`~geo.safety.ImportLimits`) with ``layer``'s upload limit.

    Archives may unpack to at least as much as the upload itself (``max_unzipped_bytes`` is raised
    to the layer's limit when it is lower); ratio, member and depth limits are kept.
    """
    base = base or ImportLimits()
    limit = upload_limit_bytes(layer, environ)
    return replace(base, max_upload_bytes=limit, max_unzipped_bytes=max(base.max_unzipped_bytes, limit))
