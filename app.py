"""PhuSong Streamlit app: ``streamlit run app.py`` (or ``make run``).

Pages are plain functions in ``pages/``; this file only sets up the shell (language switch,
navigation) and runs the selected page.
"""

from __future__ import annotations

import streamlit as st

from layers.i18n import t
from pages import common, planners

st.set_page_config(page_title="PhuSong", page_icon="🗺️", layout="wide")

lang = common.language_selector()
navigation = st.navigation(
    [
        st.Page(planners.render, title=t("page.map", lang), url_path="map", default=True, icon="🗺️"),
    ]
)
navigation.run()
