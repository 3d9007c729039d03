"""Settings: gap thresholds, fibre reach distances and KPI targets, official values, and the basemap.

A planner's changes apply to this session only (``settings_params`` / ``settings_targets``); the
page's "back to the official values" drops them. An admin publishes the values the session uses as
the official ones (:func:`publish_official`), or restores earlier official values
(:func:`restore_official`): both re-check ``publish_settings`` on the server and are audited.
Official values live in ``DATA_DIR/settings/official.json`` (:mod:`geo.settings_store`), versioned
apart from the package data: publishing never changes the package version.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import streamlit as st

from analysis.kpi import KpiTargets, targets_from_gap_params
from analysis.params import GapParams, default_gap_params
from analysis.published import Published, published_document, published_from_document
from auth.audit import AuditEvent
from auth.roles import Permission, allowed
from auth.users import User, as_utc
from geo.errors import NotPermittedError, PhuSongError
from geo.settings_store import OFFICIAL_FILE, publish_settings, restore_settings, settings_versions
from geo.store import SETTINGS_DIR, VersionInfo, version_files
from layers.i18n import Lang, format_date, t
from layers.map import tiles_from_setting
from views import access, common

BASES = ("national_target", "province_average", "lower_of_both")
#: Session-state keys of this session's own values and of the form's widgets.
SESSION_KEYS = (
    "settings_params",
    "settings_targets",
    "settings_ftth",
    "settings_phone",
    "settings_basis",
    "settings_drop",
    "settings_ext",
    "settings_t4g",
    "settings_tno4g",
    "settings_tfib",
)
MESSAGE_KEY = "settings_message"


# --------------------------------------------------------------------------- official values


def _base() -> tuple[GapParams, KpiTargets]:
    """The values a session starts from: the official ones, else the defaults."""
    official = common.official_settings().published
    if official is not None:
        return official.params, official.targets
    defaults = default_gap_params()
    return defaults, targets_from_gap_params(defaults)


def _flat(values: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(values, dict):
        out: dict[str, Any] = {}
        for key, value in values.items():
            out.update(_flat(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: values}


def _changes(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """Values that differ (dotted names, old and new), for the audit log."""
    before = _flat(json.loads(json.dumps(old)))
    after = _flat(json.loads(json.dumps(new)))
    return [
        {"name": name, "old": before.get(name), "new": after.get(name)}
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    ]


def _document(published: Published | None) -> dict[str, Any]:
    if published is None:
        return published_document(*_defaults())
    return published_document(published.params, published.targets)


def _defaults() -> tuple[GapParams, KpiTargets]:
    defaults = default_gap_params()
    return defaults, targets_from_gap_params(defaults)


def _admin() -> User:
    """The current user if they may publish (re-checked here, on the server; refusals audited)."""
    user = access.require(Permission.PUBLISH_SETTINGS)
    if user is None:  # pragma: no cover - require refuses nobody-signed-in already
        raise NotPermittedError("sign in to publish", str(Permission.PUBLISH_SETTINGS))
    return user


def publish_official(params: GapParams, targets: KpiTargets) -> str:
    """Publish ``params`` and ``targets`` as the official values of the current package.

    Checks ``publish_settings`` on the server first (a planner calling this is refused and the
    refusal audited), then writes a new version of ``settings/official.json`` with the admin's name
    and one ``thresholds_published`` audit entry listing what changed (names, old and new values).

    Returns
    -------
    str
        The version of the new official values.

    Raises
    ------
    NotPermittedError
        The user may not publish (nothing is written).
    PhuSongError
        The values could not be published.
    """
    user = _admin()
    before = common.official_settings().published
    document = published_document(params, targets)
    saved = publish_settings(common.data_root(), document, user=user.name)
    after = common.official_settings()
    access.audit_log().append(
        AuditEvent.THRESHOLDS_PUBLISHED,
        user,
        {
            "changes": _changes(_document(before), document),
            "version": after.version,
            "saved_version": saved.version_id,
        },
    )
    return after.version


def restore_official(version_id: str) -> str:
    """Bring the official values back to how they were just before change ``version_id``.

    Checks ``publish_settings`` on the server first, then restores and writes one
    ``version_restored`` audit entry (``layer`` "settings", what changed).

    Returns
    -------
    str
        The version of the restored official values ("" when the restore removed them: defaults).

    Raises
    ------
    NotPermittedError
        The user may not restore (nothing is changed).
    PhuSongError
        The version is unknown, or already the official values.
    """
    user = _admin()
    before = common.official_settings().published
    saved = restore_settings(common.data_root(), version_id)
    after = common.official_settings()
    access.audit_log().append(
        AuditEvent.VERSION_RESTORED,
        user,
        {
            "layer": "settings",
            "version": version_id,
            "changes": _changes(_document(before), _document(after.published)),
            "official_version": after.version,
            "saved_version": saved.version_id,
        },
    )
    return after.version


def _when(utc: str, lang: Lang) -> str:
    """An ISO UTC time as a date and Vietnam time."""
    try:
        local = as_utc(datetime.fromisoformat(utc)).astimezone(access.LOCAL_TZ)
    except (TypeError, ValueError):
        return utc
    return f"{format_date(local, lang)} {local:%H:%M}"


def _forget_session_values() -> None:
    for key in SESSION_KEYS:
        st.session_state.pop(key, None)


def _done(message: str) -> None:
    """Follow the official values in this session, keep ``message`` for the next run and rerun."""
    _forget_session_values()
    st.session_state.pop("settings_publish_confirm", None)
    st.session_state[MESSAGE_KEY] = message
    st.rerun()


def _status(lang: Lang) -> None:
    official = common.official_settings()
    if official.error:
        common.official_error_shown(official)  # shown here on every run, not again by gap_params()
        st.error(f"{t('set.official_damaged', lang)}: {common.plain_text(official.error)}")
    elif official.published is None:
        st.info(t("set.no_official", lang))
    else:
        p = official.published
        st.info(
            t(
                "set.official",
                lang,
                name=common.plain_text(p.published_by),
                when=_when(p.published_utc, lang),
                version=official.version,
            )
        )


def _publish(lang: Lang) -> None:
    st.subheader(t("set.publish_header", lang))
    st.caption(t("set.publish_help", lang))
    confirmed = st.checkbox(t("set.publish_confirm", lang), key="settings_publish_confirm")
    if not st.button(t("set.publish", lang), key="settings_publish", disabled=not confirmed, type="primary"):
        return
    official = common.official_settings().published
    params, targets = common.gap_params(), common.kpi_targets()
    if official is not None and (official.params, official.targets) == (params, targets):
        st.info(t("set.publish_same", lang))
        return
    try:
        version = publish_official(params, targets)
    except PhuSongError as exc:
        st.error(f"{t('set.publish_failed', lang)}: {common.plain_text(exc)}")
        return
    user = access.current_user()
    _done(t("set.published_ok", lang, name=common.plain_text(user.name if user else ""), version=version))


def _state_label(data: bytes | None, lang: Lang) -> str:
    """What restoring a version brings back: the official values it kept, or none (the defaults)."""
    if data is None:
        return t("set.state_defaults", lang)
    version = hashlib.sha256(data).hexdigest()[:12]
    try:
        doc = json.loads(data.decode("utf-8"))
        published = published_from_document(doc)
    except (ValueError, TypeError, AttributeError, PhuSongError):
        return version
    return t(
        "set.state_published",
        lang,
        name=published.published_by,
        when=_when(published.published_utc, lang),
        version=version,
    )


def _history(lang: Lang) -> None:
    root = common.data_root()
    try:
        versions: list[VersionInfo] = settings_versions(root)
        kept = {
            v.version_id: version_files(root / SETTINGS_DIR, v.version_id).get(OFFICIAL_FILE)
            for v in versions
        }
    except (PhuSongError, OSError) as exc:
        st.error(common.plain_text(exc))
        return
    st.subheader(t("set.history", lang))
    if not versions:
        st.caption(t("set.history_none", lang))
        return
    labels = {v.version_id: _state_label(kept[v.version_id], lang) for v in versions}
    replaced = {v.version_id: _when(v.created, lang) for v in versions}
    st.dataframe(
        [
            {
                t("set.hist_values", lang): labels[v.version_id],
                t("set.hist_replaced", lang): replaced[v.version_id],
                t("set.hist_by", lang): (
                    t("set.change_restore", lang)
                    if v.action == "restore"
                    else t("set.change_publish", lang, name=v.source)
                ),
            }
            for v in versions
        ],
        hide_index=True,
    )
    if not allowed(access.current_user(), Permission.PUBLISH_SETTINGS):
        return
    chosen = st.selectbox(
        t("set.restore_choice", lang),
        list(labels),
        key=f"settings_restore_version_{lang}",  # labels are in the language: a fresh widget per language
        format_func=lambda vid: f"{labels[vid]} — {t('set.hist_replaced', lang)} {replaced[vid]}",
    )
    if st.button(t("set.restore", lang), key="settings_restore"):
        try:
            version = restore_official(chosen)
        except PhuSongError as exc:
            st.error(f"{t('set.restore_failed', lang)}: {common.plain_text(exc)}")
            return
        _done(t("set.restored_ok", lang, version=version or "—"))


# --------------------------------------------------------------------------- session values


def _percent(label: str, value: float, key: str) -> float:
    return st.slider(label, 0, 100, int(round(100 * value)), step=1, format="%d%%", key=key) / 100.0


def _form(lang: Lang) -> None:
    params, targets = common.gap_params(), common.kpi_targets()
    with st.form("settings_form"):
        st.subheader(t("set.thresholds", lang))
        ftth = _percent(t("set.ftth", lang), params.thresholds.ftth_min_share, "settings_ftth")
        phone = _percent(t("set.smartphone", lang), params.thresholds.smartphone_min_share, "settings_phone")
        basis = st.selectbox(
            t("set.basis", lang),
            BASES,
            index=BASES.index(params.thresholds.basis),
            format_func=lambda b: t(f"basis.{b}", lang),
            key="settings_basis",
        )
        st.subheader(t("set.fibre", lang))
        drop = st.number_input(
            t("set.drop_m", lang),
            100.0,
            20_000.0,
            float(params.reach.drop_reach_m),
            100.0,
            key="settings_drop",
            format="%.0f",
        )
        ext = st.number_input(
            t("set.extendable_m", lang),
            100.0,
            50_000.0,
            float(params.reach.extendable_m),
            500.0,
            key="settings_ext",
            format="%.0f",
        )
        st.subheader(t("set.targets", lang))
        good4g = _percent(t("ind.good_4g", lang), targets.good_4g_household_share, "settings_t4g")
        no4g = _percent(t("set.no_4g", lang), targets.no_4g_household_share, "settings_tno4g")
        fibre_communes = _percent(
            t("set.communes_fibre", lang), targets.communes_fibre_share, "settings_tfib"
        )
        if st.form_submit_button(t("set.apply", lang), type="primary"):
            try:
                new = params.with_overrides(
                    thresholds=params.thresholds.with_overrides(
                        ftth_min_share=ftth, smartphone_min_share=phone, basis=basis
                    ),
                    reach=params.reach.with_overrides(drop_reach_m=drop, extendable_m=ext),
                )
                base = KpiTargets(
                    good_4g_household_share=good4g,
                    no_4g_household_share=no4g,
                    communes_fibre_share=fibre_communes,
                )
                st.session_state["settings_params"] = new
                st.session_state["settings_targets"] = targets_from_gap_params(new, base=base)
                st.success(t("set.applied_session", lang))
            except PhuSongError as exc:
                st.error(str(exc))


def _basemap(lang: Lang) -> None:
    st.subheader(t("map.basemap", lang))
    current = st.session_state.get("app_tiles") or ""
    value = st.text_input(
        t("map.basemap_url", lang),
        value=current,
        help=t("map.basemap_url_help", lang),
        key="settings_tiles",
        placeholder="none",
    )
    try:
        source = tiles_from_setting(value)
    except PhuSongError as exc:
        st.error(str(exc))
        return
    st.session_state["app_tiles"] = value.strip()
    st.caption(
        t("map.basemap_none", lang)
        if source.is_offline
        else common.plain_text(f"{source.url} — {source.attribution}")
    )


def render() -> None:
    """Page function: settings."""
    lang = common.lang()
    access.require_page("settings", t("auth.not_permitted", lang))
    st.title(t("page.settings", lang))
    message = st.session_state.pop(MESSAGE_KEY, None)
    if message:
        st.success(message)
    _status(lang)
    st.caption(t("set.session_only", lang))
    _form(lang)
    official = common.official_settings().published is not None
    if st.button(t("set.back_official" if official else "set.reset", lang), key="settings_reset"):
        _forget_session_values()
        st.rerun()
    params, targets = _base()
    changed = common.gap_params() != params or common.kpi_targets() != targets
    st.caption(
        t("set.session_changed" if changed else "set.using_official" if official else "set.defaults", lang)
    )
    if allowed(access.current_user(), Permission.PUBLISH_SETTINGS):
        _publish(lang)
    _history(lang)
    _basemap(lang)
