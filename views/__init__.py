"""Streamlit page functions of the PhuSong app (only this package and ``app.py`` import streamlit)."""
