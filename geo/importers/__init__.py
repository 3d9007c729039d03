"""Importing real-world files into a data package, safely.

Public API (used by ``python -m analysis import`` and the app's upload page)::

    plan = plan_import(root, "towers", "cells.csv")          # or bytes + filename
    print(plan.preview())                                   # counts, report, problems
    if plan.ok:
        info = apply_import(plan)                           # atomic; previous files kept
    list_versions(root); restore_version(root, info.version_id)

:func:`plan_import` checks the upload against hostile input (:mod:`geo.safety`), converts it
to the layer format of docs/DATA.md with the matching importer, validates the whole would-be
package with :func:`geo.validate.validate_package` in a staging view, and diffs the new
layer against the current one. Nothing in the package changes. :func:`apply_import` commits
the plan through :mod:`geo.store` (validated again, swapped in atomically, old files kept).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from geo import store
from geo.errors import DataNotFoundError, ImportRejectedError, PhuSongError, Problem, ValidationError
from geo.importers._common import (
    LAYER_TARGETS,
    Converted,
    ImportOptions,
    layer_file,
    read_dataset_toml,
    read_upload_table,
    read_upload_vector,
    update_layer_table,
)
from geo.safety import ImportLimits, check_upload_bytes, gunzip_safely
from geo.store import VersionInfo

__all__ = [
    "LAYERS",
    "FileDiff",
    "ImportLimits",
    "ImportOptions",
    "ImportPlan",
    "VersionInfo",
    "apply_import",
    "list_versions",
    "plan_import",
    "restore_version",
]

if TYPE_CHECKING:
    from geo.importers._old_communes import OldCommunes

log = logging.getLogger(__name__)

#: Area weights of split old communes in a 2025-07 package (docs/CROSSWALK.md).
OLD_UNIT_PARTS = "boundaries/old_unit_parts.csv"

#: Layer names accepted by :func:`plan_import` (and ``--layer``).
LAYERS: tuple[str, ...] = tuple(LAYER_TARGETS)


@dataclass(frozen=True)
class FileDiff:
    """What an import changes in one package file.

    Parameters
    ----------
    path : str
        Package-relative path.
    rows_before, rows_after : int
        Rows/features before and after (-1 for non-tabular files such as dataset.toml).
    added, removed, changed : int
        Rows by key present only after, only before, or in both with different content.
    """

    path: str
    rows_before: int
    rows_after: int
    added: int
    removed: int
    changed: int

    def describe(self) -> str:
        """One line such as "towers/sites.csv: 4 -> 12 rows (+10 added, -2 removed, ~1 changed)"."""
        if self.rows_after < 0:
            return f"{self.path}: updated"
        if self.rows_before < 0:
            return f"{self.path}: new file, {self.rows_after} rows"
        return (
            f"{self.path}: {self.rows_before} -> {self.rows_after} rows (+{self.added} added, "
            f"-{self.removed} removed, ~{self.changed} changed)"
        )


@dataclass(frozen=True)
class ImportPlan:
    """A previewed import: what would be written, what changes, what was found.

    Parameters
    ----------
    root : Path
        Data package folder.
    layer : str
        One of :data:`LAYERS`.
    filename : str
        The upload's name.
    importer : str
        Importer used ("opencellid", "operator_sheet", "osm_roads", "survey", "boundaries", "fibre").
    files : mapping of str to bytes or None
        New content per package-relative path (None deletes a superseded file).
    base_hashes : mapping of str to str
        SHA-256 of the package files when planned; :func:`apply_import` refuses if they changed.
    diffs : tuple of FileDiff
        Row counts per changed file.
    problems : tuple of Problem
        Importer findings and the would-be package's validation findings.
    report : tuple of str
        Human-readable lines (dedupe counts, clustering, name matches...).
    """

    root: Path
    layer: str
    filename: str
    importer: str
    files: Mapping[str, bytes | None]
    base_hashes: Mapping[str, str]
    diffs: tuple[FileDiff, ...]
    problems: tuple[Problem, ...]
    report: tuple[str, ...] = field(default_factory=tuple)

    @property
    def errors(self) -> tuple[Problem, ...]:
        """Problems of severity "error" (any of them blocks :func:`apply_import`)."""
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def ok(self) -> bool:
        """True when the import can be applied."""
        return not self.errors

    @property
    def has_changes(self) -> bool:
        """False when the layer files equal the current ones (only dataset.toml would change)."""
        return any(rel != "dataset.toml" for rel in self.files)

    def summary(self) -> str:
        """One line for the version list, e.g. "towers from cells.csv: 4 -> 12 rows (+10, -2, ~1)"."""
        main = next((d for d in self.diffs if d.rows_after >= 0), None)
        counts = (
            (
                f"{main.rows_before if main.rows_before >= 0 else 0} -> {main.rows_after} rows "
                f"(+{main.added}, -{main.removed}, ~{main.changed})"
            )
            if main
            else "updated"
        )
        return f"{self.layer} from {self.filename} ({self.importer}): {counts}"

    def preview(self) -> str:
        """Multi-line text preview: changes, report and problems."""
        lines = [
            f"Import of {self.filename} as layer '{self.layer}' ({self.importer}) into {self.root}",
            "Changes:",
        ]
        lines += [f"  {d.describe()}" for d in self.diffs] or ["  (none: the files are identical)"]
        if self.report:
            lines += ["Report:"] + [f"  {line}" for line in self.report]
        if self.problems:
            lines += ["Problems:"] + [f"  {p}" for p in self.problems]
        if not self.ok:
            status = f"REFUSED ({len(self.errors)} error(s))"
        else:
            status = (
                "ready to apply" if self.has_changes else "nothing to do: the layer equals the current one"
            )
        lines.append("Status: " + status)
        return "\n".join(lines)


# ---------------------------------------------------------------- reading the upload


def _upload_bytes(
    source: bytes | str | Path, filename: str | None, limits: ImportLimits
) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        if not filename:
            raise ImportRejectedError("an uploaded file needs its name (to know its format)")
        return bytes(source), filename
    path = Path(source)
    name = filename or path.name
    if not path.is_file():
        raise DataNotFoundError(f"{path}: file not found")
    size = path.stat().st_size
    if size > limits.max_upload_bytes:
        raise ImportRejectedError(
            f"{name}: file is {size / 1e6:.1f} MB, larger than the "
            f"{limits.max_upload_bytes / 1e6:.1f} MB upload limit -> split it or raise the "
            "limit (--max-upload-mb)"
        )
    return path.read_bytes(), name


def _read_current(root: Path, doc: Mapping[str, Any], key: str) -> gpd.GeoDataFrame | None:
    from geo.io import read_vector

    path = root / layer_file(root, doc, key)
    if not path.is_file():
        return None
    try:
        return read_vector(path)
    except PhuSongError as exc:
        log.warning("import: cannot read current %s layer (%s); continuing without it", key, exc)
        return None


def _current_table(root: Path, doc: Mapping[str, Any], key: str) -> pd.DataFrame | None:
    path = root / layer_file(root, doc, key)
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        log.warning("import: cannot read current %s table (%s); replacing it whole", key, exc)
        return None


def _communes(root: Path, doc: Mapping[str, Any]) -> gpd.GeoDataFrame:
    communes = _read_current(root, doc, "communes")
    if communes is None or communes.empty:
        raise ImportRejectedError(
            f"{root}: the package has no readable commune boundaries; import them first (--layer boundaries)"
        )
    communes = communes.copy()
    for col in ("commune_id", "commune_name", "district_name", "commune_code"):
        if col in communes.columns:
            communes[col] = communes[col].fillna("").astype(str)
    return communes


def _old_commune_context(
    root: Path,
    doc: Mapping[str, Any],
    communes: gpd.GeoDataFrame | None = None,
    hamlets: gpd.GeoDataFrame | None = None,
) -> OldCommunes | None:
    """The old (2025-03) communes of a package in the 2025-07 layout (None in a pre-reform package).

    ``communes`` and ``hamlets`` are read from the package when not given; None without communes.
    """
    from geo.crosswalk import NEW_LAYOUT
    from geo.importers._old_communes import OldCommunes

    if str(doc.get("layout", "")).strip() != NEW_LAYOUT:
        return None
    if communes is None:
        communes = _read_current(root, doc, "communes")
        if communes is None or communes.empty:
            return None
    if hamlets is None:
        hamlets = _read_current(root, doc, "hamlets")
    return OldCommunes(communes, hamlets, parts=_old_unit_parts(root))


def _old_unit_parts(root: Path) -> pd.DataFrame | None:
    """``boundaries/old_unit_parts.csv`` (area weights of split old communes), when readable."""
    from geo.io import read_table

    path = root / OLD_UNIT_PARTS
    if not path.is_file():
        return None
    try:
        read = read_table(path, display=OLD_UNIT_PARTS)
    except PhuSongError as exc:
        log.warning(
            "import: cannot read %s (%s); split old communes not weighted by area", OLD_UNIT_PARTS, exc
        )
        return None
    frame = read.frame
    if read.decimal_comma:
        for col in ("area_km2", "area_share"):
            if col in frame.columns:
                frame[col] = frame[col].str.replace(",", ".", regex=False)
    return frame


def _need(kind: str, allowed: tuple[str, ...], layer: str, filename: str) -> None:
    if kind not in allowed:
        names = {"text": "CSV/GeoJSON", "xlsx": "XLSX", "zip": "zipped Shapefile", "sqlite": "GeoPackage"}
        raise ImportRejectedError(
            f"{filename}: layer '{layer}' cannot be imported from a {names.get(kind, kind)} "
            f"file -> use {' or '.join(names[k] for k in allowed)}"
        )


def _known_headers() -> frozenset[str]:
    from geo.importers.opencellid import OPENCELLID_COLUMNS
    from geo.importers.operator_sheet import HEADER_ALIASES as SITE_ALIASES
    from geo.importers.survey import HEADER_ALIASES as SURVEY_ALIASES
    from geo.schema import alias_key

    names = [*OPENCELLID_COLUMNS]
    for table in (SITE_ALIASES, SURVEY_ALIASES):
        for canon, aliases in table.items():
            names += [canon, *aliases]
    return frozenset(alias_key(n) for n in names if len(alias_key(n)) > 1)


def _convert(
    root: Path,
    doc: Mapping[str, Any],
    layer: str,
    data: bytes,
    filename: str,
    kind: str,
    options: ImportOptions,
) -> Converted:
    limits = options.limits
    if layer in ("towers", "survey"):
        _need(kind, ("text", "xlsx"), layer, filename)
        if filename.lower().endswith((".geojson", ".json")):
            raise ImportRejectedError(f"{filename}: layer '{layer}' is a table -> upload CSV or XLSX")
        frame = read_upload_table(data, filename, kind, limits=limits, header_keys=_known_headers())
        if layer == "survey":
            from geo.importers.survey import convert_survey

            communes = _communes(root, doc)
            hamlets = _read_current(root, doc, "hamlets")
            old = _old_commune_context(root, doc, communes, hamlets)
            placer = None
            if old is not None:
                from geo.importers._survey_old import survey_placer

                placer = survey_placer(old)
            return convert_survey(
                frame,
                filename,
                communes=pd.DataFrame(communes),
                options=options,
                hamlets=None
                if hamlets is None
                else pd.DataFrame(hamlets).astype(
                    {c: str for c in ("hamlet_id", "hamlet_name", "commune_id") if c in hamlets.columns}
                ),
                place_rows=placer,
            )
        from geo.importers.opencellid import convert_opencellid, looks_like_opencellid
        from geo.importers.operator_sheet import convert_operator_sheet

        if options.importer == "opencellid" or (
            options.importer == "auto" and looks_like_opencellid(frame.columns)
        ):
            return convert_opencellid(frame, filename, province=_communes(root, doc), options=options)
        return convert_operator_sheet(
            frame,
            filename,
            current=_current_table(root, doc, "towers"),
            options=options,
            old_communes=_old_commune_context(root, doc),
        )
    _need(kind, ("text", "zip", "sqlite"), layer, filename)
    if kind == "text" and not filename.lower().endswith((".geojson", ".json")):
        raise ImportRejectedError(
            f"{filename}: layer '{layer}' needs GeoJSON, GeoPackage or a zipped Shapefile"
        )
    gdf, notes = read_upload_vector(data, filename, kind, limits=limits)
    conv = _convert_vector(root, doc, layer, gdf, filename, options)
    conv.problems[:0] = notes
    return conv


def _convert_vector(
    root: Path,
    doc: Mapping[str, Any],
    layer: str,
    gdf: gpd.GeoDataFrame,
    filename: str,
    options: ImportOptions,
) -> Converted:
    if layer == "roads":
        from geo.importers.osm_roads import convert_osm_roads

        return convert_osm_roads(gdf, filename, province=_communes(root, doc), options=options)
    if layer == "fibre":
        from geo.importers.fibre import convert_fibre

        return convert_fibre(gdf, filename, options=options)
    from geo.importers.boundaries import convert_communes, convert_hamlets

    if layer == "boundaries":
        return convert_communes(
            gdf,
            filename,
            current=_read_current(root, doc, "communes"),
            province_name=str(doc.get("province_name", "")),
            options=options,
        )
    return convert_hamlets(
        gdf,
        filename,
        current=_read_current(root, doc, "hamlets"),
        communes=_communes(root, doc),
        options=options,
    )


# ---------------------------------------------------------------- diff


def _records(rel: str, data: bytes | None, keys: tuple[str, ...]) -> dict[str, str] | None:
    """Row key -> content signature of a CSV or GeoJSON layer file (None for other files)."""
    if data is None:
        return {}
    try:
        if rel.endswith(".csv"):
            frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
            rows = [dict(r) for r in frame.to_dict(orient="records")]
        elif rel.endswith((".geojson", ".json")):
            doc = json.loads(data)
            rows = [
                {**(f.get("properties") or {}), "__geometry": json.dumps(f.get("geometry"), sort_keys=True)}
                for f in doc.get("features", [])
            ]
        else:
            return None
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError):
        return None
    present = [k for k in keys if rows and k in rows[0]]
    out: dict[str, str] = {}
    for i, row in enumerate(rows):
        key = "|".join(str(row.get(k, "")) for k in present) if present else str(i)
        # empty cells are left out, so a column added empty to every row is not a change
        filled = {k: str(v) for k, v in row.items() if v is not None and str(v) not in ("", "nan", "None")}
        sig = json.dumps(filled, sort_keys=True, ensure_ascii=False)
        out[key if key not in out else f"{key}#{i}"] = sig
    return out


def _diff(root: Path, rel: str, new: bytes | None, keys: tuple[str, ...]) -> FileDiff:
    old_path = root / rel
    old = old_path.read_bytes() if old_path.is_file() else None
    after = _records(rel, new, keys)
    before = _records(rel, old, keys) if old is not None else None
    if after is None:
        return FileDiff(rel, -1, -1, 0, 0, 0)
    if before is None:
        return FileDiff(rel, -1, len(after), len(after), 0, 0)
    common = before.keys() & after.keys()
    return FileDiff(
        rel,
        len(before),
        len(after),
        len(after.keys() - before.keys()),
        len(before.keys() - after.keys()),
        sum(1 for k in common if before[k] != after[k]),
    )


# ---------------------------------------------------------------- public API


def _validator() -> store.Validator:
    from geo.validate import validate_package

    return validate_package


def _package_files(
    root: Path, doc: Mapping[str, Any], conv: Converted, toml_text: str
) -> dict[str, bytes | None]:
    files: dict[str, bytes | None] = dict(conv.files)
    for key, values in conv.meta.items():
        old = layer_file(root, doc, key)
        if old != values["file"] and (root / old).is_file() and old not in files:
            files[old] = None  # superseded file in another format (kept in the saved version)
        toml_text = update_layer_table(toml_text, key, values)
    files["dataset.toml"] = toml_text.encode("utf-8")
    return {
        rel: data
        for rel, data in files.items()
        if not ((root / rel).is_file() and data is not None and (root / rel).read_bytes() == data)
    }


def plan_import(
    root: Path | str,
    layer: str,
    source: bytes | str | Path,
    filename: str | None = None,
    *,
    options: ImportOptions | None = None,
) -> ImportPlan:
    """Check, convert and validate an upload without changing the package.

    Parameters
    ----------
    root : Path or str
        Data package folder.
    layer : str
        One of :data:`LAYERS`: boundaries, hamlets, towers, fibre, roads, survey.
    source : bytes or path
        The uploaded bytes (then ``filename`` is required) or a file path.
    filename : str, optional
        Name of the upload (its extension decides the format).
    options : ImportOptions, optional
        Clustering distance, clip buffer, survey matching policy, limits.

    Returns
    -------
    ImportPlan
        The preview; ``plan.ok`` is False when the importer or the validator found errors.

    Raises
    ------
    ImportRejectedError
        Hostile, broken or unusable upload (empty, garbage, wrong format, zip bomb, all
        coordinates outside Vietnam, ...). The package is unchanged.
    """
    options = options or ImportOptions()
    if layer not in LAYER_TARGETS:
        raise ImportRejectedError(f"unknown layer '{layer}'; use one of {', '.join(LAYERS)}")
    path = Path(root)
    store.recover(path)
    base = store.file_hashes(path)
    data, name = _upload_bytes(source, filename, options.limits)
    kind = check_upload_bytes(data, name, limits=options.limits)
    if kind == "gzip":  # OpenCelliD downloads: 452.csv.gz
        inner = name[: -len(".gz")] if name.lower().endswith(".gz") else name
        if not inner.lower().endswith(".csv"):
            raise ImportRejectedError(f"{name}: only gzip-compressed CSV (.csv.gz) is accepted")
        data, name = gunzip_safely(data, name, limits=options.limits), inner
        kind = check_upload_bytes(data, name, limits=options.limits)
    toml_text, doc = read_dataset_toml(path)
    conv = _convert(path, doc, layer, data, name, kind, options)
    files = _package_files(path, doc, conv, toml_text)
    problems = list(conv.problems)
    if not any(p.severity == "error" for p in problems):
        problems += store.validate_view(path, files, _validator())
    keys = LAYER_TARGETS[layer].id_columns
    diffs = tuple(_diff(path, rel, data, keys) for rel, data in sorted(files.items()))
    return ImportPlan(
        root=path,
        layer=layer,
        filename=name,
        importer=conv.importer,
        files=files,
        base_hashes=base,
        diffs=diffs,
        problems=tuple(problems),
        report=tuple(conv.report),
    )


def apply_import(plan: ImportPlan, *, keep: int = store.DEFAULT_KEEP) -> VersionInfo:
    """Apply a previewed import atomically; the replaced files are kept as a version.

    Raises
    ------
    ValidationError
        The plan (or the package validated again at commit time) has errors; nothing changed.
    ImportRejectedError
        Nothing to change, or the package changed since the plan was made.
    """
    if not plan.ok:
        raise ValidationError(list(plan.problems))
    if not plan.has_changes:
        raise ImportRejectedError(
            f"{plan.filename}: the layer is identical to the current one; nothing to import"
        )
    return store.commit_files(
        plan.root,
        plan.files,
        validate=_validator(),
        action="import",
        layer=plan.layer,
        source=plan.filename,
        summary=plan.summary(),
        expected_hashes=plan.base_hashes,
        keep=keep,
    )


def list_versions(root: Path | str) -> list[VersionInfo]:
    """Saved previous versions of the package, newest first (see :func:`geo.store.list_versions`)."""
    return store.list_versions(root)


def restore_version(root: Path | str, version_id: str, *, keep: int = store.DEFAULT_KEEP) -> VersionInfo:
    """Restore the package to how it was just before change ``version_id`` (validated, atomic, undoable)."""
    return store.restore_version(root, version_id, validate=_validator(), keep=keep)
