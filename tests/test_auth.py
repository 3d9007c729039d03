"""Sign-in core (auth/, issue 13 §1-§3): accounts, lockout, roles, claims, start-up, audit, sessions, CLI.

Every test works in ``tmp_path``: the users file, the audit log and auth.toml are pointed there
through the environment, never at the real ``~/.config/phusong``.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import stat
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from argon2 import PasswordHasher, Type

from auth.audit import AuditEvent, AuditLog, is_sensitive_field
from auth.config import AuthSettings, audit_path, load_settings, users_path
from auth.roles import (
    PAGES,
    ClaimMapping,
    Permission,
    Role,
    RoleGrant,
    allowed,
    can_open_page,
    claim_mapping_from_dict,
    claims_to_role,
    operator_filter,
    require,
    sees_operator,
    visible_pages,
)
from auth.sessions import is_expired, new_session, touch
from auth.signin import UNKNOWN_NAME, WRONG_CREDENTIALS, refresh, sign_in, sign_out
from auth.startup import DemoMode, Refusal, SecureMode, is_localhost, startup_mode
from auth.users import AuthOutcome, User, UserStore
from cli.main import main
from geo.errors import (
    AccountLockedError,
    AuthenticationError,
    ClaimMappingError,
    NotPermittedError,
    ParameterError,
    SensitiveFieldError,
    UnknownUserError,
    UserExistsError,
)

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event as EventType

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
GOOD = "correct horse battery"
BAD = "wrong password!"


def _cheap_hasher() -> PasswordHasher:
    """argon2id with the smallest cost: the tests check behaviour, not hashing strength."""
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)


def _store(path: Path, max_failures: int = 5, lock_minutes: float = 15) -> UserStore:
    return UserStore(path, hasher=_cheap_hasher(), max_failures=max_failures, lock_minutes=lock_minutes)


@pytest.fixture
def users_file(tmp_path: Path) -> Path:
    return tmp_path / "conf" / "users.json"


@pytest.fixture
def store(users_file: Path) -> UserStore:
    s = _store(users_file)
    s.add("lan", Role.PARTNER, GOOD, operator="viettel", now=T0)
    return s


# ---------------------------------------------------------------- users file and hashing


def test_hash_is_argon2id_and_the_file_holds_no_clear_password(store: UserStore, users_file: Path):
    text = users_file.read_text(encoding="utf-8")
    record = json.loads(text)["users"]["lan"]
    assert record["hash"].startswith("$argon2id$")
    assert GOOD not in text
    assert stat.S_IMODE(users_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(users_file.parent.stat().st_mode) == 0o700
    user = store.get("LAN")  # names are case-insensitive
    assert user == User("lan", Role.PARTNER, "Viettel")
    assert not any(GOOD in str(v) or "argon2" in str(v) for v in vars(user).values())


def test_default_hashers_are_argon2id(tmp_path: Path):
    assert UserStore(tmp_path / "u.json").hasher.type is Type.ID
    assert AuthSettings().hasher().type is Type.ID


def test_mode_stays_0600_after_rewrites_under_a_permissive_umask(store: UserStore, users_file: Path):
    import os

    old = os.umask(0)
    try:
        store.add("minh", Role.PLANNER, GOOD)
        store.set_password("minh", GOOD + "2")
    finally:
        os.umask(old)
    assert stat.S_IMODE(users_file.stat().st_mode) == 0o600


def test_account_rules(store: UserStore):
    with pytest.raises(ParameterError, match="needs an operator"):
        store.add("p2", Role.PARTNER, GOOD)
    with pytest.raises(ParameterError, match="only a partner"):
        store.add("p3", Role.PLANNER, GOOD, operator="Viettel")
    with pytest.raises(ParameterError, match="not a known operator"):
        store.add("p4", Role.PARTNER, GOOD, operator="Acme")
    with pytest.raises(ParameterError, match="not a role"):
        store.add("p5", "boss", GOOD)
    with pytest.raises(ParameterError, match="not valid"):
        store.add("has space", Role.ADMIN, GOOD)
    with pytest.raises(ParameterError, match="too short"):
        store.add("p6", Role.ADMIN, "short")
    with pytest.raises(UserExistsError):
        store.add("LAN", Role.ADMIN, GOOD)
    with pytest.raises(UnknownUserError):
        store.remove("nobody")
    with pytest.raises(UnknownUserError):
        store.set_password("nobody", GOOD)
    assert [u.name for u in store.list_users()] == ["lan"]
    store.remove("lan")
    assert store.list_users() == []


def test_naive_times_are_refused(store: UserStore):
    with pytest.raises(ParameterError, match="time zone"):
        store.authenticate("lan", GOOD, datetime(2026, 1, 1))


# ---------------------------------------------------------------- authentication and lockout


def test_right_password_signs_in(store: UserStore):
    result = store.authenticate("Lan", GOOD, T0)
    assert result.ok and result.user == User("lan", Role.PARTNER, "Viettel")


def test_five_failures_lock_the_account(store: UserStore):
    for i in range(4):
        assert store.authenticate("lan", BAD, T0 + timedelta(seconds=i)).outcome is AuthOutcome.WRONG
    assert store.get("lan").failed_attempts == 4
    fifth = store.authenticate("lan", BAD, T0 + timedelta(seconds=10))
    assert fifth.outcome is AuthOutcome.JUST_LOCKED
    assert fifth.locked_until == T0 + timedelta(seconds=10, minutes=15)
    assert store.get("lan").is_locked(T0 + timedelta(minutes=1))


def test_a_locked_account_stays_locked_with_the_right_password(store: UserStore):
    for i in range(5):
        store.authenticate("lan", BAD, T0 + timedelta(seconds=i))
    later = T0 + timedelta(minutes=14)
    result = store.authenticate("lan", GOOD, later)
    assert result.outcome is AuthOutcome.LOCKED and result.user is None
    assert result.locked_until == T0 + timedelta(seconds=4, minutes=15)


def test_the_lock_ends_after_lock_minutes(store: UserStore):
    for i in range(5):
        store.authenticate("lan", BAD, T0 + timedelta(seconds=i))
    result = store.authenticate("lan", GOOD, T0 + timedelta(seconds=4, minutes=15))
    assert result.ok
    user = store.get("lan")
    assert user.locked_until is None and user.failed_attempts == 0


def test_lockout_settings_are_honoured(users_file: Path):
    s = _store(users_file, max_failures=2, lock_minutes=1)
    s.add("an", Role.ADMIN, GOOD)
    assert s.authenticate("an", BAD, T0).outcome is AuthOutcome.WRONG
    assert s.authenticate("an", BAD, T0).outcome is AuthOutcome.JUST_LOCKED
    assert s.authenticate("an", GOOD, T0 + timedelta(seconds=59)).outcome is AuthOutcome.LOCKED
    assert s.authenticate("an", GOOD, T0 + timedelta(seconds=60)).ok


def test_success_resets_the_failure_count(store: UserStore):
    for _ in range(4):
        store.authenticate("lan", BAD, T0)
    assert store.authenticate("lan", GOOD, T0).ok
    assert store.get("lan").failed_attempts == 0
    for _ in range(4):
        assert store.authenticate("lan", BAD, T0).outcome is AuthOutcome.WRONG
    assert not store.get("lan").is_locked(T0)


def test_set_password_clears_a_lock(store: UserStore):
    for _ in range(5):
        store.authenticate("lan", BAD, T0)
    store.set_password("lan", "a brand new one", now=T0)
    assert store.authenticate("lan", "a brand new one", T0 + timedelta(minutes=1)).ok
    assert not store.authenticate("lan", GOOD, T0 + timedelta(minutes=1)).ok


def test_unknown_user_fails_like_a_wrong_password(store: UserStore, monkeypatch: pytest.MonkeyPatch):
    verified: list[str] = []
    real = UserStore._verify

    def spy(self: UserStore, digest: str, password: str) -> bool:
        verified.append(digest)
        return real(self, digest, password)

    monkeypatch.setattr(UserStore, "_verify", spy)
    unknown = store.authenticate("nobody", GOOD, T0)
    invalid = store.authenticate("not a valid name!", GOOD, T0)
    wrong = store.authenticate("lan", BAD, T0)
    assert unknown == invalid == wrong
    assert unknown.outcome is AuthOutcome.WRONG and unknown.user is None
    assert len(verified) == 3  # one argon2 verification each: the same work, the same time
    assert verified[0].startswith("$argon2id$") and verified[0] == verified[1] != verified[2]
    assert not store.path.with_name("nobody").exists() and [u.name for u in store.list_users()] == ["lan"]


def test_rehash_when_the_hashing_parameters_change(store: UserStore, users_file: Path):
    old = json.loads(users_file.read_text())["users"]["lan"]["hash"]
    assert "m=8,t=1,p=1" in old
    stronger = UserStore(
        users_file, hasher=PasswordHasher(time_cost=2, memory_cost=16, parallelism=1, type=Type.ID)
    )
    assert not stronger.authenticate("lan", BAD, T0).ok  # a failure does not re-hash
    assert json.loads(users_file.read_text())["users"]["lan"]["hash"] == old
    assert stronger.authenticate("lan", GOOD, T0).ok
    new = json.loads(users_file.read_text())["users"]["lan"]["hash"]
    assert new.startswith("$argon2id$") and "m=16,t=2,p=1" in new
    assert stronger.authenticate("lan", GOOD, T0).ok


def _add_many(path: str, prefix: str, count: int, go: EventType) -> None:
    go.wait()
    s = _store(Path(path))
    for i in range(count):
        s.add(f"{prefix}{i}", Role.PLANNER, GOOD)


def test_concurrent_adds_from_two_processes_all_land(users_file: Path):
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Event()
    procs = [ctx.Process(target=_add_many, args=(str(users_file), p, 8, go)) for p in ("a", "b")]
    for p in procs:
        p.start()
    go.set()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0]
    names = {u.name for u in _store(users_file).list_users()}
    assert names == {f"{p}{i}" for p in "ab" for i in range(8)}
    assert stat.S_IMODE(users_file.stat().st_mode) == 0o600
    assert not list(users_file.parent.glob("*.tmp"))


# ---------------------------------------------------------------- roles and permissions

ADMIN = User("an", Role.ADMIN)
PLANNER = User("minh", Role.PLANNER)
PARTNER = User("lan", Role.PARTNER, "Viettel")
LEADER = User("hung", Role.LEADERSHIP)


def test_admin_may_do_everything():
    assert all(allowed(ADMIN, p) for p in Permission)
    assert visible_pages(ADMIN) == PAGES
    assert operator_filter(ADMIN) is None


def test_planner_sees_every_layer_but_does_not_administer():
    assert set(visible_pages(PLANNER)) == {"map", "downloads", "snapshot", "scenarios", "settings"}
    assert allowed(PLANNER, Permission.DOWNLOAD_ALL_OPERATORS)
    for p in (
        Permission.UPLOAD,
        Permission.APPLY_IMPORT,
        Permission.RESTORE_VERSION,
        Permission.MANAGE_USERS,
    ):
        assert not allowed(PLANNER, p)
    assert not allowed(PLANNER, Permission.PUBLISH_SETTINGS)
    assert operator_filter(PLANNER) is None


def test_partner_cannot_upload_or_restore_and_sees_its_operator_only():
    for p in (
        Permission.UPLOAD,
        Permission.APPLY_IMPORT,
        Permission.RESTORE_VERSION,
        Permission.DOWNLOAD_ALL_OPERATORS,
        Permission.SESSION_SETTINGS,
        Permission.VIEW_ALL_SCENARIOS,
    ):
        assert not allowed(PARTNER, p)
    assert set(visible_pages(PARTNER)) == {"map", "downloads", "scenarios"}
    assert operator_filter(PARTNER) == "Viettel"
    assert sees_operator(PARTNER, "viettel") and not sees_operator(PARTNER, "VinaPhone")
    assert sees_operator(PLANNER, "VinaPhone")
    with pytest.raises(NotPermittedError, match="lan \\(role partner\\) may not upload") as info:
        require(PARTNER, Permission.UPLOAD)
    assert info.value.permission == "upload"
    with pytest.raises(NotPermittedError, match="restore a saved version"):
        require(PARTNER, Permission.RESTORE_VERSION)


def test_leadership_sees_only_the_snapshot():
    assert visible_pages(LEADER) == ("snapshot",)
    assert [p for p in Permission if allowed(LEADER, p)] == [Permission.VIEW_SNAPSHOT]
    assert not sees_operator(LEADER, "Viettel")
    assert can_open_page(LEADER, "snapshot") and not can_open_page(LEADER, "map")
    with pytest.raises(NotPermittedError, match="download layers"):
        require(LEADER, Permission.DOWNLOAD)


def test_nobody_signed_in_sees_nothing():
    assert visible_pages(None) == () and not allowed(None, Permission.VIEW_SNAPSHOT)
    assert not can_open_page(ADMIN, "no-such-page")
    with pytest.raises(NotPermittedError, match="sign in"):
        require(None, Permission.VIEW_MAP)


# ---------------------------------------------------------------- identity-provider claims


def test_default_claim_mapping_reads_a_roles_claim():
    assert claims_to_role({"roles": ["planner"]}) == RoleGrant(Role.PLANNER)
    assert claims_to_role({"roles": "leadership"}) == RoleGrant(Role.LEADERSHIP)
    assert claims_to_role({"roles": ["partner"], "operator": "VNPT"}) == RoleGrant(Role.PARTNER, "VinaPhone")
    # the most trusted role wins; an operator claim on a non-partner is ignored
    assert claims_to_role({"roles": "partner admin", "operator": "Viettel"}) == RoleGrant(Role.ADMIN)


def test_keycloak_style_mapping_from_auth_toml():
    mapping = claim_mapping_from_dict(
        {
            "roles_claim": "realm_access.roles",
            "operator_claim": "phusong_operator",
            "roles": {"phusong-admin": "admin", "phusong-partner": "Partner"},
        }
    )
    claims = {
        "realm_access": {"roles": ["offline_access", "phusong-partner"]},
        "phusong_operator": "mobifone",
    }
    assert claims_to_role(claims, mapping) == RoleGrant(Role.PARTNER, "MobiFone")
    assert claims_to_role({"realm_access": {"roles": ["phusong-admin"]}}, mapping) == RoleGrant(Role.ADMIN)


def test_groups_can_carry_the_operator():
    mapping = ClaimMapping(
        roles_claim="groups",
        role_values={"/phusong/partners": Role.PARTNER},
        operator_values={"/partners/viettel": "viettel"},
    )
    claims = {"groups": ["/phusong/partners", "/partners/viettel"]}
    assert claims_to_role(claims, mapping) == RoleGrant(Role.PARTNER, "Viettel")


def test_claims_without_a_role_or_a_partner_without_operator_are_refused():
    with pytest.raises(ClaimMappingError, match="no PhuSong role"):
        claims_to_role({"roles": ["offline_access"]})
    with pytest.raises(ClaimMappingError, match="no PhuSong role"):
        claims_to_role({})
    with pytest.raises(ClaimMappingError, match="exactly one operator"):
        claims_to_role({"roles": ["partner"]})
    with pytest.raises(ClaimMappingError, match="not a known operator"):
        claims_to_role({"roles": ["partner"], "operator": "Acme"})
    with pytest.raises(ClaimMappingError, match="several"):
        claims_to_role({"roles": ["partner"], "operator": ["Viettel", "MobiFone"]})
    with pytest.raises(ParameterError, match="not a role"):
        claim_mapping_from_dict({"roles": {"x": "boss"}})
    with pytest.raises(ParameterError, match="unknown key"):
        claim_mapping_from_dict({"role_claim": "roles"})


# ---------------------------------------------------------------- start-up mode


def test_startup_with_a_users_file_is_secure_on_any_address(store: UserStore, users_file: Path):
    for address in (None, "127.0.0.1", "0.0.0.0", "10.1.2.3"):
        assert startup_mode(users_file, address) == SecureMode(users_file)


@pytest.mark.parametrize("address", ["127.0.0.1", "localhost", "LOCALHOST", "::1", "[::1]", "127.0.0.2"])
def test_startup_without_users_on_localhost_is_demo(tmp_path: Path, address: str):
    mode = startup_mode(tmp_path / "users.json", address)
    assert isinstance(mode, DemoMode) and mode.bind_address == address
    assert "DEMO" in mode.banner


def test_startup_without_users_and_without_an_address_binds_localhost(tmp_path: Path):
    for address in (None, "", "  "):
        mode = startup_mode(tmp_path / "users.json", address)
        assert isinstance(mode, DemoMode) and mode.bind_address == "127.0.0.1"


@pytest.mark.parametrize("address", ["0.0.0.0", "::", "192.168.1.20", "phusong.vinhlong.gov.vn"])
def test_startup_without_users_elsewhere_is_refused(tmp_path: Path, address: str):
    mode = startup_mode(tmp_path / "users.json", address)
    assert isinstance(mode, Refusal)
    assert "users add NAME --role admin" in mode.message and str(tmp_path / "users.json") in mode.message
    assert not is_localhost(address)


def test_startup_refuses_a_folder_as_users_file(tmp_path: Path):
    assert isinstance(startup_mode(tmp_path, "127.0.0.1"), Refusal)


# ---------------------------------------------------------------- audit log


def test_audit_append_and_read(tmp_path: Path):
    log = AuditLog(tmp_path / "logs" / "audit.jsonl")
    log.append(AuditEvent.SIGN_IN, PARTNER, now=T0)
    log.download(PARTNER, "sites", "gpkg", 412, {"operator": "Viettel"}, now=T0 + timedelta(minutes=1))
    log.append(AuditEvent.SIGN_IN_FAILED, "someone", {"reason": "wrong name or password"}, now=T0)
    log.append(AuditEvent.IMPORT_APPLIED, ADMIN, {"layer": "towers", "version": "v1"}, now=T0)
    entries = list(log.entries())
    assert [e.event for e in entries] == ["sign_in", "download", "sign_in_failed", "import_applied"]
    first = json.loads((tmp_path / "logs" / "audit.jsonl").read_text().splitlines()[0])
    assert first == {"ts": "2026-11-25T08:00:00+00:00", "event": "sign_in", "user": "lan", "role": "partner"}
    (download,) = log.entries(event=AuditEvent.DOWNLOAD)
    assert download.user == "lan" and download.role == "partner"
    assert download.details == {
        "layer": "sites",
        "format": "gpkg",
        "filters": {"operator": "Viettel"},
        "rows": 412,
    }
    assert download.ts == T0 + timedelta(minutes=1)
    assert [e.event for e in log.entries(user="LAN")] == ["sign_in", "download"]
    assert [e.event for e in log.entries(since=T0 + timedelta(seconds=30))] == ["download"]
    assert stat.S_IMODE((tmp_path / "logs" / "audit.jsonl").stat().st_mode) == 0o600
    assert list(AuditLog(tmp_path / "missing.jsonl").entries()) == []


@pytest.mark.parametrize(
    "details",
    [
        {"password": "x"},
        {"Password_Hash": "x"},
        {"new_passwd": "x"},
        {"hash": "x"},
        {"api_token": "x"},
        {"filters": {"client_secret": "x"}},
        {"rows": [{"pwd": "x"}]},
    ],
)
def test_audit_refuses_fields_named_like_secrets(tmp_path: Path, details: dict[str, object]):
    log = AuditLog(tmp_path / "audit.jsonl")
    with pytest.raises(SensitiveFieldError):
        log.append(AuditEvent.DOWNLOAD, ADMIN, details)
    assert not (tmp_path / "audit.jsonl").exists() or (tmp_path / "audit.jsonl").read_text() == ""
    assert not is_sensitive_field("layer") and not is_sensitive_field("rows")


def test_audit_refuses_reserved_fields_and_non_json(tmp_path: Path):
    log = AuditLog(tmp_path / "audit.jsonl")
    with pytest.raises(ParameterError, match="field name"):
        log.append(AuditEvent.DOWNLOAD, ADMIN, {"user": "someone else"})
    with pytest.raises(ParameterError, match="not JSON"):
        log.append(AuditEvent.DOWNLOAD, ADMIN, {"rows": float("nan")})
    with pytest.raises(ParameterError, match="not JSON"):
        log.append(AuditEvent.DOWNLOAD, ADMIN, {"what": object()})


def test_audit_reader_tolerates_a_truncated_last_line(tmp_path: Path):
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    log.append(AuditEvent.SIGN_IN, ADMIN, now=T0)
    with open(path, "ab") as fh:  # a writer killed mid-line
        fh.write(b'{"ts": "2026-11-25T08:01:00+00:00", "event": "down')
    assert [e.event for e in log.entries()] == ["sign_in"]
    log.append(AuditEvent.SIGN_OUT, ADMIN, now=T0)  # starts a fresh line after the broken one
    assert [e.event for e in log.entries()] == ["sign_in", "sign_out"]
    assert path.read_bytes().endswith(b"\n")


def _append_many(path: str, writer: str, count: int, go: EventType) -> None:
    go.wait()
    log = AuditLog(Path(path))
    for i in range(count):
        log.append(AuditEvent.DOWNLOAD, writer, {"seq": i, "padding": writer * 9000})


def test_two_processes_appending_never_interleave(tmp_path: Path):
    path = tmp_path / "audit.jsonl"
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Event()
    count = 60
    procs = [ctx.Process(target=_append_many, args=(str(path), w, count, go)) for w in ("x", "y")]
    for p in procs:
        p.start()
    go.set()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0]
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 2 * count + 1
    records = [json.loads(line) for line in lines[:-1]]  # every line is one whole entry
    for writer in ("x", "y"):
        mine = [r for r in records if r["user"] == writer]
        assert [r["seq"] for r in mine] == list(range(count))
        assert all(r["padding"] == writer * 9000 for r in mine)


# ---------------------------------------------------------------- sessions and sign-in


def test_session_expires_after_the_idle_time():
    session = new_session(PLANNER, T0)
    assert not is_expired(session, T0 + timedelta(minutes=29, seconds=59), idle_minutes=30)
    assert is_expired(session, T0 + timedelta(minutes=30), idle_minutes=30)
    touched = touch(session, T0 + timedelta(minutes=20))
    assert touched.started == T0 and touched.last_seen == T0 + timedelta(minutes=20)
    assert not is_expired(touched, T0 + timedelta(minutes=49), idle_minutes=30)
    assert touch(touched, T0).last_seen == touched.last_seen  # never moves backwards
    with pytest.raises(ParameterError):
        is_expired(session, T0, idle_minutes=0)


def test_sign_in_and_out_are_audited_without_the_password(store: UserStore, tmp_path: Path):
    log = AuditLog(tmp_path / "audit.jsonl")
    session = sign_in(store, log, "lan", GOOD, T0)
    assert session.user.operator == "Viettel" and session.started == T0
    sign_out(session, log, T0 + timedelta(minutes=5))
    with pytest.raises(AuthenticationError, match=WRONG_CREDENTIALS):
        sign_in(store, log, "nobody", GOOD, T0)
    for _ in range(4):
        with pytest.raises(AuthenticationError, match=WRONG_CREDENTIALS):
            sign_in(store, log, "lan", BAD, T0)
    with pytest.raises(AccountLockedError, match="locked until") as info:
        sign_in(store, log, "lan", BAD, T0)
    assert info.value.until == T0 + timedelta(minutes=15)
    with pytest.raises(AccountLockedError):
        sign_in(store, log, "lan", GOOD, T0 + timedelta(minutes=1))
    events = [e.event for e in log.entries()]
    assert events == ["sign_in", "sign_out"] + ["sign_in_failed"] * 6 + ["account_locked", "sign_in_failed"]
    failed = list(log.entries(event=AuditEvent.SIGN_IN_FAILED))
    assert (failed[0].user, failed[0].role, failed[0].details) == (
        UNKNOWN_NAME,
        None,
        {"reason": "unknown name"},
    )
    assert (failed[1].user, failed[1].role, failed[1].details) == (
        "lan",
        "partner",
        {"reason": "wrong password"},
    )
    assert failed[-1].details == {"reason": "account locked"}
    (locked,) = log.entries(event=AuditEvent.ACCOUNT_LOCKED)
    assert locked.details == {"until": "2026-11-25T08:15:00+00:00", "after_failures": 5}
    text = (tmp_path / "audit.jsonl").read_text()
    assert GOOD not in text and BAD not in text and "argon2" not in text and "nobody" not in text


def test_refresh_follows_the_users_file(store: UserStore):
    session = new_session(store.get("lan"), T0)
    assert refresh(session, store) is session
    store.remove("lan")
    store.add("lan", Role.PLANNER, GOOD)
    assert refresh(session, store) == replace(session, user=User("lan", Role.PLANNER))
    store.remove("lan")
    assert refresh(session, store) is None


# ---------------------------------------------------------------- configuration


def test_paths_come_from_the_environment(tmp_path: Path):
    assert users_path({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "phusong" / "users.json"
    assert audit_path({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "phusong" / "audit.jsonl"
    env = {"PHUSONG_USERS": str(tmp_path / "a" / "u.json")}
    assert users_path(env) == tmp_path / "a" / "u.json"
    assert audit_path(env) == tmp_path / "a" / "audit.jsonl"
    assert audit_path({**env, "PHUSONG_AUDIT": str(tmp_path / "x.jsonl")}) == tmp_path / "x.jsonl"


def test_settings_from_auth_toml_then_environment(tmp_path: Path):
    env = {"PHUSONG_USERS": str(tmp_path / "users.json")}
    assert load_settings(env) == AuthSettings()
    (tmp_path / "auth.toml").write_text(
        'idle_minutes = 10\nlock_minutes = 60\n[oidc]\nroles_claim = "groups"\n', encoding="utf-8"
    )
    settings = load_settings(env)
    assert (settings.idle_minutes, settings.max_failures, settings.lock_minutes) == (10, 5, 60)
    assert settings.claims.roles_claim == "groups"
    settings = load_settings({**env, "PHUSONG_MAX_FAILURES": "3", "PHUSONG_IDLE_MINUTES": "45"})
    assert (settings.idle_minutes, settings.max_failures) == (45, 3)
    with pytest.raises(ParameterError, match="PHUSONG_LOCK_MINUTES"):
        load_settings({**env, "PHUSONG_LOCK_MINUTES": "soon"})
    with pytest.raises(ParameterError, match="out of range"):
        load_settings({**env, "PHUSONG_MAX_FAILURES": "0"})
    (tmp_path / "auth.toml").write_text("[argon2]\nmemory_kib = 8\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="memory_kib"):
        load_settings(env)
    (tmp_path / "auth.toml").write_text("idle = 3\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="unknown key"):
        load_settings(env)


# ---------------------------------------------------------------- CLI


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PHUSONG_USERS in tmp_path, audit beside it, cheap (but valid) argon2 settings."""
    folder = tmp_path / "cfg"
    folder.mkdir()
    (folder / "auth.toml").write_text("[argon2]\ntime_cost = 1\nmemory_kib = 19456\nparallelism = 1\n")
    monkeypatch.setenv("PHUSONG_USERS", str(folder / "users.json"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    for var in ("PHUSONG_AUDIT", "PHUSONG_AUTH_CONFIG", "PHUSONG_IDLE_MINUTES", "PHUSONG_MAX_FAILURES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("PHUSONG_LOCK_MINUTES", raising=False)
    return folder / "users.json"


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_cli_add_with_password_stdin_then_list(cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    _stdin(monkeypatch, GOOD + "\n")
    assert (
        main(["users", "add", "Lan", "--role", "partner", "--operator", "viettel", "--password-stdin"]) == 0
    )
    _stdin(monkeypatch, GOOD + "\n")
    assert main(["users", "add", "an", "--role", "admin", "--password-stdin"]) == 0
    capsys.readouterr()
    assert main(["users", "list"]) == 0
    out = capsys.readouterr().out
    assert "lan" in out and "partner" in out and "Viettel" in out and "an " in out and "admin" in out
    assert "argon2" not in out and "$" not in out and GOOD not in out
    assert _store(cli_env).authenticate("lan", GOOD, T0).ok
    assert stat.S_IMODE(cli_env.stat().st_mode) == 0o600
    audit = list(AuditLog(cli_env.parent / "audit.jsonl").entries())
    assert [e.event for e in audit] == ["user_added", "user_added"]
    assert audit[0].user.startswith("cli:") and audit[0].details["account"] == "lan"
    assert GOOD not in (cli_env.parent / "audit.jsonl").read_text()


def test_cli_has_no_way_to_pass_a_password_in_argv(cli_env: Path, capsys):
    import re

    with pytest.raises(SystemExit) as info:
        main(["users", "add", "an", "--role", "admin", "--password", GOOD])
    assert info.value.code == 2
    for action in ("add", "set-password"):
        with pytest.raises(SystemExit):
            main(["users", action, "--help"])
        help_text = capsys.readouterr().out
        assert "--password-stdin" in help_text
        assert not re.search(r"--pass(?!word-stdin)|--pw|-p\b", help_text)
    assert not cli_env.exists()


def test_cli_prompts_twice(cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    answers = iter([GOOD, GOOD])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["users", "add", "an", "--role", "admin"]) == 0
    typed = iter(["one password", "another one"] * 3)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    assert main(["users", "set-password", "an"]) == 2
    assert "did not match" in capsys.readouterr().err
    assert _store(cli_env).authenticate("an", GOOD, T0).ok


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["users", "add", "x", "--role", "boss", "--password-stdin"], "not a role"),
        (["users", "add", "x", "--role", "partner", "--password-stdin"], "needs --operator"),
        (["users", "add", "x", "--role", "planner", "--operator", "Viettel", "--password-stdin"], "only for"),
        (["users", "add", "x", "--role", "partner", "--operator", "Acme", "--password-stdin"], "not a known"),
        (["users", "remove", "nobody"], "no user 'nobody'"),
        (["users", "set-password", "nobody", "--password-stdin"], "no user 'nobody'"),
    ],
)
def test_cli_user_errors_exit_2(cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys, argv, message):
    _stdin(monkeypatch, GOOD + "\n")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_cli_remove_and_set_password(cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    _stdin(monkeypatch, GOOD + "\n")
    assert main(["users", "add", "minh", "--role", "planner", "--password-stdin"]) == 0
    _stdin(monkeypatch, GOOD + "\n")
    assert main(["users", "add", "MINH", "--role", "admin", "--password-stdin"]) == 2
    assert "already exists" in capsys.readouterr().err
    _stdin(monkeypatch, "short\n")
    assert main(["users", "set-password", "minh", "--password-stdin"]) == 2
    assert "too short" in capsys.readouterr().err
    _stdin(monkeypatch, "a new pass phrase\n")
    assert main(["users", "set-password", "minh", "--password-stdin"]) == 0
    assert _store(cli_env).authenticate("minh", "a new pass phrase", T0).ok
    assert main(["users", "remove", "minh"]) == 0
    capsys.readouterr()
    assert main(["users", "list"]) == 0
    assert "no accounts" in capsys.readouterr().out
    events = [e.event for e in AuditLog(cli_env.parent / "audit.jsonl").entries()]
    assert events == ["user_added", "password_set", "user_removed"]


def test_cli_list_without_a_users_file(cli_env: Path, capsys):
    assert main(["users", "list"]) == 0
    assert "demo mode" in capsys.readouterr().out
    assert not cli_env.exists()


def test_cli_users_option_puts_the_audit_log_beside_that_file(
    cli_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    other = tmp_path / "elsewhere" / "accounts.json"
    (other.parent).mkdir()
    (other.parent / "auth.toml").write_text("[argon2]\ntime_cost = 1\nmemory_kib = 19456\nparallelism = 1\n")
    _stdin(monkeypatch, GOOD + "\n")
    assert (
        main(["users", "--users", str(other), "add", "hung", "--role", "leadership", "--password-stdin"]) == 0
    )
    assert [u.name for u in _store(other).list_users()] == ["hung"]
    assert "m=19456,t=1,p=1" in other.read_text()
    assert [e.event for e in AuditLog(other.parent / "audit.jsonl").entries()] == ["user_added"]
    assert not cli_env.exists() and not (cli_env.parent / "audit.jsonl").exists()
