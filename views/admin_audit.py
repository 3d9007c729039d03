"""Audit log page (admins): the entries newest first, filtered by event, user and date; download.

Times are shown in Vietnam time (UTC+7) and dates filter on it; the log itself and the download
keep UTC. The download is the filtered entries as JSON lines, in the log's own order (oldest
first), and is itself written to the audit log (:func:`views.access.record_download`).
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import streamlit as st

from auth.audit import AuditEntry, AuditEvent
from geo.errors import PhuSongError
from layers.i18n import STRINGS, Lang, t
from views import access, common

#: At most this many entries are drawn in the table (the download holds every filtered one).
MAX_ROWS = 1000
#: Select boxes whose labels are translated (re-set on a language change).
TRANSLATED = ("audit_event", "audit_user")


def _event_label(event: str | None, lang: Lang) -> str:
    if event is None:
        return t("aud.all", lang)
    return t(f"ev.{event}", lang) if f"ev.{event}" in STRINGS else event


def _role_label(role: str | None, lang: Lang) -> str:
    return t(f"role.{role}", lang) if role and f"role.{role}" in STRINGS else (role or "")


def _local_date(entry: AuditEntry) -> dt.date:
    return entry.ts.astimezone(access.LOCAL_TZ).date()


def filter_entries(
    entries: list[AuditEntry],
    event: str | None = None,
    user: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> list[AuditEntry]:
    """The entries of ``event`` by ``user`` between the local dates ``since`` and ``until`` (inclusive).

    None does not filter; the order is kept.
    """
    return [
        e
        for e in entries
        if (event is None or e.event == event)
        and (user is None or e.user == user)
        and (since is None or _local_date(e) >= since)
        and (until is None or _local_date(e) <= until)
    ]


def _table(entries: list[AuditEntry], lang: Lang) -> None:
    rows = [
        {
            f"{t('aud.col_time', lang)} (UTC+7)": access.local_time(e.ts, "%Y-%m-%d %H:%M:%S"),
            t("aud.col_event", lang): _event_label(e.event, lang),
            t("aud.col_user", lang): e.user,
            t("aud.col_role", lang): _role_label(e.role, lang),
            t("aud.col_details", lang): json.dumps(e.details, ensure_ascii=False, sort_keys=True)
            if e.details
            else "",
        }
        for e in entries
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def _record(rows: int, filters: dict[str, object]) -> None:
    """Download-button callback: audit the download of the audit log."""
    try:
        access.record_download("audit", "jsonl", rows, filters)
    except PhuSongError as exc:
        st.session_state["audit_error"] = str(exc)


def render() -> None:
    """Page function: the audit log."""
    lang = common.lang()
    access.require_page("audit", t("auth.not_permitted", lang))
    st.title(t("page.audit", lang))
    st.caption(t("aud.intro", lang))
    if st.session_state.get("audit_lang") != lang:  # relabel the translated select boxes
        for key in TRANSLATED:
            if key in st.session_state:
                st.session_state[key] = st.session_state[key]
        st.session_state["audit_lang"] = lang
    error = st.session_state.pop("audit_error", None)
    if error:
        st.error(common.plain_text(error))
    try:
        entries = list(access.audit_log().entries())
    except PhuSongError as exc:
        st.error(f"{t('aud.error', lang)}: {common.plain_text(exc)}")
        return
    known = [e.value for e in AuditEvent]
    events: list[str | None] = [None, *known, *sorted({e.event for e in entries} - set(known))]
    users: list[str | None] = [None, *sorted({e.user for e in entries})]
    left, middle, right_from, right_to = st.columns(4)
    event = left.selectbox(
        t("aud.event", lang), events, key="audit_event", format_func=lambda e: _event_label(e, lang)
    )
    user = middle.selectbox(
        t("aud.user", lang),
        users,
        key="audit_user",
        format_func=lambda u: t("aud.all", lang) if u is None else (u or "—"),
    )
    since = right_from.date_input(t("aud.from", lang), value=None, key="audit_from", format="DD/MM/YYYY")
    until = right_to.date_input(t("aud.to", lang), value=None, key="audit_to", format="DD/MM/YYYY")
    since = since if isinstance(since, dt.date) else None
    until = until if isinstance(until, dt.date) else None
    chosen = filter_entries(entries, event, user, since, until)
    newest = chosen[::-1][:MAX_ROWS]
    st.caption(t("aud.count", lang, shown=len(chosen), total=len(entries)))
    if not chosen:
        st.info(t("aud.empty", lang))
        return
    _table(newest, lang)
    if len(chosen) > MAX_ROWS:
        st.caption(t("aud.truncated", lang, n=MAX_ROWS))
    filters = {"event": event, "user": user, "from": since, "to": until}
    st.download_button(
        t("aud.download", lang),
        data="".join(e.to_json() + "\n" for e in chosen),
        file_name=f"phusong_audit_{dt.date.today().isoformat()}.jsonl",
        mime="application/x-ndjson",
        key="audit_download",
        on_click=_record,
        args=(len(chosen), {k: v for k, v in filters.items() if v is not None}),
        icon=":material/download:",
    )
