"""Users page (admins): list the accounts; add, remove, unlock, reset a password.

Every action re-checks :attr:`auth.roles.Permission.MANAGE_USERS` on the server and is written to
the audit log (``user_added``, ``user_removed``, ``user_unlocked``, ``password_set``, with the
account's name and role, never a password). Forms run their action in a callback, before the page
is drawn again, and empty the password fields there: a password stays in no session state and is
never sent back to the browser.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from auth.audit import AuditEvent
from auth.roles import Permission, Role
from auth.users import User, UserStore, utc_now
from geo.errors import PhuSongError
from geo.schema import Operator
from layers.i18n import Lang, t
from views import access, common

ROLES = tuple(r.value for r in Role)
OPERATORS = ("", *(o.value for o in Operator))
#: Result of the last action: (ok, message), shown once at the top of the page.
RESULT_KEY = "users_result"
PASSWORD_KEYS = ("users_add_password", "users_add_repeat", "users_reset_password", "users_reset_repeat")
#: Select boxes whose labels are translated (re-set on a language change).
TRANSLATED = ("users_add_role",)


class _Refused(PhuSongError):
    """An action the page itself turns down (message already translated)."""


def _lang() -> Lang:
    return common.lang()


def _action(run: Callable[[UserStore, User | None, Lang], str]) -> Callable[[], None]:
    """Wrap a form action: permission check, run, keep the message, forget every password typed."""

    def callback() -> None:
        lang = _lang()
        try:
            admin = access.require(Permission.MANAGE_USERS)
            st.session_state[RESULT_KEY] = (True, run(access.user_store(), admin, lang))
        except _Refused as exc:
            st.session_state[RESULT_KEY] = (False, str(exc))
        except PhuSongError as exc:
            st.session_state[RESULT_KEY] = (False, f"{t('usr.failed', lang)}: {exc}")
        finally:
            for key in PASSWORD_KEYS:
                st.session_state[key] = ""

    return callback


def _passwords(first: str, second: str, lang: Lang) -> str:
    password = str(st.session_state.get(first) or "")
    if password != str(st.session_state.get(second) or ""):
        raise _Refused(t("usr.mismatch", lang))
    return password


def _add(store: UserStore, admin: User | None, lang: Lang) -> str:
    password = _passwords("users_add_password", "users_add_repeat", lang)
    role = str(st.session_state.get("users_add_role") or "")
    operator = str(st.session_state.get("users_add_operator") or "") or None
    if (role == Role.PARTNER.value) != (operator is not None):
        raise _Refused(t("usr.operator_rule", lang))
    user = store.add(str(st.session_state.get("users_add_name") or ""), role, password, operator=operator)
    details = {"account": user.name, "account_role": user.role, "operator": user.operator}
    access.audit_log().append(AuditEvent.USER_ADDED, admin, details)
    st.session_state["users_add_name"] = ""
    return t("usr.added", lang, name=user.name)


def _remove(store: UserStore, admin: User | None, lang: Lang) -> str:
    confirmed = bool(st.session_state.get("users_remove_confirm"))
    st.session_state["users_remove_confirm"] = False  # each removal is confirmed on its own
    if not confirmed:
        raise _Refused(t("usr.not_confirmed", lang))
    user = store.get(str(st.session_state.get("users_remove_name") or ""))
    if admin is not None and user.name == admin.name:
        raise _Refused(t("usr.not_self", lang))
    admins = [u for u in store.list_users() if u.role is Role.ADMIN]
    if user.role is Role.ADMIN and len(admins) <= 1:
        raise _Refused(t("usr.last_admin", lang))
    store.remove(user.name)
    access.audit_log().append(
        AuditEvent.USER_REMOVED, admin, {"account": user.name, "account_role": user.role}
    )
    return t("usr.removed", lang, name=user.name)


def _unlock(store: UserStore, admin: User | None, lang: Lang) -> str:
    user = store.unlock(str(st.session_state.get("users_unlock_name") or ""))
    access.audit_log().append(AuditEvent.USER_UNLOCKED, admin, {"account": user.name})
    return t("usr.unlocked", lang, name=user.name)


def _reset(store: UserStore, admin: User | None, lang: Lang) -> str:
    password = _passwords("users_reset_password", "users_reset_repeat", lang)
    user = store.set_password(str(st.session_state.get("users_reset_name") or ""), password, now=utc_now())
    access.audit_log().append(AuditEvent.PASSWORD_SET, admin, {"account": user.name})
    return t("usr.reset_done", lang, name=user.name)


def _table(users: list[User], lang: Lang) -> None:
    if not users:
        st.info(t("usr.none", lang))
        return
    now = utc_now()
    rows = [
        {
            t("usr.col_name", lang): u.name,
            t("usr.col_role", lang): t(f"role.{u.role.value}", lang),
            t("usr.col_operator", lang): u.operator or "",
            t("usr.col_locked", lang): (
                access.local_time(u.locked_until, "%Y-%m-%d %H:%M")
                if u.locked_until is not None and u.is_locked(now)
                else ""
            ),
            t("usr.col_failures", lang): u.failed_attempts,
        }
        for u in users
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def _password_inputs(lang: Lang, first: str, second: str) -> None:
    st.text_input(t("usr.password", lang), key=first, type="password", autocomplete="new-password")
    st.text_input(t("usr.repeat", lang), key=second, type="password", autocomplete="new-password")


def _forms(users: list[User], lang: Lang) -> None:
    names = [u.name for u in users]
    st.subheader(t("usr.add", lang))
    with st.form("users_add_form"):
        st.text_input(t("usr.col_name", lang), key="users_add_name", max_chars=64, autocomplete="off")
        st.selectbox(
            t("usr.role", lang), ROLES, key="users_add_role", format_func=lambda r: t(f"role.{r}", lang)
        )
        st.selectbox(
            t("usr.operator", lang), OPERATORS, key="users_add_operator", format_func=lambda o: o or "—"
        )
        _password_inputs(lang, "users_add_password", "users_add_repeat")
        st.form_submit_button(t("usr.submit_add", lang), key="users_add_submit", on_click=_action(_add))
    if not names:
        return
    st.subheader(t("usr.reset", lang))
    with st.form("users_reset_form"):
        st.selectbox(t("usr.account", lang), names, key="users_reset_name")
        _password_inputs(lang, "users_reset_password", "users_reset_repeat")
        st.form_submit_button(t("usr.submit_reset", lang), key="users_reset_submit", on_click=_action(_reset))
    st.subheader(t("usr.unlock", lang))
    now = utc_now()
    locked = [u.name for u in users if u.is_locked(now) or u.failed_attempts]
    if locked:
        with st.form("users_unlock_form"):
            st.selectbox(t("usr.account", lang), locked, key="users_unlock_name")
            st.form_submit_button(
                t("usr.submit_unlock", lang), key="users_unlock_submit", on_click=_action(_unlock)
            )
    else:
        st.caption(t("usr.no_locked", lang))
    st.subheader(t("usr.remove", lang))
    with st.form("users_remove_form"):
        st.selectbox(t("usr.account", lang), names, key="users_remove_name")
        st.checkbox(t("usr.confirm", lang), key="users_remove_confirm")
        st.form_submit_button(
            t("usr.submit_remove", lang), key="users_remove_submit", on_click=_action(_remove)
        )


def render() -> None:
    """Page function: the accounts and what an admin can do with them."""
    lang = common.lang()
    access.require_page("users", t("auth.not_permitted", lang))
    st.title(t("page.users", lang))
    st.caption(t("usr.intro", lang))
    if st.session_state.get("users_lang") != lang:  # relabel the translated select boxes
        for key in TRANSLATED:
            if key in st.session_state:
                st.session_state[key] = st.session_state[key]
        st.session_state["users_lang"] = lang
    ok, message = st.session_state.pop(RESULT_KEY, (None, ""))
    if ok is not None:
        (st.success if ok else st.error)(common.plain_text(message))
    store = access.user_store()
    if access.is_demo():
        st.info(t("usr.demo_note", lang))
    try:
        users = store.list_users()
    except PhuSongError as exc:
        st.error(f"{t('auth.config_error', lang)}: {common.plain_text(exc)}")
        return
    _table(users, lang)
    _forms(users, lang)
