"""Guards against hostile or broken uploads.

Every importer passes the raw bytes of an uploaded file through these checks
*before* any parser sees them: size and feature-count limits, empty / binary /
mislabelled files, ZIP path traversal and ZIP bombs, deeply nested or
truncated JSON, and coordinates that all lie outside Vietnam. Each check
raises :class:`geo.errors.ImportRejectedError` with a message naming the file
and what to do, and never touches the data package.
"""

from __future__ import annotations

import io
import json
import math
import re
import stat
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from geo.crs import VIETNAM_BOUNDS_DEG, classify_lonlat, describe_coordinate_issue, in_vietnam
from geo.errors import ImportRejectedError

__all__ = [
    "ImportLimits",
    "VIETNAM_BOUNDS_DEG",
    "check_upload_bytes",
    "sniff_kind",
    "decode_text",
    "detect_legacy_encoding",
    "gunzip_safely",
    "safe_zip_members",
    "extract_zip_safely",
    "check_json_depth",
    "parse_json_safely",
    "check_feature_count",
    "check_in_vietnam",
]


@dataclass(frozen=True)
class ImportLimits:
    """Limits applied to every upload.

    Parameters
    ----------
    max_upload_bytes : int
        Largest accepted upload (default 64 MiB).
    max_features : int
        Most rows / features in one layer file (default 500 000).
    max_unzipped_bytes : int
        Largest total size the members of an archive may decompress to (default 256 MiB).
    max_zip_ratio : float
        Largest decompressed/compressed size ratio of any archive member (default 100).
    max_zip_members : int
        Most members in an archive (default 1000).
    max_json_depth : int
        Deepest nesting of JSON arrays/objects (default 32; GeoJSON needs at most 7).
    """

    max_upload_bytes: int = 64 * 1024 * 1024
    max_features: int = 500_000
    max_unzipped_bytes: int = 256 * 1024 * 1024
    max_zip_ratio: float = 100.0
    max_zip_members: int = 1000
    max_json_depth: int = 32

    def __post_init__(self) -> None:
        for name in (
            "max_upload_bytes",
            "max_features",
            "max_unzipped_bytes",
            "max_zip_members",
            "max_json_depth",
        ):
            if int(getattr(self, name)) < 1:
                raise ImportRejectedError(f"import limit {name} must be at least 1")
        if self.max_zip_ratio <= 1:
            raise ImportRejectedError("import limit max_zip_ratio must be above 1")


# magic prefix -> (kind, human name)
_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"PK\x03\x04", "zip", "a ZIP archive"),
    (b"PK\x05\x06", "zip", "an empty ZIP archive"),
    (b"SQLite format 3\x00", "sqlite", "an SQLite database (GeoPackage)"),
    (b"\x89PNG\r\n\x1a\n", "png", "a PNG image"),
    (b"\xff\xd8\xff", "jpeg", "a JPEG image"),
    (b"GIF8", "gif", "a GIF image"),
    (b"%PDF", "pdf", "a PDF document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole", "a legacy Office (.xls/.doc) file"),
    (b"\x1f\x8b", "gzip", "a gzip archive"),
    (b"Rar!", "rar", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "7z", "a 7-Zip archive"),
    (b"MZ", "exe", "a Windows executable"),
    (b"\x7fELF", "exe", "an executable"),
    (b"II*\x00", "tiff", "a TIFF image"),
    (b"MM\x00*", "tiff", "a TIFF image"),
)

#: What each file extension must be (kind from :func:`sniff_kind`).
_EXPECTED_KIND: dict[str, tuple[str, ...]] = {
    ".csv": ("text",),
    ".txt": ("text",),
    ".geojson": ("text",),
    ".json": ("text",),
    ".xlsx": ("xlsx",),
    ".zip": ("zip", "xlsx"),
    ".gpkg": ("sqlite",),
    ".gz": ("gzip",),
}

_KIND_NAMES = {
    "text": "a text file",
    "xlsx": "an XLSX workbook",
    "zip": "a ZIP archive (zipped Shapefile)",
    "sqlite": "an SQLite GeoPackage",
    "gzip": "gzip-compressed data",
    "binary": "binary data",
    "empty": "empty",
}


