"""Sign-in and roles in the app (issue 13, docs/ACCESS.md): navigation, deep links, lockout, idle
time, sign-out, demo mode, the admin pages, the audit trail and the launcher (AppTest).

Every test runs the whole ``app.py`` on the tiny two-commune package with its own users file,
audit log and ``auth.toml`` (cheap argon2 parameters) under ``tmp_path``. Deep links are opened the
way a browser's url does it: the page hash Streamlit derives from the url path.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from auth.audit import AuditLog
from auth.roles import PAGES
from auth.sessions import Session
from auth.startup import DEMO_BANNER, DemoMode, Refusal, SecureMode
from auth.users import User, UserStore
from layers.i18n import t
from tests.conftest import write_tiny_package
from views.common import plain_text

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "app.py"
TIMEOUT_S = 120
#: Navigation order of app.py (auth.roles.PAGES names the same pages).
APP_ORDER = ["map", "scenarios", "downloads", "snapshot", "settings", "upload", "audit", "users"]
PASSWORDS = {
    "an": "admin-Pass-0001",
    "binh": "planner-Pass-02",
    "lan": "partner-Pass-03",
    "lanh": "leader-Pass-004",
}
ROLES = {"an": "admin", "binh": "planner", "lan": "partner", "lanh": "leadership"}
NOT_PERMITTED = t("auth.not_permitted", "vi")


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=19 * 1024, parallelism=1)


@pytest.fixture(autouse=True)
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Tiny package, offline basemap; users file (not created), audit log and auth.toml in tmp."""
    paths = {
        "users": tmp_path / "conf" / "users.json",
        "audit": tmp_path / "conf" / "audit.jsonl",
        "config": tmp_path / "auth.toml",
    }
    paths["config"].write_text(
        "idle_minutes = 30\nmax_failures = 5\nlock_minutes = 15\n"
        "[argon2]\ntime_cost = 1\nmemory_kib = 19456\nparallelism = 1\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("PHUSONG_DATA", str(write_tiny_package(tmp_path / "pkg")))
    monkeypatch.setenv("PHUSONG_TILES", "none")
    monkeypatch.setenv("PHUSONG_USERS", str(paths["users"]))
    monkeypatch.setenv("PHUSONG_AUDIT", str(paths["audit"]))
    monkeypatch.setenv("PHUSONG_AUTH_CONFIG", str(paths["config"]))
    return paths


@pytest.fixture
def accounts(env: dict[str, Path]) -> UserStore:
    """One account per role (secure mode)."""
    store = UserStore(env["users"], hasher=_hasher())
    for name, password in PASSWORDS.items():
        store.add(name, ROLES[name], password, operator="viettel" if ROLES[name] == "partner" else None)
    return store


@pytest.fixture
def nav(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """What app.py gives ``st.navigation`` on each run: pages (url, visibility, default) and position."""
    import streamlit as st

    calls: list[dict[str, Any]] = []
    original = st.navigation

    def spy(pages, **kwargs):
        calls.append(
            {
                "visible": [p._url_path for p in pages if p.visibility == "visible"],
                "hidden": [p._url_path for p in pages if p.visibility == "hidden"],
                "default": next(p._url_path for p in pages if p._default),
                "position": kwargs.get("position", "sidebar"),
            }
        )
        return original(pages, **kwargs)

    monkeypatch.setattr(st, "navigation", spy)
    yield calls


def _app() -> AppTest:
    return AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def _open(at: AppTest, url_path: str) -> AppTest:
    """Follow a link to ``/<url_path>`` (a bookmark, a typed url) in this browser session."""
    from streamlit.util import calc_hash

    at._page_hash = calc_hash(url_path)  # what the browser sends for the url /<url_path>
    return _ok(at.run())


def _sign_in(at: AppTest, name: str, password: str | None = None) -> AppTest:
    at.text_input(key="auth_name").input(name)
    at.text_input(key="auth_password").input(PASSWORDS.get(name, "x") if password is None else password)
    return _ok(at.button(key="auth_submit").click().run())


def _titles(at: AppTest) -> list[str]:
    return [x.value for x in at.title]


def _events(env: dict[str, Path]) -> list[tuple[str, str]]:
    return [(e.event, e.user) for e in AuditLog(env["audit"]).entries()]


def _walk(node: Any) -> Iterator[Any]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def _page_text(at: AppTest) -> str:
    """Everything the run sends to the browser (element protos, labels, values, options)."""
    parts = []
    for node in _walk(at._tree):
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
    return "\n".join(parts)


def _assert_no_secret(text: str) -> None:
    for password in PASSWORDS.values():
        assert password not in text
    assert "$argon2" not in text and "argon2id" not in text


# --------------------------------------------------------------------------- anonymous visitors


def test_anonymous_visitor_sees_only_the_sign_in_page(accounts: UserStore, env, nav) -> None:
    at = _ok(_app().run())
    assert _titles(at) == ["Đăng nhập"]
    assert nav[-1]["visible"] == ["signin"] and nav[-1]["position"] == "hidden"
    assert sorted(nav[-1]["hidden"]) == sorted(PAGES), "every page url leads to the sign-in"
    assert at.text_input(key="auth_password").proto.type == at.text_input(key="auth_password").proto.PASSWORD
    assert not at.sidebar.button, "no sign-out button"
    for url in ("upload", "map", "users", "audit", "snapshot"):
        _open(at, url)
        assert _titles(at) == ["Đăng nhập"], url
        assert not at.get("file_uploader") and not at.selectbox and not at.dataframe
    assert _events(env) == [], "showing the sign-in form is not an event"
    at.sidebar.radio(key="app_lang").set_value("en").run()
    assert _titles(_ok(at)) == ["Sign in"]
    assert at.text_input(key="auth_name").label == "User name"


def test_a_deep_link_opens_its_page_after_signing_in(accounts: UserStore) -> None:
    at = _open(_app().run(), "settings")
    assert _titles(at) == ["Đăng nhập"]
    _sign_in(at, "binh")
    assert _titles(at) == [t("page.settings", "vi")]


def test_signing_in_at_the_root_opens_the_roles_first_page(accounts: UserStore, nav) -> None:
    at = _sign_in(_ok(_app().run()), "binh")
    assert _titles(at) == [t("page.map", "vi")]
    assert nav[-1]["visible"] == ["map", "scenarios", "downloads", "snapshot", "settings"]
    assert nav[-1]["default"] == "map" and nav[-1]["position"] == "sidebar"
    assert at.sidebar.caption[0].value == "Đăng nhập: binh (quy hoạch)"
    assert at.session_state["auth_password"] == "", "the password is not kept"


# --------------------------------------------------------------------------- roles


def test_partner_deep_link_to_upload_is_refused_and_nothing_of_the_page_runs(
    accounts: UserStore, env, nav
) -> None:
    at = _open(_app().run(), "upload")
    _sign_in(at, "lan")
    assert [e.value for e in at.error] == [NOT_PERMITTED]
    assert _titles(at) == [], "not even the page's title"
    assert not at.get("file_uploader") and not at.selectbox
    with pytest.raises(KeyError):
        at.selectbox(key="upload_layer")
    assert nav[-1]["visible"] == ["map", "scenarios", "downloads"]
    assert "upload" in nav[-1]["hidden"]
    assert at.sidebar.caption[0].value == "Đăng nhập: lan (đối tác, Viettel)"
    refused = [e for e in AuditLog(env["audit"]).entries() if e.event == "refused"]
    assert len(refused) == 1
    assert (refused[0].user, refused[0].role, refused[0].details["what"]) == ("lan", "partner", "page upload")
    assert refused[0].details["permission"] == "upload"
    at.sidebar.radio(key="app_lang").set_value("en").run()
    assert [e.value for e in _ok(at).error] == [t("auth.not_permitted", "en")]


def test_every_page_function_refuses_a_role_without_it(accounts: UserStore) -> None:
    """``require_page`` at the top of each page, whatever the navigation: the server refuses."""
    leadership = User("lanh", "leadership")
    for module in ("planners", "downloads", "scenarios", "settings", "upload", "admin_audit", "admin_users"):
        at = AppTest.from_function(_page_app, args=(module, leadership), default_timeout=TIMEOUT_S)
        _ok(at.run())
        assert [e.value for e in at.error] == [NOT_PERMITTED], module
        assert not at.title and not at.selectbox and not at.get("file_uploader"), module


def _page_app(module: str, user: object) -> None:
    import importlib
    from datetime import UTC, datetime

    import streamlit as st

    from auth.sessions import new_session
    from views import access

    if user is not None and access.SESSION_KEY not in st.session_state:
        st.session_state[access.SESSION_KEY] = new_session(user, datetime.now(UTC))
    importlib.import_module(f"views.{module}").render()


def test_leadership_sees_only_the_snapshot(accounts: UserStore, nav) -> None:
    at = _sign_in(_ok(_app().run()), "lanh")
    assert nav[-1]["visible"] == ["snapshot"] and nav[-1]["default"] == "snapshot"
    assert _titles(at) == [t("page.snapshot", "vi")]
    assert at.get("download_button"), "the PDF"
    for url in ("map", "downloads", "upload", "settings"):
        _open(at, url)
        assert [e.value for e in at.error] == [NOT_PERMITTED], url
        assert not at.title


def test_admin_sees_every_page(accounts: UserStore, nav) -> None:
    _sign_in(_ok(_app().run()), "an")
    assert nav[-1]["visible"] == APP_ORDER and nav[-1]["hidden"] == ["signin"]


def test_the_sign_in_url_after_signing_in_leads_home(accounts: UserStore) -> None:
    at = _sign_in(_ok(_app().run()), "lanh")
    _open(at, "signin")
    assert _titles(at) == [t("page.snapshot", "vi")]


# --------------------------------------------------------------------------- sign-in, lockout, idle time


def test_wrong_password_and_unknown_name_get_the_same_message(accounts: UserStore, env) -> None:
    at = _sign_in(_ok(_app().run()), "binh", "not-the-password")
    assert [e.value for e in at.error] == ["Sai tên đăng nhập hoặc mật khẩu."]
    assert at.text_input(key="auth_name").value == "binh", "the name stays"
    assert at.text_input(key="auth_password").value == "", "the password does not"
    _sign_in(at, "nobody", "not-the-password")
    assert [e.value for e in at.error] == ["Sai tên đăng nhập hoặc mật khẩu."]
    _sign_in(at, "", "")
    assert [w.value for w in at.warning] == [t("auth.empty", "vi")]
    assert _events(env) == [("sign_in_failed", "binh"), ("sign_in_failed", "(unknown)")]


def test_five_wrong_passwords_lock_the_account_and_the_right_one_is_then_refused(
    accounts: UserStore, env
) -> None:
    at = _ok(_app().run())
    for attempt in range(4):
        _sign_in(at, "binh", f"wrong-password-{attempt}")
        assert [e.value for e in at.error] == ["Sai tên đăng nhập hoặc mật khẩu."]
    _sign_in(at, "binh", "wrong-password-5")
    (error,) = at.error
    until = accounts.get("binh").locked_until
    assert until is not None
    hhmm = (until.astimezone(UTC) + timedelta(hours=7)).strftime("%H:%M")
    assert "bị khóa đến" in error.value and hhmm in error.value and "UTC+7" in error.value
    _sign_in(at, "binh")  # the right password
    assert "bị khóa đến" in at.error[0].value
    assert _titles(at) == ["Đăng nhập"] and "auth_session" not in at.session_state
    at.sidebar.radio(key="app_lang").set_value("en").run()
    _sign_in(at, "binh")
    assert "locked until" in at.error[0].value
    assert _events(env) == [
        *[("sign_in_failed", "binh")] * 5,
        ("account_locked", "binh"),
        ("sign_in_failed", "binh"),
        ("sign_in_failed", "binh"),
    ]
    reasons = [
        e.details.get("reason") for e in AuditLog(env["audit"]).entries() if e.event == "sign_in_failed"
    ]
    assert reasons == ["wrong password"] * 5 + ["account locked"] * 2


def test_an_idle_session_ends_and_asks_to_sign_in_again(accounts: UserStore, env) -> None:
    at = _sign_in(_ok(_app().run()), "binh")
    at.session_state["settings_params"] = "left by binh"
    old = datetime.now(UTC) - timedelta(minutes=31)
    at.session_state["auth_session"] = Session(User("binh", "planner"), started=old, last_seen=old)
    _ok(at.run())
    assert _titles(at) == ["Đăng nhập"]
    assert [i.value for i in at.info] == [t("auth.expired", "vi", minutes=30)]
    assert "auth_session" not in at.session_state and "settings_params" not in at.session_state
    assert _events(env) == [("sign_in", "binh"), ("session_expired", "binh")]


def test_a_session_in_use_is_kept(accounts: UserStore) -> None:
    at = _sign_in(_ok(_app().run()), "binh")
    recent = datetime.now(UTC) - timedelta(minutes=29)
    at.session_state["auth_session"] = Session(User("binh", "planner"), started=recent, last_seen=recent)
    _ok(at.run())
    assert _titles(at) == [t("page.map", "vi")]
    assert at.session_state["auth_session"].last_seen > recent, "touched"


def test_sign_out_ends_the_session_and_forgets_the_users_state(accounts: UserStore, env) -> None:
    at = _sign_in(_ok(_app().run()), "binh")
    at.session_state["settings_params"] = "left by binh"
    _ok(at.sidebar.button(key="auth_sign_out").click().run())
    assert _titles(at) == ["Đăng nhập"]
    assert [s.value for s in at.success] == ["Đã đăng xuất."]
    assert "auth_session" not in at.session_state and "settings_params" not in at.session_state
    assert at.session_state["app_lang"] == "vi"
    assert _events(env) == [("sign_in", "binh"), ("sign_out", "binh")]


def test_a_removed_account_ends_its_session(accounts: UserStore) -> None:
    at = _sign_in(_ok(_app().run()), "binh")
    accounts.remove("binh")
    _ok(at.run())
    assert _titles(at) == ["Đăng nhập"]
    assert [w.value for w in at.warning] == [t("auth.ended", "vi")]


def test_audit_log_has_one_line_per_sign_in_failure_lock_and_refusal(accounts: UserStore, env) -> None:
    at = _ok(_app().run())
    _sign_in(at, "lan", "wrong-password")
    _sign_in(at, "lan")
    _open(at, "upload")
    _open(at, "users")
    _ok(at.sidebar.button(key="auth_sign_out").click().run())
    for attempt in range(5):
        _sign_in(at, "lanh", f"wrong-{attempt}-password")
    assert _events(env) == [
        ("sign_in_failed", "lan"),
        ("sign_in", "lan"),
        ("refused", "lan"),
        ("refused", "lan"),
        ("sign_out", "lan"),
        *[("sign_in_failed", "lanh")] * 5,
        ("account_locked", "lanh"),
    ]


def test_no_password_or_hash_in_any_page_or_log_line(accounts: UserStore, env) -> None:
    at = _ok(_app().run())
    texts = []
    for name in PASSWORDS:
        _sign_in(at, name, PASSWORDS["an"] if name != "an" else PASSWORDS["binh"])  # someone else's
        texts.append(_page_text(at))
        _sign_in(at, name)
        texts.append(_page_text(at))
        for url in ("upload", "users", "audit"):
            _open(at, url)
            texts.append(_page_text(at))
        _ok(at.sidebar.button(key="auth_sign_out").click().run())
        texts.append(_page_text(at))
        at._page_hash = ""
    _assert_no_secret("\n".join(texts))
    _assert_no_secret(env["audit"].read_text(encoding="utf-8"))
    _assert_no_secret(repr({k: at.session_state[k] for k in at.session_state}))
    assert len(env["audit"].read_text(encoding="utf-8").splitlines()) >= 4 * 3


# --------------------------------------------------------------------------- demo mode


def test_demo_mode_shows_the_banner_and_every_page(env, nav) -> None:
    assert not env["users"].exists()
    at = _ok(_app().run())
    assert [w.value for w in at.warning][0] == t("auth.demo_banner", "vi")
    assert nav[-1]["visible"] == APP_ORDER and sorted(APP_ORDER) == sorted(PAGES)
    assert _titles(at) == [t("page.map", "vi")]
    assert not at.sidebar.button, "nobody to sign out"
    at.sidebar.radio(key="app_lang").set_value("en").run()
    assert _ok(at).warning[0].value == DEMO_BANNER
    for url in ("upload", "audit", "users"):
        _open(at, url)
        assert not at.error, url
        assert _titles(at) == [t(f"page.{url}", "en")]
        assert at.warning[0].value == DEMO_BANNER, "the banner is on every page"


def test_a_damaged_users_file_is_reported_at_sign_in(env) -> None:
    env["users"].parent.mkdir(parents=True)
    env["users"].write_text("{not json", encoding="utf-8")
    at = _sign_in(_ok(_app().run()), "an")
    assert at.error[0].value.startswith(t("auth.config_error", "vi"))
    assert "not valid JSON" in at.error[0].value
    assert _titles(at) == ["Đăng nhập"] and "auth_session" not in at.session_state


# --------------------------------------------------------------------------- admin pages


def _admin_on(url: str) -> AppTest:
    at = _open(_app().run(), url)
    return _sign_in(at, "an")


def test_users_page_adds_resets_unlocks_and_removes_accounts(accounts: UserStore, env) -> None:
    at = _admin_on("users")
    assert _titles(at) == [t("page.users", "vi")]
    table = at.dataframe[0].value
    assert list(table["Tên đăng nhập"]) == ["an", "binh", "lan", "lanh"]
    assert "hash" not in " ".join(table.columns).lower()

    at.text_input(key="users_add_name").input("moi")
    at.selectbox(key="users_add_role").select("partner")
    at.text_input(key="users_add_password").input("new-Partner-pw1")
    at.text_input(key="users_add_repeat").input("new-Partner-pw1")
    _ok(at.button(key="users_add_submit").click().run())
    assert at.error[0].value == plain_text(t("usr.operator_rule", "vi")), "a partner needs an operator"
    at.selectbox(key="users_add_operator").select("VinaPhone")
    at.text_input(key="users_add_password").input("new-Partner-pw1")
    at.text_input(key="users_add_repeat").input("new-Partner-pw2")
    _ok(at.button(key="users_add_submit").click().run())
    assert "khớp" in at.error[0].value, "two different passwords: nothing added"
    assert at.text_input(key="users_add_password").value == ""
    assert [u.name for u in accounts.list_users()] == ["an", "binh", "lan", "lanh"]

    at.text_input(key="users_add_password").input("new-Partner-pw1")
    at.text_input(key="users_add_repeat").input("new-Partner-pw1")
    _ok(at.button(key="users_add_submit").click().run())
    assert at.success[0].value == plain_text(t("usr.added", "vi", name="moi"))
    added = accounts.get("moi")
    assert (added.role.value, added.operator) == ("partner", "VinaPhone")
    assert accounts.authenticate("moi", "new-Partner-pw1").ok

    for attempt in range(5):
        accounts.authenticate("binh", f"wrong-{attempt}-password")
    assert accounts.get("binh").is_locked()
    _ok(at.run())
    at.selectbox(key="users_unlock_name").select("binh")
    _ok(at.button(key="users_unlock_submit").click().run())
    assert not accounts.get("binh").is_locked()

    at.selectbox(key="users_reset_name").select("lan")
    at.text_input(key="users_reset_password").input("reset-Pass-0005")
    at.text_input(key="users_reset_repeat").input("reset-Pass-0005")
    _ok(at.button(key="users_reset_submit").click().run())
    assert accounts.authenticate("lan", "reset-Pass-0005").ok

    at.selectbox(key="users_remove_name").select("an")
    at.checkbox(key="users_remove_confirm").check()
    _ok(at.button(key="users_remove_submit").click().run())
    assert "tài khoản đang đăng nhập" in at.error[0].value
    assert at.checkbox(key="users_remove_confirm").value is False, "each removal is confirmed anew"
    at.selectbox(key="users_remove_name").select("lanh")
    _ok(at.button(key="users_remove_submit").click().run())
    assert "đánh dấu" in at.error[0].value, "unconfirmed"
    at.checkbox(key="users_remove_confirm").check()
    _ok(at.button(key="users_remove_submit").click().run())
    assert [u.name for u in accounts.list_users()] == ["an", "binh", "lan", "moi"]

    log = [(e.event, e.user, e.details.get("account")) for e in AuditLog(env["audit"]).entries()]
    assert log[-4:] == [
        ("user_added", "an", "moi"),
        ("user_unlocked", "an", "binh"),
        ("password_set", "an", "lan"),
        ("user_removed", "an", "lanh"),
    ]
    _assert_no_secret(_page_text(at) + env["audit"].read_text(encoding="utf-8"))
    for key in ("users_add_password", "users_add_repeat", "users_reset_password", "users_reset_repeat"):
        assert at.session_state[key] == ""


def test_audit_page_lists_newest_first_filters_and_audits_its_download(accounts: UserStore, env) -> None:
    log = AuditLog(env["audit"])
    log.append(
        "sign_in_failed", "(unknown)", {"reason": "unknown name"}, now=datetime(2026, 1, 2, 3, tzinfo=UTC)
    )
    at = _admin_on("audit")
    assert _titles(at) == [t("page.audit", "vi")]
    table = at.dataframe[0].value
    assert list(table["Sự kiện"]) == ["đăng nhập", "đăng nhập thất bại"], "newest first"
    assert table["Người dùng"].tolist() == ["an", "(unknown)"]
    assert table.iloc[1]["Thời gian (UTC+7)"] == "2026-01-02 10:00:00"
    at.selectbox(key="audit_event").select("sign_in_failed")
    _ok(at.run())
    assert at.dataframe[0].value["Người dùng"].tolist() == ["(unknown)"]
    at.selectbox(key="audit_event").select(None)
    at.date_input(key="audit_from").set_value(datetime(2026, 1, 3).date())
    _ok(at.run())
    assert at.dataframe[0].value["Người dùng"].tolist() == ["an"]
    _ok(at.download_button(key="audit_download").click().run())
    download = [e for e in log.entries() if e.event == "download"]
    assert len(download) == 1
    assert (download[0].user, download[0].details["layer"], download[0].details["rows"]) == ("an", "audit", 1)
    assert download[0].details["filters"] == {"from": "2026-01-03"}


def test_audit_filter_by_local_date() -> None:
    from auth.audit import AuditEntry
    from views.admin_audit import filter_entries

    late = AuditEntry(datetime(2026, 1, 1, 18, tzinfo=UTC), "sign_in", "an", "admin")  # 2 Jan, 01:00 +7
    early = AuditEntry(datetime(2026, 1, 1, 16, tzinfo=UTC), "sign_out", "an", "admin")  # 1 Jan, 23:00 +7
    day = datetime(2026, 1, 2).date()
    assert filter_entries([early, late], since=day) == [late]
    assert filter_entries([early, late], until=day - timedelta(days=1)) == [early]
    assert filter_entries([early, late], event="sign_out", user="an") == [early]
    assert filter_entries([early, late], user="someone") == []


# --------------------------------------------------------------------------- the launcher (make run)


def test_launcher_demo_mode_binds_localhost(tmp_path: Path) -> None:
    from cli.serve import decide, streamlit_command

    mode = decide("", tmp_path / "users.json")
    assert isinstance(mode, DemoMode)
    command = streamlit_command(mode, port=8501, python="python", app=Path("app.py"))
    assert command[:5] == ["python", "-m", "streamlit", "run", "app.py"]
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    assert command[command.index("--server.port") + 1] == "8501"
    assert command[command.index("--server.headless") + 1] == "true"
    localhost = decide("localhost", tmp_path / "users.json")
    assert isinstance(localhost, DemoMode)
    assert streamlit_command(localhost)[-2:] == ["--server.address", "localhost"]


def test_launcher_with_accounts_serves_the_address_given(accounts: UserStore) -> None:
    from cli.serve import decide, streamlit_command

    mode = decide("0.0.0.0", accounts.path)
    assert isinstance(mode, SecureMode)
    assert streamlit_command(mode, address="0.0.0.0")[-2:] == ["--server.address", "0.0.0.0"]
    assert "--server.address" not in streamlit_command(decide("", accounts.path))
    with pytest.raises(Exception, match="--address"):
        streamlit_command(mode, extra=["--server.address=0.0.0.0"])


def test_launcher_refuses_a_network_address_without_users(env, capsys: pytest.CaptureFixture[str]) -> None:
    from cli.serve import decide, main

    assert isinstance(decide("0.0.0.0", env["users"]), Refusal)
    ran: list[list[str]] = []
    assert main(["--address", "0.0.0.0"], execute=lambda path, argv: ran.append(argv)) == 2
    assert ran == [], "Streamlit is not started"
    err = capsys.readouterr().err
    assert "users add NAME --role admin" in err and str(env["users"]) in err


def test_launcher_execs_streamlit_in_demo_mode(env, capsys: pytest.CaptureFixture[str]) -> None:
    from cli.serve import main

    ran: list[list[str]] = []
    assert main(["--port", "8600"], execute=lambda path, argv: ran.append(argv)) == 0
    (argv,) = ran
    assert argv[argv.index("--server.address") + 1] == "127.0.0.1"
    assert argv[argv.index("--server.port") + 1] == "8600"
    assert "demo mode" in capsys.readouterr().err


def test_launcher_refuses_invalid_sign_in_settings(accounts: UserStore, env, capsys) -> None:
    from cli.serve import main

    env["config"].write_text("idle_minutes = 0\n", encoding="utf-8")
    assert main([], execute=lambda path, argv: pytest.fail("started")) == 2
    assert "idle_minutes" in capsys.readouterr().err


def test_launcher_refuses_a_damaged_users_file(env, capsys) -> None:
    from cli.serve import main

    env["users"].parent.mkdir(parents=True)
    env["users"].write_text("{not json", encoding="utf-8")
    assert main([], execute=lambda path, argv: pytest.fail("started")) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_make_run_goes_through_the_launcher() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "-m cli.serve" in recipe and '--address "$(ADDRESS)"' in recipe
    assert "streamlit run" not in recipe
    assert "\nADDRESS ?=\n" in makefile, "no address by default: demo mode on 127.0.0.1"


def test_refused_start_in_the_app_itself(env, monkeypatch: pytest.MonkeyPatch) -> None:
    """Started without the launcher on a network address and without users: the app refuses too."""
    import streamlit as st

    get_option = st.get_option
    monkeypatch.setattr(
        st, "get_option", lambda key: "0.0.0.0" if key == "server.address" else get_option(key)
    )
    at = _ok(_app().run())
    assert at.error[0].value == t("auth.no_start", "vi")
    assert not at.title and "users add NAME --role admin" in at.code[0].value


def test_demo_mode_serves_no_other_computer(env, monkeypatch: pytest.MonkeyPatch) -> None:
    """``streamlit run app.py`` without the launcher listens everywhere: demo pages stay local."""
    import streamlit as st

    from views.access import is_local_address

    monkeypatch.setattr(type(st.context), "ip_address", property(lambda self: "192.168.1.20"))
    at = _ok(_app().run())
    assert [e.value for e in at.error] == [t("auth.demo_remote", "vi")]
    assert not at.title and not at.selectbox
    assert is_local_address(None) and is_local_address("127.0.0.2") and is_local_address("::1")
    assert not is_local_address("10.0.0.5") and not is_local_address("2001:db8::1")
