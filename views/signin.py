"""Sign-in page (name and password, Vietnamese or English) and the sidebar's sign-out button.

The form's button runs :func:`_submit` as a callback, before the page is drawn again: it signs in
with :func:`auth.signin.sign_in` (audited there), keeps the session in
``st.session_state[views.access.SESSION_KEY]`` and empties the password field, so the password
stays in no session state and is never sent back to the browser. The name field keeps what was
typed after a failure. An unknown name and a wrong password get the same message.
"""

from __future__ import annotations

import streamlit as st

from auth.roles import Role
from auth.signin import sign_in, sign_out
from auth.users import User
from geo.errors import AccountLockedError, AuthenticationError, PhuSongError
from layers.i18n import Lang, t
from views import access, common

NAME_KEY = "auth_name"
PASSWORD_KEY = "auth_password"
SUBMIT_KEY = "auth_submit"
SIGN_OUT_KEY = "auth_sign_out"
#: The outcome of the last attempt, for the page to show: (kind, locked-until HH:MM or "").
RESULT_KEY = "auth_result"


def _submit() -> None:
    """Form callback: sign in with what was typed, then forget the password."""
    name = str(st.session_state.get(NAME_KEY) or "").strip()
    password = str(st.session_state.get(PASSWORD_KEY) or "")
    st.session_state[PASSWORD_KEY] = ""
    if not name or not password:
        st.session_state[RESULT_KEY] = ("empty", "")
        return
    try:
        session = sign_in(access.user_store(), access.audit_log(), name, password)
    except AccountLockedError as exc:
        st.session_state[RESULT_KEY] = ("locked", access.local_time(exc.until))
        return
    except AuthenticationError:
        st.session_state[RESULT_KEY] = ("wrong", "")
        return
    except PhuSongError as exc:  # damaged users file, audit log not writable
        st.session_state[RESULT_KEY] = ("error", str(exc))
        return
    st.session_state.pop(access.NOTICE_KEY, None)
    st.session_state.pop(NAME_KEY, None)
    st.session_state[access.SESSION_KEY] = session


def _result(lang: Lang) -> None:
    kind, detail = st.session_state.pop(RESULT_KEY, ("", ""))
    if kind == "locked":
        st.error(t("auth.locked", lang, time=f"{detail} ({t('auth.time_zone', lang)}, UTC+7)"))
    elif kind == "wrong":
        st.error(t("auth.wrong", lang))
    elif kind == "empty":
        st.warning(t("auth.empty", lang))
    elif kind == "error":
        st.error(f"{t('auth.config_error', lang)}: {common.plain_text(detail)}")


def _notice(lang: Lang) -> None:
    notice = st.session_state.pop(access.NOTICE_KEY, None)
    if notice == "expired":
        st.info(t("auth.expired", lang, minutes=access.settings().idle_minutes))
    elif notice == "ended":
        st.warning(t("auth.ended", lang))
    elif notice == "signed_out":
        st.success(t("auth.signed_out", lang))


def render() -> None:
    """Page function: the sign-in form (every url shows it while nobody is signed in)."""
    lang = common.lang()
    st.title(t("page.signin", lang))
    _notice(lang)
    _result(lang)
    st.caption(t("auth.intro", lang))
    with st.form("auth_signin_form", enter_to_submit=True):
        st.text_input(t("auth.name", lang), key=NAME_KEY, max_chars=64, autocomplete="username")
        st.text_input(
            t("auth.password", lang),
            key=PASSWORD_KEY,
            type="password",
            max_chars=1024,
            autocomplete="current-password",
        )
        st.form_submit_button(t("auth.submit", lang), key=SUBMIT_KEY, type="primary", on_click=_submit)


def role_label(user: User, lang: Lang) -> str:
    """``planner`` / ``partner, Viettel``: the role (translated) and a partner's operator."""
    role = t(f"role.{Role(user.role).value}", lang)
    return f"{role}, {user.operator}" if user.operator else role


def _sign_out() -> None:
    """Sign-out callback: audit it, then drop the session and the user's session state."""
    session = st.session_state.get(access.SESSION_KEY)
    if session is not None:
        try:
            sign_out(session, access.audit_log())
        finally:
            access.end_session("signed_out")


def sidebar(user: User, lang: Lang) -> None:
    """The sidebar's "signed in as NAME (role[, operator])" and sign-out button."""
    st.sidebar.caption(
        t("auth.signed_in_as", lang, name=common.plain_text(user.name), role=role_label(user, lang))
    )
    st.sidebar.button(
        t("auth.sign_out", lang), key=SIGN_OUT_KEY, on_click=_sign_out, icon=":material/logout:"
    )
