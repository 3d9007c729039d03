"""PhuSong Streamlit app: ``make run`` (or ``python -m cli.serve``; see docs/ACCESS.md).

Pages are plain functions in ``views/``; this file only sets up the shell (language switch, who is
signed in, navigation) and runs the selected page. Page modules are imported when first shown, so
the planners' map does not wait for the report and export libraries.

How the app runs is decided first (:func:`views.access.mode`):

* refused (no users file, served beyond localhost): the reason, and nothing else;
* demo mode (no users file, localhost): a banner and every page, as before accounts existed;
* nobody signed in: the sign-in page, at every url (a deep link shows the sign-in, never the page,
  and opens the page after signing in);
* signed in: the pages of the user's role (:func:`auth.roles.visible_pages`). The other pages
  stay registered but hidden, and refuse on the server ("not permitted") when reached by a deep
  link, without importing their module.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import streamlit as st

from auth.roles import visible_pages
from auth.startup import DemoMode, Refusal
from auth.users import User
from geo.errors import PhuSongError
from layers.i18n import Lang, t
from views import access, common, signin

ICON = Path(__file__).resolve().parent / "layers" / "assets" / "phusong-icon.png"

#: Page name (:data:`auth.roles.PAGES`, also its url) -> (module in ``views/``, title key, icon), in
#: navigation order. tests/test_access_pages.py checks that both name the same pages.
PAGES: dict[str, tuple[str, str, str]] = {
    "map": ("planners", "page.map", ":material/map:"),
    "scenarios": ("scenarios", "page.scenarios", ":material/science:"),
    "downloads": ("downloads", "page.downloads", ":material/download:"),
    "snapshot": ("snapshot", "page.snapshot", ":material/monitoring:"),
    "settings": ("settings", "page.settings", ":material/tune:"),
    "upload": ("upload", "page.upload", ":material/upload_file:"),
    "audit": ("admin_audit", "page.audit", ":material/history:"),
    "users": ("admin_users", "page.users", ":material/manage_accounts:"),
}
#: Url of the sign-in page (the default page while nobody is signed in).
SIGNIN_URL = "signin"


def _lazy(module: str) -> Callable[[], None]:
    """The ``render`` page function of ``views.<module>``, imported on first use."""

    def page() -> None:
        importlib.import_module(f"views.{module}").render()

    page.__name__ = f"page_{module}"
    return page


def _refused(name: str) -> Callable[[], None]:
    """A page function that refuses ``name`` on the server (audited) and runs nothing of it."""

    def page() -> None:
        access.require_page(name, t("auth.not_permitted", common.lang()))

    page.__name__ = f"refused_{name}"
    return page


def _page(
    name: str,
    lang: Lang,
    *,
    run: Callable[[], None] | None = None,
    title: str = "",
    default: bool = False,
    hidden: bool = False,
) -> st.Page:
    module, title_key, icon = PAGES[name]
    return st.Page(
        run or _lazy(module),
        title=title or t(title_key, lang),
        url_path=name,
        icon=icon,
        default=default,
        visibility="hidden" if hidden else "visible",
    )


def _stop(*messages: str) -> NoReturn:
    st.error(messages[0])
    for message in messages[1:]:
        st.code(message, language=None)
    st.stop()


def _signed_in(user: User, lang: Lang) -> list[st.Page]:
    """The user's pages, then the others hidden and refusing, then ``/signin`` leading home."""
    allowed = set(visible_pages(user))
    shown = [name for name in PAGES if name in allowed]
    if not shown:  # every role opens at least one page; refuse rather than guess
        _stop(t("auth.not_permitted", lang))
    pages = [_page(name, lang, default=name == shown[0]) for name in shown]
    pages += [_page(name, lang, run=_refused(name), hidden=True) for name in PAGES if name not in allowed]
    home = pages[0]

    def signed_in() -> None:  # the sign-in url after signing in: the user's first page
        st.switch_page(home)

    pages.append(st.Page(signed_in, title=t("page.signin", lang), url_path=SIGNIN_URL, visibility="hidden"))
    return pages


def navigation(lang: Lang) -> tuple[list[st.Page], bool]:
    """The pages of this session and whether the navigation menu is shown."""
    try:
        current = access.mode()
        if isinstance(current, Refusal):
            _stop(t("auth.no_start", lang), current.message)
        if isinstance(current, DemoMode):
            if not access.local_client():
                _stop(t("auth.demo_remote", lang))
            st.warning(t("auth.demo_banner", lang), icon=":material/warning:")
            return [_page(name, lang, default=i == 0) for i, name in enumerate(PAGES)], True
        user = access.current_user()
    except PhuSongError as exc:  # damaged users file, invalid auth.toml
        _stop(t("auth.config_error", lang), str(exc))
    if user is None:
        signin_page, title = _lazy("signin"), t("page.signin", lang)
        first = st.Page(signin_page, title=title, url_path=SIGNIN_URL, default=True, icon=":material/login:")
        hidden = [_page(name, lang, run=signin_page, title=title, hidden=True) for name in PAGES]
        return [first, *hidden], False
    signin.sidebar(user, lang)
    return _signed_in(user, lang), True


# A local icon: Streamlit fetches Material-icon and emoji favicons from the internet.
st.set_page_config(page_title="PhuSong", page_icon=str(ICON), layout="wide")

lang = common.language_selector()
pages, menu = navigation(lang)
st.navigation(pages, position="sidebar" if menu else "hidden").run()
