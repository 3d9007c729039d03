"""Data upload: preview an import (counts, diffs, problems), apply it atomically, restore versions."""

from __future__ import annotations

import streamlit as st

from auth.roles import Permission
from geo.errors import PhuSongError
from geo.importers import LAYERS, ImportOptions, apply_import, list_versions, plan_import, restore_version
from geo.upload_limits import check_upload_size, import_limits
from layers.i18n import Lang, t
from views import access, common

#: Upload types the importers take (geo.safety): CSV/TXT, XLSX, GeoJSON, GeoPackage, zipped
#: Shapefile, and gzip-compressed CSV (OpenCelliD's ``452.csv.gz``).
ACCEPTED_TYPES = ("csv", "txt", "xlsx", "geojson", "json", "gpkg", "zip", "gz")


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
            restore_version(root, chosen)
        except PhuSongError as exc:
            st.error(f"{t('up.failed', lang)}: {exc}")
            return
        _done(t("up.restored", lang, version=chosen))


def _done(message: str) -> None:
    """Keep ``message`` for the next run, clear the uploader and rerun (the version list changed)."""
    st.session_state["upload_message"] = message
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
    if not plan.ok:
        st.error(t("up.rejected", lang))
    elif not plan.has_changes:
        st.info(t("up.nothing", lang))
    _preview(lang, plan)
    ready = plan.ok and plan.has_changes
    if st.button(t("up.apply", lang), key="upload_apply", disabled=not ready, type="primary"):
        try:
            access.require(Permission.APPLY_IMPORT)
            info = apply_import(plan)
        except PhuSongError as exc:
            st.error(f"{t('up.failed', lang)}: {exc}")
            return
        _done(t("up.applied", lang, version=info.version_id))
    _versions(lang, root)
