"""Data upload: preview an import (counts, diffs, problems), apply it atomically, restore versions."""

from __future__ import annotations

import streamlit as st

from geo.errors import PhuSongError
from geo.importers import LAYERS, apply_import, list_versions, plan_import, restore_version
from layers.i18n import Lang, t
from pages import common


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
    ids = [v.version_id for v in versions]
    chosen = st.selectbox(t("up.version", lang), ids, key="upload_version")
    if st.button(t("up.restore", lang), key="upload_restore"):
        try:
            restore_version(root, chosen)
            st.success(t("up.restored", lang, version=chosen))
        except PhuSongError as exc:
            st.error(str(exc))


def render() -> None:
    """Page function: upload a layer file into the data package."""
    lang = common.lang()
    st.title(t("page.upload", lang))
    root = common.data_root()
    st.caption(f"{t('app.data_package', lang)}: {root}")
    layer = st.selectbox(
        t("up.layer", lang), LAYERS, key="upload_layer", format_func=lambda k: t(f"uplayer.{k}", lang)
    )
    upload = st.file_uploader(
        t("up.file", lang), key="upload_file", type=["csv", "xlsx", "geojson", "json", "gpkg", "zip", "kml"]
    )
    if upload is None:
        st.info(t("up.hint", lang))
        _versions(lang, root)
        return
    try:
        with st.spinner(t("up.checking", lang)):
            plan = plan_import(root, layer, upload.getvalue(), upload.name)
    except PhuSongError as exc:
        st.error(str(exc))
        return
    _preview(lang, plan)
    if st.button(t("up.apply", lang), key="upload_apply", disabled=not plan.ok, type="primary"):
        try:
            info = apply_import(plan)
        except PhuSongError as exc:
            st.error(str(exc))
            return
        st.success(t("up.applied", lang, version=info.version_id))
    _versions(lang, root)
