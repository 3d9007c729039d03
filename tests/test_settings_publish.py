"""Official thresholds and targets on the settings page (AppTest): a planner's changes stay in its
session, an admin publishes (checked on the server, audited), every new session starts from the
published values, earlier publications can be restored, and the package version never changes.

Each test runs the settings page through a tiny wrapper app on the tiny two-commune package, with its
own users file, audit log and ``auth.toml`` under ``tmp_path``; a signed-in user is simulated by
putting an :class:`auth.sessions.Session` of an account of the users file in session state.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from analysis.published import published_from_document
from auth.audit import AuditLog
from auth.roles import Role
from auth.sessions import new_session
from auth.users import User, UserStore, as_utc
from geo.package import package_version
from geo.settings_store import read_published, settings_versions
from geo.store import file_hashes
from layers.i18n import format_date, t
from tests.conftest import write_tiny_package
from views.access import LOCAL_TZ

TIMEOUT_S = 60
ROLES = {"an": "admin", "binh": "planner", "lanh": "leadership"}


def _settings_app(lang: str) -> None:
    """The settings page; ``test_publish`` / ``test_restore`` in session state call the page's
    publish / restore functions directly first (what a forged request would reach)."""
    import streamlit as st

    from geo.errors import NotPermittedError
    from views import settings

    st.session_state.setdefault("app_lang", lang)
    publish = st.session_state.pop("test_publish", None)
    restore = st.session_state.pop("test_restore", None)
    try:
        if publish is not None:
            settings.publish_official(*publish)
        if restore is not None:
            settings.restore_official(restore)
    except NotPermittedError as exc:
        st.session_state["test_refused"] = str(exc)
    settings.render()


def _params_app() -> None:
    """Another page's use of the shared parameters: gap_params() and kpi_targets(), several times."""
    import streamlit as st

    from views import common

    params = common.gap_params()
    targets = common.kpi_targets()
    common.gap_params()
    st.write(f"ftth={params.thresholds.ftth_min_share} no4g={targets.no_4g_household_share}")