def _suffix(filename: str) -> str:
    name = filename.lower()
    if name.endswith(".shp.zip"):
        return ".zip"
    return Path(name).suffix


def sniff_kind(data: bytes) -> tuple[str, str]:
    """Guess what ``data`` really is from its first bytes.

    Returns
    -------
    (kind, description)
        ``kind`` is one of "zip", "xlsx", "sqlite", "text", "binary", "empty" or an
        image/document kind; ``description`` is a phrase for messages.
    """
    if not data.strip():
        return "empty", "empty"
    for magic, kind, name in _MAGIC:
        if data.startswith(magic):
            if kind == "zip" and _is_xlsx(data):
                return "xlsx", "an XLSX workbook"
            return kind, name
    if _looks_binary(data[:65536]):
        return "binary", "binary data"
    return "text", "a text file"


def _is_xlsx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    return "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names)


def _looks_binary(head: bytes) -> bool:
    """True if ``head`` holds NUL bytes or many control bytes (UTF-16 with a BOM is text)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13, 12))
    return controls > max(8, len(head) // 100)


def check_upload_bytes(data: bytes, filename: str, *, limits: ImportLimits) -> str:
    """Check size, emptiness and that the bytes are what the extension claims.

    Parameters
    ----------
    data : bytes
        The whole uploaded file.
    filename : str
        Its name as uploaded (only the extension is used, plus in messages).
    limits : ImportLimits
        Size limits.

    Returns
    -------
    str
        The sniffed kind ("text", "xlsx", "zip", "sqlite").

    Raises
    ------
    ImportRejectedError
        Empty, too large, binary garbage, or not the format its extension claims.
    """
    size = len(data)
    if size > limits.max_upload_bytes:
        raise ImportRejectedError(
            f"{filename}: file is {size / 1e6:.1f} MB, larger than the "
            f"{limits.max_upload_bytes / 1e6:.1f} MB "
            "upload limit -> split it or raise the limit (--max-upload-mb)"
        )
    kind, what = sniff_kind(data)
    if kind == "empty":
        raise ImportRejectedError(f"{filename}: file is empty -> export the layer again")
    suffix = _suffix(filename)
    expected = _EXPECTED_KIND.get(suffix)
    if expected is None:
        raise ImportRejectedError(
            f"{filename}: unsupported file type '{suffix or '(none)'}' -> use one of "
            + ", ".join(sorted(_EXPECTED_KIND))
        )
    if kind not in expected:
        want = " or ".join(_KIND_NAMES.get(k, k) for k in expected)
        if kind == "binary":
            raise ImportRejectedError(
                f"{filename}: file is binary data, not {want} (garbage or a damaged file) "
                "-> check that you uploaded the right file"
            )
        raise ImportRejectedError(
            f"{filename}: file claims to be '{suffix}' but is {what}, not {want} "
            "-> save it in the format its name says"
        )
    return kind


_VNI_RE = re.compile(r"[AaEeIiOoUuYyÖöÔô][øùûõï]|[AaOoEe][âê]|[Ññ][öôaeiouÖÔAEIOU]|[Öö][ôø]")
# TCVN3 bytes 0xA1-0xFE read as Latin-1, leaving out letters that real Vietnamese also uses.
_TCVN3_CHARS = set("¸µ¶·¹¨»¾¼½Æ©ÇË®ÎÏÑª×ØÜÞßä«åæç¬ëîïñ­øö÷ûüþ§")
_TCVN3_RE = re.compile(
    "[A-Za-z]["
    + re.escape("".join(sorted(_TCVN3_CHARS)))
    + "]|["
    + re.escape("".join(sorted(_TCVN3_CHARS)))
    + "][a-z]"
)


def detect_legacy_encoding(texts: Iterable[str]) -> str | None:
    """Detect Vietnamese text typed in a legacy 8-bit font encoding.

    Legacy files were read as Latin-1 / Windows-1252 (the default for a
    shapefile without ``.cpg``), so their Vietnamese letters appear as typical
    character pairs: VNI writes "Xã Long Đức" as "Xaõ Long Ñöùc" (a base
    letter followed by a tone-mark byte ø ù û õ ï, "Ñ" for Đ); TCVN3 (ABC)
    writes it as "X· Long §øc" (precomposed letters mapped to ¸ µ ¶ · ¹ § ® …
    between Latin letters).

    Parameters
    ----------
    texts : iterable of str
        Names as decoded.

    Returns
    -------
    str or None
        "VNI" or "TCVN3" when at least a fifth of the names (and two or more)
        show the pattern; otherwise None.
    """
    values = [t for t in texts if isinstance(t, str) and t.strip()]
    if not values:
        return None
    vni = sum(1 for t in values if _VNI_RE.search(t))
    tcvn = sum(1 for t in values if _TCVN3_RE.search(t) and not _has_real_vietnamese(t))
    need = max(1, math.ceil(len(values) / 5)) if len(values) > 1 else 1
    if vni >= need and vni >= tcvn:
        return "VNI"
    if tcvn >= need:
        return "TCVN3"
    return None


_REAL_VN = re.compile("[ăắằẳẵặâấầẩẫậđêếềểễệôốồổỗộơớờởỡợưứừửữựạảẹẻẽịỉĩọỏụủũỳỷỹỵ]", re.IGNORECASE)


def _has_real_vietnamese(text: str) -> bool:
    return bool(_REAL_VN.search(text))


def decode_text(data: bytes, filename: str, *, encoding: str | None = None) -> str:
    """Decode an uploaded text file.

    Tries the declared ``encoding``, then UTF-8 (with or without BOM), UTF-16
    with a BOM, and finally Windows-1258 (Vietnamese Windows code page).

    Raises
    ------
    ImportRejectedError
        If the text is in a legacy Vietnamese font encoding (VNI, TCVN3) or
        cannot be decoded.
    """
    candidates: list[str] = []
    if encoding:
        candidates.append(encoding)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates.append("utf-16")
    candidates += ["utf-8-sig"]
    for enc in candidates:
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        _refuse_legacy(text, filename)
        return text
    # not Unicode: legacy font encodings show their byte patterns when read as Latin-1
    _refuse_legacy(data.decode("latin-1"), filename)
    try:
        return data.decode("cp1258")
    except UnicodeDecodeError:
        pass
    raise ImportRejectedError(f"{filename}: text is not UTF-8 and cannot be decoded -> save as 'CSV UTF-8'")


def _refuse_legacy(text: str, filename: str) -> None:
    legacy = detect_legacy_encoding(_words_for_sniffing(text))
    if legacy:
        raise legacy_encoding_error(filename, legacy)


def _words_for_sniffing(text: str) -> list[str]:
    return [line for line in text.splitlines()[:5000] if line.strip()]


def legacy_encoding_error(filename: str, legacy: str) -> ImportRejectedError:
    """Return the error for names typed in a legacy Vietnamese encoding."""
    return ImportRejectedError(
        f"{filename}: Vietnamese names are in the legacy {legacy} encoding, not Unicode "
        f"(e.g. 'Ñöùc'/'§øc' instead of 'Đức') -> convert the file to Unicode/UTF-8 first "
        f"(Unikey Toolkit: source {legacy}{' Windows' if legacy == 'VNI' else ''}, target Unicode)"
    )


def gunzip_safely(data: bytes, filename: str, *, limits: ImportLimits) -> bytes:
    """Decompress a gzip upload (e.g. OpenCelliD's ``452.csv.gz``), refusing gzip bombs.

    Decompression stops as soon as the output passes ``limits.max_unzipped_bytes`` or a
    compression ratio above ``limits.max_zip_ratio`` (for outputs over 1 MB).

    Raises
    ------
    ImportRejectedError
        Damaged or truncated gzip data, or a gzip bomb.
    """
    import zlib

    decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = bytearray()
    try:
        chunk_in = memoryview(data)
        for start in range(0, len(data), 1 << 16):
            out += decomp.decompress(
                chunk_in[start : start + (1 << 16)], limits.max_unzipped_bytes + 1 - len(out)
            )
            if decomp.unconsumed_tail:
                raise ImportRejectedError(
                    f"{filename}: gzip data decompresses past the "
                    f"{limits.max_unzipped_bytes / 1e6:.0f} MB limit (possible gzip bomb)"
                )
            _check_gzip_size(len(out), len(data), filename, limits)
        out += decomp.flush()
    except zlib.error as exc:
        raise ImportRejectedError(
            f"{filename}: damaged gzip data ({exc}) -> download the file again"
        ) from exc
    if not decomp.eof:
        raise ImportRejectedError(f"{filename}: gzip data is truncated -> download the file again")
    _check_gzip_size(len(out), len(data), filename, limits)
    return bytes(out)


def _check_gzip_size(size: int, packed: int, filename: str, limits: ImportLimits) -> None:
    if size > limits.max_unzipped_bytes:
        raise ImportRejectedError(
            f"{filename}: gzip data decompresses past the {limits.max_unzipped_bytes / 1e6:.0f} MB limit "
            "(possible gzip bomb)"
        )
    if size > 1_000_000 and size / max(packed, 1) > limits.max_zip_ratio:
        raise ImportRejectedError(
            f"{filename}: compression ratio {size / max(packed, 1):.0f}:1 is above the "
            f"{limits.max_zip_ratio:.0f}:1 limit (possible gzip bomb)"
        )


def safe_zip_members(data: bytes, filename: str, *, limits: ImportLimits) -> list[zipfile.ZipInfo]:
    """List the members of a ZIP upload after checking it is safe to extract.

    Refuses: damaged archives, too many members, absolute paths or ``..``
    components (path traversal), symbolic links, nested archives, a total
    decompressed size past ``limits.max_unzipped_bytes`` and members whose
    compression ratio exceeds ``limits.max_zip_ratio`` (ZIP bombs).

    Returns
    -------
    list of zipfile.ZipInfo
        Regular file members (directories left out).
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ImportRejectedError(
            f"{filename}: damaged or truncated ZIP archive ({exc}) -> zip it again"
        ) from exc
    if len(infos) > limits.max_zip_members:
        raise ImportRejectedError(
            f"{filename}: archive holds {len(infos)} members, more than the limit of {limits.max_zip_members}"
        )
    total = sum(i.file_size for i in infos)
    if total > limits.max_unzipped_bytes:
        raise ImportRejectedError(
            f"{filename}: archive would decompress to {total / 1e6:.0f} MB, more than the "
            f"{limits.max_unzipped_bytes / 1e6:.0f} MB limit (possible ZIP bomb)"
        )
    files = []
    for info in infos:
        _check_member_path(info, filename)
        if info.is_dir():
            continue
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise ImportRejectedError(
                f"{filename}: member '{info.filename}' is a symbolic link; links are refused"
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1_000_000 and ratio > limits.max_zip_ratio:
            raise ImportRejectedError(
                f"{filename}: member '{info.filename}' has compression ratio {ratio:.0f}:1, above the "
                f"{limits.max_zip_ratio:.0f}:1 limit (possible ZIP bomb)"
            )
        if PurePosixPath(info.filename).suffix.lower() in (".zip", ".gz", ".7z", ".rar"):
            raise ImportRejectedError(
                f"{filename}: member '{info.filename}' is a nested archive; upload the inner files directly"
            )
        files.append(info)
    return files


def _check_member_path(info: zipfile.ZipInfo, filename: str) -> None:
    name = info.filename.replace("\\", "/")
    path = PurePosixPath(name)
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise ImportRejectedError(
            f"{filename}: member '{info.filename}' has an absolute path that escapes the extraction folder"
        )
    if ".." in path.parts:
        raise ImportRejectedError(
            f"{filename}: member '{info.filename}' has a path that escapes the extraction folder ('..')"
        )


def extract_zip_safely(data: bytes, filename: str, dest: Path, *, limits: ImportLimits) -> list[Path]:
    """Extract a checked ZIP upload into ``dest`` (flattened to base names), counting bytes as it goes.

    Returns
    -------
    list of Path
        The extracted files.
    """
    members = safe_zip_members(data, filename, limits=limits)
    written: list[Path] = []
    budget = limits.max_unzipped_bytes
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in members:
            base = PurePosixPath(info.filename.replace("\\", "/")).name
            if not base or base.startswith("."):
                continue
            target = dest / base
            if target.resolve().parent != dest.resolve():
                raise ImportRejectedError(
                    f"{filename}: member '{info.filename}' escapes the extraction folder"
                )
            try:
                with zf.open(info) as src, open(target, "wb") as out:
                    while chunk := src.read(1 << 20):
                        budget -= len(chunk)
                        if budget < 0:
                            raise ImportRejectedError(
                                f"{filename}: archive decompresses past the "
                                f"{limits.max_unzipped_bytes / 1e6:.0f} MB limit (possible ZIP bomb)"
                            )
                        out.write(chunk)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise ImportRejectedError(f"{filename}: member '{info.filename}' is damaged ({exc})") from exc
            written.append(target)
    return written


def _json_scan(text: str, max_depth: int) -> tuple[int, bool, bool]:
    """Scan JSON text outside strings: (final depth, ends inside a string, exceeded ``max_depth``)."""
    depth = 0
    in_string = False
    escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > max_depth:
                return depth, in_string, True
        elif ch in "]}":
            depth -= 1
    return depth, in_string, False


def check_json_depth(text: str, filename: str, *, max_depth: int) -> None:
    """Refuse JSON nested deeper than ``max_depth`` without parsing it (strings are skipped)."""
    if _json_scan(text, max_depth)[2]:
        raise ImportRejectedError(
            f"{filename}: JSON is nested deeper than {max_depth} levels; GeoJSON needs at most 7 "
            "-> this is not a valid GeoJSON file"
        )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name} is not valid JSON")


def parse_json_safely(data: bytes, filename: str, *, limits: ImportLimits) -> Any:
    """Decode and parse a JSON upload after the depth check.

    Raises
    ------
    ImportRejectedError
        Truncated or invalid JSON (with line and column), NaN/Infinity, too deep.
    """
    text = decode_text(data, filename, encoding="utf-8-sig")
    check_json_depth(text, filename, max_depth=limits.max_json_depth)
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        depth, in_string, _ = _json_scan(text, limits.max_json_depth)
        if depth > 0 or in_string or exc.pos >= len(text.rstrip()) - 1:
            raise ImportRejectedError(
                f"{filename}: JSON is truncated (ends unexpectedly at {where}) -> export the file again"
            ) from exc
        raise ImportRejectedError(f"{filename}: invalid JSON at {where}: {exc.msg}") from exc
    except (ValueError, RecursionError) as exc:
        raise ImportRejectedError(f"{filename}: invalid JSON: {exc}") from exc


def check_feature_count(n_rows: int, filename: str, *, limits: ImportLimits) -> None:
    """Refuse files with no data rows or more rows than ``limits.max_features``."""
    if n_rows == 0:
        raise ImportRejectedError(f"{filename}: file has a header but no data rows / features")
    if n_rows > limits.max_features:
        raise ImportRejectedError(
            f"{filename}: {n_rows} rows/features, more than the limit of {limits.max_features} "
            "-> clip the file to the province first or raise the limit (--max-features)"
        )


def check_in_vietnam(lon_deg: np.ndarray, lat_deg: np.ndarray, filename: str) -> np.ndarray:
    """Return a mask of points inside Vietnam (:data:`geo.crs.VIETNAM_BOUNDS_DEG`); refuse when none is.

    Parameters
    ----------
    lon_deg, lat_deg : numpy.ndarray
        Longitudes and latitudes, EPSG:4326 degrees (NaN allowed).
    filename : str
        For the message.

    Raises
    ------
    ImportRejectedError
        If every finite coordinate lies outside Vietnam; the message says whether
        latitude/longitude look swapped or projected metres were read as degrees.
    """
    lon = np.asarray(lon_deg, dtype=float)
    lat = np.asarray(lat_deg, dtype=float)
    inside = in_vietnam(lon, lat)
    finite = np.isfinite(lon) & np.isfinite(lat)
    if finite.any() and not inside.any():
        issues = classify_lonlat(lon[finite], lat[finite])
        kinds, counts = np.unique(issues, return_counts=True)
        message, hint = describe_coordinate_issue(str(kinds[np.argmax(counts)]))  # type: ignore[arg-type]
        raise ImportRejectedError(f"{filename}: every coordinate lies outside Vietnam: {message} -> {hint}")
    return inside
