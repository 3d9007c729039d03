"""Data upload: preview an import (counts, diffs, problems), apply it atomically, restore versions.

Every data change is audited (docs/ACCESS.md, "Audit log") with the user who made it:
``upload_preview`` once per uploaded file and layer when its preview is built (layer, file, size,
importer, rows, whether it can be applied, problems), ``import_applied`` when an import is applied
(the same, and ``version``: the id of the version the import made, which keeps the files it
replaced) and ``version_restored`` when a version is restored (``version``: the one restored;
``new_version``: the one that keeps the state it replaced). A preview that cannot be audited offers
no import; the entry of an import or a restore is written once it succeeded, and when the log cannot
be written then the page says so (the change itself stands).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from auth.audit import AuditEvent
from auth.roles import Permission
from geo.errors import PhuSongError
from geo.importers import (
    LAYERS,
    ImportOptions,
    ImportPlan,
    apply_import,
    list_versions,
    plan_import,
    restore_version,
)
from geo.upload_limits import check_upload_size, import_limits
from layers.i18n import Lang, t
from views import access, common

#: Upload types the importers take (geo.safety): CSV/TXT, XLSX, GeoJSON, GeoPackage, zipped
#: Shapefile, and gzip-compressed CSV (OpenCelliD's ``452.csv.gz``).
ACCEPTED_TYPES = ("csv", "txt", "xlsx", "geojson", "json", "gpkg", "zip", "gz")


def _audit(event: AuditEvent, details: dict[str, Any]) -> str | None:
    """Write one audit entry for the current user; the reason when the log cannot be written."""
    try:
        access.audit_log().append(event, access.current_user(), details)
    except PhuSongError as exc:
        return str(exc)
    return None


def _rows(plan: ImportPlan) -> int:
    """Rows of the layer after the import (its main file's; 0 when no table changes)."""
    main = next((d for d in plan.diffs if d.rows_after >= 0), None)
    return 0 if main is None else int(main.rows_after)


def plan_details(plan: ImportPlan, size: int | None = None) -> dict[str, Any]:
    """What an audit entry says of a previewed import: layer, file, importer, rows (added, removed,
    changed), whether it can be applied, its errors and warnings (counts) and the upload's bytes."""
    main = next((d for d in plan.diffs if d.rows_after >= 0), None)
    details: dict[str, Any] = {
        "layer": plan.layer,
        "file": plan.filename,
        "importer": plan.importer,
        "rows": _rows(plan),
        "added": 0 if main is None else main.added,
        "removed": 0 if main is None else main.removed,
        "changed": 0 if main is None else main.changed,
        "ok": plan.ok,
        "has_changes": plan.has_changes,
        "errors": len(plan.errors),
        "warnings": len(plan.problems) - len(plan.errors),
    }
    if size is not None:
        details["bytes"] = int(size)
    return details


def _audit_preview(plan: ImportPlan, upload) -> bool:
    """``upload_preview`` once per uploaded file and layer (a rerun rebuilds the preview: not again).

    False when the log cannot be written: the page then offers no import (no unaudited change).
    """
    seen = st.session_state.setdefault("upload_previewed", set())
    mark = (plan.layer, str(getattr(upload, "file_id", "") or upload.name), upload.size)
    if mark in seen:
        return True
    failed = _audit(AuditEvent.UPLOAD_PREVIEW, plan_details(plan, upload.size))
    if failed:
        st.error(f"{t('up.audit_failed', common.lang())}: {failed}")
        return False
    seen.add(mark)
    return True


def _preview(lang: Lang, plan) -> None:
    st.code(plan.preview(), language=None)
    if plan.diffs:
        st.dataframe(
            [
                {
                    t("up.file", lang): d.path,
                    t("up.before", lang): d.rows_before,
                    t("up.after", lang): d.rows_after,
                    t("up.added", lang): d.added,
                    t("up.removed", lang): d.removed,
                    t("up.changed", lang): d.changed,
                }
                for d in plan.diffs
            ],
            hide_index=True,
        )
    for problem in plan.problems:
        (st.error if problem.severity == "error" else st.warning)(str(problem))


def _versions(lang: Lang, root) -> None:
    versions = list_versions(root)
    if not versions:
        return
    st.subheader(t("up.versions", lang))
    summaries = {v.version_id: f"{v.version_id} — {v.summary}" for v in versions}
    chosen = st.selectbox(
        t("up.version", lang), list(summaries), key="upload_version", format_func=summaries.__getitem__
    )
    if st.button(t("up.restore", lang), key="upload_restore"):
        try:
            access.require(Permission.RESTORE_VERSION)
            info = restore_version(root, chosen)
        except PhuSongError as exc:
            st.error(f"{t('up.failed', lang)}: {exc}")
            return
        failed = _audit(AuditEvent.VERSION_RESTORED, {"version": chosen, "new_version": info.version_id})
        _done(t("up.restored", lang, version=chosen), failed)


def _done(message: str, audit_failed: str | None = None) -> None:
    """Keep ``message`` (and why the audit log was not written, if so) for the next run, clear the
    uploader and rerun (the version list changed)."""
    st.session_state["upload_message"] = message
    if audit_failed:
        st.session_state["upload_audit_failed"] = audit_failed
    st.session_state["upload_round"] = st.session_state.get("upload_round", 0) + 1
    st.rerun()


def render() -> None:
    """Page function: upload a layer file into the data package."""
    lang = common.lang()
    access.require_page("upload", t("auth.not_permitted", lang))
    st.title(t("page.upload", lang))
    root = common.data_root()
    st.caption(f"{t('app.data_package', lang)}: {root}")
    message = st.session_state.pop("upload_message", None)
    if message:
        st.success(message)
    audit_failed = st.session_state.pop("upload_audit_failed", None)
    if audit_failed:
        st.warning(f"{t('up.audit_failed', lang)}: {audit_failed}")
    layer = st.selectbox(
        t("up.layer", lang), LAYERS, key="upload_layer", format_func=lambda k: t(f"uplayer.{k}", lang)
    )
    upload = st.file_uploader(
        t("up.file", lang),
        key=f"upload_file_{st.session_state.get('upload_round', 0)}",
        type=list(ACCEPTED_TYPES),
    )
    if upload is None:
        st.info(t("up.hint", lang))
        _versions(lang, root)
        return
    try:
        # the size the browser sent, checked before the bytes are taken, unzipped or parsed
        check_upload_size(layer, upload.name, upload.size)
        with st.spinner(t("up.checking", lang)):
            options = ImportOptions(limits=import_limits(layer))
            plan = plan_import(root, layer, upload.getvalue(), upload.name, options=options)
    except PhuSongError as exc:
        st.error(f"{t('up.rejected', lang)}: {exc}")
        _versions(lang, root)
        return
    audited = _audit_preview(plan, upload)
    if not plan.ok:
        st.error(t("up.rejected", lang))
    elif not plan.has_changes:
        st.info(t("up.nothing", lang))
    _preview(lang, plan)
    ready = plan.ok and plan.has_changes and audited
    if st.button(t("up.apply", lang), key="upload_apply", disabled=not ready, type="primary"):
        try:
            access.require(Permission.APPLY_IMPORT)
            info = apply_import(plan)
        except PhuSongError as exc:
            st.error(f"{t('up.failed', lang)}: {exc}")
            return
        details = {**plan_details(plan, upload.size), "version": info.version_id}
        failed = _audit(AuditEvent.IMPORT_APPLIED, details)
        _done(t("up.applied", lang, version=info.version_id), failed)
    _versions(lang, root)
