"""Each page of the Streamlit app runs on the bundled data without an exception (AppTest)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")
TIMEOUT_S = 120


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("PHUSONG_TILES", "none")
    return AppTest.from_file(APP, default_timeout=TIMEOUT_S)


def test_map_page_runs_in_vietnamese_by_default(app: AppTest) -> None:
    app.run()
    assert not app.exception
    assert app.title[0].value == "Bản đồ quy hoạch"
    assert app.sidebar.radio(key="app_lang").value == "vi"
    assert "105" in app.caption[0].value


def test_language_switch_to_english(app: AppTest) -> None:
    app.run()
    app.sidebar.radio(key="app_lang").set_value("en").run()
    assert not app.exception
    assert app.title[0].value == "Planning map"
    assert app.caption[0].value == "105 communes"


def test_missing_data_package_is_reported_not_raised(app: AppTest, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PHUSONG_DATA", str(tmp_path))
    app.run()
    assert not app.exception
    assert app.error and "communes.geojson" in app.error[0].value
