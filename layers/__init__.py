"""Map layers, exports and reports built from analysis results (no Streamlit here)."""
