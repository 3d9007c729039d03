"""PhuSong Streamlit app: ``streamlit run app.py`` (or ``make run``).

Pages are plain functions in ``pages/``; this file only sets up the shell (language switch,
navigation) and runs the selected page.
"""

from __future__ import annotations

import streamlit as st

from layers.i18n import t
from pages import common, downloads, planners, settings, snapshot, upload

st.set_page_config(page_title="PhuSong", page_icon="🗺️", layout="wide")

lang = common.language_selector()
navigation = st.navigation(
    [
        st.Page(planners.render, title=t("page.map", lang), url_path="map", default=True, icon="🗺️"),
        st.Page(downloads.render, title=t("page.downloads", lang), url_path="downloads", icon="⬇️"),
        st.Page(snapshot.render, title=t("page.snapshot", lang), url_path="snapshot", icon="📊"),
        st.Page(settings.render, title=t("page.settings", lang), url_path="settings", icon="⚙️"),
        st.Page(upload.render, title=t("page.upload", lang), url_path="upload", icon="📤"),
    ]
)
navigation.run()
