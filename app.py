"""PhuSong Streamlit app: ``streamlit run app.py`` (or ``make run``).

Pages are plain functions in ``views/``; this file only sets up the shell (language switch,
navigation) and runs the selected page. Page modules are imported when first shown, so the
planners' map does not wait for the report and export libraries.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from layers.i18n import t
from views import common

ICON = Path(__file__).resolve().parent / "layers" / "assets" / "phusong-icon.png"


def _lazy(module: str) -> Callable[[], None]:
    """The ``render`` page function of ``views.<module>``, imported on first use."""

    def page() -> None:
        importlib.import_module(f"views.{module}").render()

    page.__name__ = f"page_{module}"
    return page


# A local icon: Streamlit fetches Material-icon and emoji favicons from the internet.
st.set_page_config(page_title="PhuSong", page_icon=str(ICON), layout="wide")

lang = common.language_selector()
navigation = st.navigation(
    [
        st.Page(
            _lazy("planners"), title=t("page.map", lang), url_path="map", default=True, icon=":material/map:"
        ),
        st.Page(
            _lazy("scenarios"),
            title=t("page.scenarios", lang),
            url_path="scenarios",
            icon=":material/science:",
        ),
        st.Page(
            _lazy("downloads"),
            title=t("page.downloads", lang),
            url_path="downloads",
            icon=":material/download:",
        ),
        st.Page(
            _lazy("snapshot"),
            title=t("page.snapshot", lang),
            url_path="snapshot",
            icon=":material/monitoring:",
        ),
        st.Page(
            _lazy("settings"), title=t("page.settings", lang), url_path="settings", icon=":material/tune:"
        ),
        st.Page(
            _lazy("upload"), title=t("page.upload", lang), url_path="upload", icon=":material/upload_file:"
        ),
    ]
)
navigation.run()