@pytest.fixture(autouse=True)
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Tiny package; users file with an admin, a planner and a leader; audit log and auth.toml."""
    from argon2 import PasswordHasher

    paths = {
        "pkg": write_tiny_package(tmp_path / "pkg"),
        "users": tmp_path / "conf" / "users.json",
        "audit": tmp_path / "conf" / "audit.jsonl",
        "config": tmp_path / "auth.toml",
    }
    paths["config"].write_text(
        "idle_minutes = 30\nmax_failures = 5\nlock_minutes = 15\n"
        "[argon2]\ntime_cost = 1\nmemory_kib = 19456\nparallelism = 1\n",
        encoding="utf-8",
    )
    store = UserStore(
        paths["users"], hasher=PasswordHasher(time_cost=1, memory_cost=19 * 1024, parallelism=1)
    )
    for name, role in ROLES.items():
        store.add(name, role, f"{role}-Pass-0001")
    monkeypatch.setenv("PHUSONG_DATA", str(paths["pkg"]))
    monkeypatch.setenv("PHUSONG_TILES", "none")
    monkeypatch.setenv("PHUSONG_USERS", str(paths["users"]))
    monkeypatch.setenv("PHUSONG_AUDIT", str(paths["audit"]))
    monkeypatch.setenv("PHUSONG_AUTH_CONFIG", str(paths["config"]))
    return paths


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def _page(name: str, lang: str = "vi") -> AppTest:
    """A fresh browser session of ``name`` on the settings page."""
    at = AppTest.from_function(_settings_app, args=(lang,), default_timeout=TIMEOUT_S)
    at.session_state["auth_session"] = new_session(User(name, Role(ROLES[name])))
    return _ok(at.run())


def _apply(at: AppTest, **sliders: int) -> AppTest:
    for key, value in sliders.items():
        at.slider(key=f"settings_{key}").set_value(value)
    labels = {t("set.apply", "vi"), t("set.apply", "en")}
    apply = next(b for b in at.button if b.label in labels)
    return _ok(apply.click().run())


def _publish(at: AppTest) -> AppTest:
    at.checkbox(key="settings_publish_confirm").check()
    return _ok(at.run().button(key="settings_publish").click().run())


def _has(at: AppTest, key: str) -> bool:
    try:
        at.button(key=key)
    except KeyError:
        return False
    return True


def _events(env: dict[str, Path], event: str) -> list[Any]:
    return list(AuditLog(env["audit"]).entries(event))


def _official_ftth(env: dict[str, Path]) -> float | None:
    doc = read_published(env["pkg"])
    return None if doc is None else published_from_document(doc).params.thresholds.ftth_min_share


def _when(utc: str) -> str:
    local = as_utc(datetime.fromisoformat(utc)).astimezone(LOCAL_TZ)
    return f"{format_date(local, 'vi')} {local:%H:%M}"


# --------------------------------------------------------------------------- session only


def test_a_planners_change_applies_to_its_session_only(env: dict[str, Path]) -> None:
    first = _page("binh")
    assert [i.value for i in first.info] == [t("set.no_official", "vi")]
    assert t("set.session_only", "vi") in [c.value for c in first.caption]
    assert not _has(first, "settings_publish") and not _has(first, "settings_restore"), "admin only"
    _apply(first, ftth=60, tno4g=5)
    assert first.session_state["settings_params"].thresholds.ftth_min_share == pytest.approx(0.6)
    assert t("set.applied_session", "vi") in [s.value for s in first.success]
    assert t("set.session_changed", "vi") in [c.value for c in first.caption]

    second = _page("binh")  # another browser session of the same planner
    assert second.slider(key="settings_ftth").value == 80
    assert second.slider(key="settings_tno4g").value == 0
    assert "settings_params" not in second.session_state
    assert t("set.defaults", "vi") in [c.value for c in second.caption]
    assert first.slider(key="settings_ftth").value == 60, "the first session keeps its own values"

    assert read_published(env["pkg"]) is None and settings_versions(env["pkg"]) == []
    assert _events(env, "thresholds_published") == []


# --------------------------------------------------------------------------- publishing


def test_an_admin_publishes_and_every_new_session_starts_from_the_published_values(
    env: dict[str, Path],
) -> None:
    version, hashes = package_version(env["pkg"]), file_hashes(env["pkg"])
    admin = _apply(_page("an"), ftth=60, tno4g=5)
    _publish(admin)
    doc = read_published(env["pkg"])
    assert doc is not None and doc["published_by"] == "an"
    assert _official_ftth(env) == pytest.approx(0.6)
    assert [s.value for s in admin.success][0].startswith("Đã công bố giá trị chính thức: an, phiên bản ")
    assert "settings_params" not in admin.session_state, "the admin's session now follows the official values"
    assert admin.slider(key="settings_ftth").value == 60

    planner = _page("binh")  # a fresh session, without restarting anything
    assert planner.slider(key="settings_ftth").value == 60
    assert planner.slider(key="settings_tno4g").value == 5
    (info,) = [i.value for i in planner.info]
    assert info.startswith("Giá trị chính thức do an công bố lúc ")
    assert _when(doc["published_utc"]) in info
    assert t("set.using_official", "vi") in [c.value for c in planner.caption]
    assert planner.button(key="settings_reset").label == t("set.back_official", "vi")

    # the planner's own change, then back to the official values
    _apply(planner, ftth=40)
    assert planner.session_state["settings_params"].thresholds.ftth_min_share == pytest.approx(0.4)
    _ok(planner.button(key="settings_reset").click().run())
    assert "settings_params" not in planner.session_state
    assert planner.slider(key="settings_ftth").value == 60
    assert _official_ftth(env) == pytest.approx(0.6), "a planner's change never reaches the official values"

    (entry,) = _events(env, "thresholds_published")
    assert (entry.user, entry.role) == ("an", "admin")
    changes = {c["name"]: (c["old"], c["new"]) for c in entry.details["changes"]}
    assert changes["gap_params.thresholds.ftth_min_share"] == (0.8, 0.6)
    assert changes["kpi_targets.ftth_household_share"] == (0.8, 0.6)
    assert changes["kpi_targets.no_4g_household_share"] == (0.0, 0.05)
    assert len(changes) == 3, changes
    assert package_version(env["pkg"]) == version and file_hashes(env["pkg"]) == hashes


def test_publishing_shows_in_english_too(env: dict[str, Path]) -> None:
    admin = _page("an", "en")
    assert [i.value for i in admin.info] == [
        "No official values published: the defaults of analysis/config/gaps.toml apply."
    ]
    _apply(admin, phone=70)
    _publish(admin)
    (info,) = [i.value for i in admin.info]
    assert info.startswith("Official values published by an on ") and "(version " in info


def test_publish_needs_the_confirm_tick(env: dict[str, Path]) -> None:
    admin = _apply(_page("an"), ftth=60)
    assert admin.button(key="settings_publish").disabled, "a browser cannot click it"
    admin.checkbox(key="settings_publish_confirm").check()
    assert not _ok(admin.run()).button(key="settings_publish").disabled
    assert read_published(env["pkg"]) is None


def test_a_planner_cannot_publish_even_by_calling_the_publish_action(env: dict[str, Path]) -> None:
    from analysis.kpi import targets_from_gap_params
    from analysis.params import default_gap_params

    planner = _page("binh")
    assert not _has(planner, "settings_publish")
    with pytest.raises(KeyError):
        planner.checkbox(key="settings_publish_confirm")
    base = default_gap_params()
    params = base.with_overrides(thresholds=base.thresholds.with_overrides(ftth_min_share=0.5))
    planner.session_state["test_publish"] = (params, targets_from_gap_params(params))
    _ok(planner.run())
    assert "publish official thresholds and targets" in planner.session_state["test_refused"]
    assert read_published(env["pkg"]) is None and settings_versions(env["pkg"]) == []
    assert _events(env, "thresholds_published") == []
    (refusal,) = _events(env, "refused")
    assert refusal.user == "binh" and refusal.details["permission"] == "publish_settings"


def test_leadership_does_not_get_the_settings_page(env: dict[str, Path]) -> None:
    leader = _page("lanh")
    assert [e.value for e in leader.error] == [t("auth.not_permitted", "vi")]
    assert not leader.title and not leader.slider and not leader.button


# --------------------------------------------------------------------------- earlier publications


def test_restoring_an_earlier_publication_brings_its_values_back(env: dict[str, Path]) -> None:
    version = package_version(env["pkg"])
    admin = _page("an")
    _publish(_apply(admin, ftth=60))
    _publish(_apply(admin, ftth=70))
    assert _official_ftth(env) == pytest.approx(0.7)
    versions = settings_versions(env["pkg"])
    assert len(versions) == 2 and all(v.source == "an" for v in versions)

    table = admin.dataframe[0].value
    assert len(table) == 2
    assert table.iloc[1, 0] == t("set.state_defaults", "vi"), "before the first publication: defaults"
    assert table.iloc[0, 0].startswith("do an công bố lúc ")

    # a planner sees the list but cannot restore, even by calling the restore action
    planner = _page("binh")
    assert len(planner.dataframe[0].value) == 2 and not _has(planner, "settings_restore")
    planner.session_state["test_restore"] = versions[0].version_id
    _ok(planner.run())
    assert "test_refused" in planner.session_state and _official_ftth(env) == pytest.approx(0.7)

    # the newest saved version holds the values the second publication replaced: 60 %
    admin.selectbox(key="settings_restore_version_vi").set_value(versions[0].version_id)
    _ok(admin.button(key="settings_restore").click().run())
    assert _official_ftth(env) == pytest.approx(0.6)
    assert admin.slider(key="settings_ftth").value == 60
    assert _page("binh").slider(key="settings_ftth").value == 60, "a fresh session starts from 60 %"
    (restored,) = _events(env, "version_restored")
    assert restored.user == "an" and restored.details["layer"] == "settings"
    assert restored.details["version"] == versions[0].version_id
    assert {"name": "gap_params.thresholds.ftth_min_share", "old": 0.7, "new": 0.6} in restored.details[
        "changes"
    ]
    assert len(_events(env, "thresholds_published")) == 2
    assert package_version(env["pkg"]) == version


# --------------------------------------------------------------------------- a damaged file


def test_a_damaged_official_file_shows_an_error_once_and_the_defaults_apply(env: dict[str, Path]) -> None:
    path = env["pkg"] / "settings" / "official.json"
    path.parent.mkdir()
    path.write_text("{not json", encoding="utf-8")
    other = _ok(AppTest.from_function(_params_app, default_timeout=TIMEOUT_S).run())
    assert len(other.error) == 1 and other.error[0].value.startswith(t("set.official_damaged", "vi"))
    assert [m.value for m in other.markdown] == ["ftth=0.8 no4g=0.0"]
    _ok(other.run())
    assert not other.error, "shown once"

    page = _page("binh")
    assert len(page.error) == 1 and page.slider(key="settings_ftth").value == 80
    _ok(page.run())
    assert len(page.error) == 1, "the settings page always says why the defaults apply"

    # an unknown value is damage too, named in the error
    path.write_text(
        '{"format": "phusong-settings/1", "published_by": "an", "gap_params": {"thresholds": '
        '{"ftth_min_share": 7}}}',
        encoding="utf-8",
    )
    other = _ok(AppTest.from_function(_params_app, default_timeout=TIMEOUT_S).run())
    assert len(other.error) == 1 and "ftth_min_share = 7" in other.error[0].value.replace("\\", "")
    assert [m.value for m in other.markdown] == ["ftth=0.8 no4g=0.0"]
