"""Operator site lists (CSV or XLSX, Vietnamese or English headers) -> ``towers/sites.csv``.

Header mapping (case, diacritics, spaces and punctuation ignored):

=================  ==========================================================================
column             accepted headers
=================  ==========================================================================
site_id            Mã trạm, Mã site, Tên trạm, Site ID, Site code, Site name, site
cell_id            Mã cell, Mã ô, Cell ID, Cell name, cell
operator           Nhà mạng, Doanh nghiệp, Nhà cung cấp, Operator, Carrier, MNO
lon                Kinh độ, Longitude, Long, Lng, Lon, X
lat                Vĩ độ, Latitude, Lat, Y
height_m           Độ cao anten, Độ cao ăng ten, Chiều cao anten, Độ cao (m), Antenna height, Height
technology         Công nghệ, Technology, Tech, RAT, Loại trạm
band_mhz           Băng tần, Tần số, Band, Frequency, Băng tần (MHz)
azimuth_deg        Góc phương vị, Hướng anten, Azimuth, Az
status             Trạng thái, Tình trạng, Status
beamwidth_deg      Độ rộng búp sóng, Beamwidth
eirp_dbm           EIRP, Công suất phát xạ (dBm)
bandwidth_mhz      Băng thông, Bandwidth
=================  ==========================================================================

Coordinates may be decimal degrees ("106.3456", "106,3456") or degrees-minutes-seconds
("106°20'30.5\"E", "9°56'12\"N", "106 20 30.5", "106:20:30.5"); hemisphere letters E/W/N/S and
Vietnamese Đ (Đông, east), T (Tây, west), B (Bắc, north) are understood ("N" means north).
Bands may be MHz ("1800", "1800 MHz", "LTE1800") or 3GPP band names ("B3", "n78"). A
technology cell listing several ("2G/3G/4G") yields one row per technology. Missing
``status`` means ``active``; a missing ``cell_id`` is ``<site_id>-<n>``.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

import pandas as pd

from geo.errors import ImportRejectedError, Problem
from geo.importers._common import (
    Converted,
    ImportOptions,
    frame_to_csv_bytes,
    imported_layer_meta,
    map_headers,
    require_headers,
)
from geo.safety import check_in_vietnam
from geo.schema import Operator, SiteStatus, Technology, accepted_values, parse_category

if TYPE_CHECKING:
    from geo.importers._old_communes import KeyMatch, OldCommunes

__all__ = ["HEADER_ALIASES", "parse_coordinate_deg", "parse_band_mhz", "convert_operator_sheet"]

HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "site_id": (
        "mã trạm",
        "ma tram",
        "mã site",
        "tên trạm",
        "site id",
        "site code",
        "site name",
        "site",
        "mã trạm bts",
        "station id",
    ),
    "cell_id": ("mã cell", "mã ô", "cell id", "cell name", "cell", "ma cell"),
    "operator": ("nhà mạng", "doanh nghiệp", "nhà cung cấp", "operator", "carrier", "mno", "mạng"),
    "lon": ("kinh độ", "longitude", "long", "lng", "x", "kinh do"),
    "lat": ("vĩ độ", "latitude", "y", "vi do"),
    "height_m": (
        "độ cao anten",
        "độ cao ăng ten",
        "chiều cao anten",
        "độ cao (m)",
        "độ cao anten (m)",
        "antenna height",
        "height",
        "height (m)",
        "chiều cao",
        "độ cao",
    ),
    "technology": ("công nghệ", "technology", "tech", "rat", "loại trạm"),
    "band_mhz": ("băng tần", "tần số", "band", "frequency", "băng tần (mhz)", "tần số (mhz)", "band (mhz)"),
    "azimuth_deg": ("góc phương vị", "hướng anten", "azimuth", "az", "góc phương vị (độ)", "azimuth (deg)"),
    "status": ("trạng thái", "tình trạng", "status"),
    "beamwidth_deg": ("độ rộng búp sóng", "beamwidth", "độ rộng búp sóng ngang"),
    "eirp_dbm": ("eirp", "công suất phát xạ (dbm)", "eirp (dbm)"),
    "bandwidth_mhz": ("băng thông", "bandwidth", "băng thông (mhz)", "bandwidth (mhz)"),
}
_REQUIRED = ("site_id", "operator", "lon", "lat", "height_m", "technology", "band_mhz")

_DMS_RE = re.compile(
    r"""^\s*(?P<hemi1>[NSEWĐTB])?\s*
    (?P<deg>\d{1,3}(?:[.,]\d+)?)\s*(?:°|º|˚|d|deg|:|\s)\s*
    (?:(?P<min>\d{1,2}(?:[.,]\d+)?)\s*(?:'|′|’|m|min|:|\s)?\s*)?
    (?:(?P<sec>\d{1,2}(?:[.,]\d+)?)\s*(?:"|″|”|''|s|sec)?\s*)?
    (?P<hemi2>[NSEWĐTB])?\s*$""",
    re.VERBOSE | re.IGNORECASE,
)
_NEGATIVE_HEMI = {"S", "W", "T"}

#: 3GPP band name -> downlink centre frequency used for coverage, MHz.
_BAND_NAMES: dict[str, float] = {
    "b1": 2100.0,
    "b3": 1800.0,
    "b5": 850.0,
    "b7": 2600.0,
    "b8": 900.0,
    "b28": 700.0,
    "b38": 2600.0,
    "b40": 2300.0,
    "b41": 2600.0,
    "n1": 2100.0,
    "n3": 1800.0,
    "n28": 700.0,
    "n41": 2600.0,
    "n77": 3700.0,
    "n78": 3500.0,
    "n79": 4700.0,
}
_DEFAULT_BAND_MHZ = {
    Technology.G2: 900.0,
    Technology.G3: 2100.0,
    Technology.G4: 1800.0,
    Technology.G5: 3500.0,
}


def parse_coordinate_deg(text: str) -> float:
    """Parse a coordinate in decimal degrees or degrees-minutes-seconds.

    Parameters
    ----------
    text : str
        E.g. "106.3456", "106,3456", "106°20'30.5\\"E", "9°56'12\\"N", "106 20 30.5", "9:56:12".

    Returns
    -------
    float
        Decimal degrees (negative for S / W / T).

    Raises
    ------
    ValueError
        Unreadable text, minutes or seconds ≥ 60, or conflicting hemispheres.
    """
    raw = str(text).strip()
    plain = raw.replace(",", ".") if raw.count(",") == 1 and "." not in raw else raw
    try:
        value = float(plain)
        if not math.isfinite(value):
            raise ValueError(f"'{raw}' is not a finite number")
        return value
    except ValueError:
        pass
    m = _DMS_RE.match(raw)
    if not m or (
        m.group("min") is None and m.group("sec") is None and not (m.group("hemi1") or m.group("hemi2"))
    ):
        raise ValueError(f"'{raw}' is neither decimal degrees nor degrees°minutes'seconds\"")
    deg = float(m.group("deg").replace(",", "."))
    minutes = float((m.group("min") or "0").replace(",", "."))
    seconds = float((m.group("sec") or "0").replace(",", "."))
    if minutes >= 60 or seconds >= 60:
        raise ValueError(f"'{raw}': minutes and seconds must be below 60")
    hemis = {h.upper() for h in (m.group("hemi1"), m.group("hemi2")) if h}
    if len(hemis) > 1:
        raise ValueError(f"'{raw}': two different hemisphere letters")
    sign = -1.0 if hemis & _NEGATIVE_HEMI else 1.0
    return sign * (deg + minutes / 60.0 + seconds / 3600.0)


def parse_band_mhz(text: str) -> float:
    """Parse a band cell: "1800", "1800 MHz", "LTE1800", "2.1 GHz", "B3", "n78" -> MHz."""
    raw = str(text).strip().lower().replace(" ", "")
    if raw in _BAND_NAMES:
        return _BAND_NAMES[raw]
    m = re.search(r"(\d+(?:[.,]\d+)?)(ghz|mhz)?", raw)
    if not m:
        raise ValueError(f"'{text}' is not a frequency in MHz or a band name like B3 / n78")
    value = float(m.group(1).replace(",", "."))
    return value * 1000.0 if m.group(2) == "ghz" or (m.group(2) is None and value < 10) else value


def _technologies(text: str) -> list[Technology]:
    parts = [p for p in re.split(r"[/;,+&]|\s+và\s+|\s+and\s+", str(text)) if p.strip()]
    techs = [parse_category(Technology, p.strip()) for p in parts]
    if not techs or any(t is None for t in techs):
        raise ValueError(
            f"technology '{text}' is not one of {accepted_values(Technology)} (or GSM/UMTS/LTE/NR)"
        )
    return [t for t in techs if t is not None]


def _float_or_blank(text: str, what: str) -> float | str:
    raw = str(text).strip()
    if raw == "":
        return ""
    try:
        return float(raw.replace(",", ".")) if raw.count(",") == 1 and "." not in raw else float(raw)
    except ValueError as exc:
        raise ValueError(f"{what} '{raw}' is not a number") from exc


def _convert_row(row: pd.Series, cols: dict[str, str]) -> list[dict[str, object]]:
    def get(name: str) -> str:
        return str(row[cols[name]]).strip() if name in cols else ""

    site = get("site_id")
    if not site:
        raise ValueError("site id (Mã trạm) is empty")
    operator = parse_category(Operator, get("operator"))
    if operator is None:
        raise ValueError(
            f"operator '{get('operator')}' is not one of {accepted_values(Operator)} (or VNPT, Mobi...)"
        )
    status = parse_category(SiteStatus, get("status")) if get("status") else SiteStatus.ACTIVE
    if status is None:
        raise ValueError(f"status '{get('status')}' is not one of {accepted_values(SiteStatus)}")
    lon, lat = parse_coordinate_deg(get("lon")), parse_coordinate_deg(get("lat"))
    techs = _technologies(get("technology"))
    band_text = get("band_mhz")
    bands = [b for b in re.split(r"[/;+&]", band_text) if b.strip()] if band_text else []
    if len(bands) not in (0, 1, len(techs)):
        raise ValueError(f"{len(techs)} technologies but {len(bands)} bands ('{band_text}')")
    out: list[dict[str, object]] = []
    for i, tech in enumerate(techs):
        if bands:
            band: float = parse_band_mhz(bands[i] if len(bands) == len(techs) else bands[0])
        else:
            band = _DEFAULT_BAND_MHZ[tech]
        given = get("cell_id")
        cell = (given if len(techs) == 1 else f"{given}-{tech.value}") if given else f"{site}-{tech.value}"
        out.append(
            {
                "site_id": site,
                "cell_id": cell,
                "operator": operator.value,
                "lat": round(lat, 7),
                "lon": round(lon, 7),
                "height_m": _float_or_blank(get("height_m"), "antenna height"),
                "status": status.value,
                "technology": tech.value,
                "band_mhz": band,
                "azimuth_deg": _float_or_blank(get("azimuth_deg"), "azimuth"),
                "beamwidth_deg": _float_or_blank(get("beamwidth_deg"), "beamwidth"),
                "eirp_dbm": _float_or_blank(get("eirp_dbm"), "EIRP"),
                "bandwidth_mhz": _float_or_blank(get("bandwidth_mhz"), "bandwidth"),
            }
        )
    return out


def _number_cells(rows: list[dict[str, object]]) -> None:
    """Make generated cell ids unique within a site (<site>-<tech>, <site>-<tech>-2, ...)."""
    seen: dict[str, int] = {}
    for r in rows:
        key = str(r["cell_id"])
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            r["cell_id"] = f"{key}-{seen[key]}"


def _merge_other_operators(
    table: pd.DataFrame, current: pd.DataFrame | None, report: list[str]
) -> pd.DataFrame:
    """Keep the current rows of operators the sheet does not cover; the sheet's operators are replaced."""
    if current is None or current.empty or "operator" not in current.columns:
        return table
    new_ops = set(table["operator"])
    ops = [(parse_category(Operator, v) or v) for v in current["operator"]]
    keep = current[[str(getattr(o, "value", o)) not in new_ops for o in ops]]
    replaced = len(current) - len(keep)
    report.append(
        f"replaced {replaced} current cell(s) of {', '.join(sorted(new_ops))}; kept {len(keep)} cell(s) "
        f"of other operators" + (f" ({', '.join(sorted(set(keep['operator'])))})" if len(keep) else "")
    )
    if keep.empty:
        return table
    merged = pd.concat([keep.astype(object), table.astype(object)], ignore_index=True)
    return merged.fillna("")


def _site_warning(
    ctx: OldCommunes, km: KeyMatch, row: int, site: str, where: str, lat: float, lon: float, filename: str
) -> Problem | None:
    """A warning when the site's location is not in the commune(s) its row names."""
    if km.kind in ("unknown", "ambiguous"):
        hint = ctx.hint_text(km, "check the commune")
        return Problem("warning", filename, f"row {row}", f"site {site}: {km.message}; not kept", hint)
    if km.kind == "old" and km.old is not None and where not in km.old.commune_ids:
        named = f"the new commune(s) that old commune {km.old.describe()} went into: " + ", ".join(
            f"{n} ({c})" for c, n in km.old.targets
        )
    elif km.kind == "new" and where != km.commune_id:
        named = f"{ctx.describe_new(km.commune_id)} named by the row"
    else:
        return None
    lies = f"in {ctx.describe_new(where)}" if where else "outside every commune of this package"
    return Problem(
        "warning",
        filename,
        f"row {row}",
        f"site {site} at ({lat:.6f}, {lon:.6f}) lies {lies}, not in {named}",
        "check the site's coordinates or the commune of the row; commune_id follows the location",
    )


def _commune_columns(
    frame: pd.DataFrame, table: pd.DataFrame, filename: str, ctx: OldCommunes
) -> tuple[pd.DataFrame, list[Problem], list[str]]:
    """2025-07 packages: ``commune_id`` from each site's location, the old commune named kept.

    The sheet's commune columns (Mã xã, Xã, Huyện, Tỉnh, or Mã xã cũ / Xã cũ) may name old
    (2025-03) communes or the package's communes; an old one is kept as ``former_commune_code`` /
    ``former_commune_name`` and checked against the location (a warning when the site lies outside
    the new communes the old one went into).
    """
    from geo.importers._old_communes import COMMUNE_KEY_ALIASES, KeyRow

    key_cols = map_headers(frame.columns, COMMUNE_KEY_ALIASES, filename)
    if not key_cols:
        return table, [], []
    numbers = sorted({int(r) for r in table["_row"]})

    def cell(row: int, key: str) -> str:
        return str(frame.iloc[row - 2][key_cols[key]]).strip() if key in key_cols else ""

    keys = [
        KeyRow(
            code=cell(r, "commune_code"),
            name=cell(r, "commune_name"),
            district=cell(r, "district_name"),
            province=cell(r, "province_name"),
            former_code=cell(r, "former_commune_code"),
            former_name=cell(r, "former_commune_name"),
        )
        for r in numbers
    ]
    explicit = "former_commune_code" in key_cols or "former_commune_name" in key_cols
    matches, problems, report = ctx.resolve(keys, explicit=explicit, source=filename, row_numbers=numbers)
    first = table.drop_duplicates("_row").set_index("_row")
    located = dict(
        zip(
            numbers,
            ctx.locate(first.loc[numbers, "lon"].to_numpy(float), first.loc[numbers, "lat"].to_numpy(float)),
            strict=True,
        )
    )
    split: list[str] = []
    for r, km in zip(numbers, matches, strict=True):
        lat, lon = float(first.at[r, "lat"]), float(first.at[r, "lon"])
        warning = _site_warning(ctx, km, r, str(first.at[r, "site_id"]), located[r], lat, lon, filename)
        if warning is not None:
            problems.append(warning)
        if km.note:
            problems.append(Problem("warning", filename, f"row {r}", km.note, "check the commune columns"))
        if km.kind == "old" and km.old is not None and km.old.split:
            split.append(
                f"row {r} {km.old.describe()} -> {ctx.describe_new(located[r]) if located[r] else '?'}"
            )
    by_row = dict(zip(numbers, matches, strict=True))
    table = table.copy()
    table["commune_id"] = table["_row"].map(located)
    former = {
        r: (";".join(u.code for u in m.former), ";".join(u.name for u in m.former)) for r, m in by_row.items()
    }
    table["former_commune_code"] = table["_row"].map(lambda r: former[r][0])
    table["former_commune_name"] = table["_row"].map(lambda r: former[r][1])
    n_old = sum(1 for m in matches if m.kind == "old")
    n_new = sum(1 for m in matches if m.kind == "new")
    n_bad = sum(1 for m in matches if m.kind in ("unknown", "ambiguous"))
    away = sum(1 for p in problems if p.message.startswith("site ") and " lies " in p.message)
    report.insert(
        0,
        f"communes named in {filename}: {n_old} row(s) named an old (2025-03) commune, {len(split)} of them "
        f"through split old communes"
        + (f" ({'; '.join(split[:12])})" if split else "")
        + f"; {n_new} named a commune of this package; {n_bad} unknown; {away} site(s) lie outside the "
        "commune(s) named (warnings below); commune_id set from each site's location (commune columns: "
        + ", ".join(f"{k}='{v}'" for k, v in key_cols.items())
        + ")",
    )
    return table, problems, report


def convert_operator_sheet(
    frame: pd.DataFrame,
    filename: str,
    *,
    current: pd.DataFrame | None = None,
    options: ImportOptions,
    old_communes: OldCommunes | None = None,
) -> Converted:
    """Convert an operator's site list to the towers layer.

    Every row problem (unreadable coordinate, unknown operator/technology, bad number)
    is collected with its spreadsheet row number; any of them refuses the import. The
    rows of ``current`` (the package's towers table, text cells) whose operator is not in the
    sheet are kept, unless ``options.replace_all``. In a 2025-07 package (``old_communes``
    given) a sheet with commune columns gets ``commune_id`` from each site's location and keeps
    an old (2025-03) commune it names as ``former_commune_code`` / ``former_commune_name``
    (:func:`_commune_columns`).

    Returns
    -------
    Converted
        ``towers/sites.csv`` and its dataset.toml table.
    """
    cols = map_headers(frame.columns, HEADER_ALIASES, filename)
    require_headers(cols, _REQUIRED, HEADER_ALIASES, frame.columns, filename)
    problems: list[Problem] = []
    rows: list[dict[str, object]] = []
    for i, (_, row) in enumerate(frame.iterrows()):
        if not any(str(v).strip() for v in row):
            continue
        try:
            rows.extend({**r, "_row": i + 2} for r in _convert_row(row, cols))
        except ValueError as exc:
            problems.append(Problem("error", filename, f"row {i + 2}", str(exc)))
    if problems:
        raise ImportRejectedError(
            "\n".join(str(p) for p in problems[:50])
            + (f"\n... and {len(problems) - 50} more" if len(problems) > 50 else "")
        )
    table = pd.DataFrame(rows)
    inside = check_in_vietnam(table["lon"].to_numpy(float), table["lat"].to_numpy(float), filename)
    if not inside.all():
        bad = [str(r) for r in table.loc[~inside, "_row"].drop_duplicates().head(10)]
        raise ImportRejectedError(
            f"{filename}: {int((~inside).sum())} row(s) lie outside Vietnam (rows "
            f"{', '.join(bad)}) -> fix their coordinates (swapped lat/lon? wrong sign?)"
        )
    _number_cells(rows)
    table = pd.DataFrame(rows)
    commune_report: list[str] = []
    if old_communes is not None:
        table, problems, commune_report = _commune_columns(frame, table, filename, old_communes)
    table = table.drop(columns=["_row"])
    report = [
        f"read {len(frame)} row(s) from {filename} -> {len(table)} cell(s) at "
        f"{table['site_id'].nunique()} site(s); columns recognised: "
        + ", ".join(f"{k}='{v}'" for k, v in cols.items()),
        *commune_report,
    ]
    if not options.replace_all:
        table = _merge_other_operators(table, current, report)
    meta = imported_layer_meta(
        "towers/sites.csv",
        options,
        source=f"operator site list {filename}",
        licence="provided by the operator (internal use)",
    )
    return Converted(
        files={"towers/sites.csv": frame_to_csv_bytes(table)},
        meta={"towers": meta},
        problems=problems,
        report=report,
        importer="operator_sheet",
    )
