"""Which dashboard pages each actor sees, and the address of each page.

Pages are offered by the capabilities of the actor's roles
(:data:`landgov.security.policy.CAPABILITIES`). A page the actor may not see is left out of
the navigation; the page itself checks again (:func:`app.shared.context.require`), so
reaching it anyway shows a refusal naming the rule.

Every page has its own stable address, named after what the officer calls it (``/disputes``,
not the folder ``cases``), and a page may keep what it shows in the query string
(``/disputes?case=12``). Two kinds of hidden page keep such an address working:

- an old address (:data:`ALIASES`: ``/cases``) redirects to the page's address, query
  string and all, instead of Streamlit's "page not found", which ran the first page
  (Parcels) under the wrong address;
- before sign-in, every staff address shows the sign-in page (:func:`sign_in_pages`), so a
  link or a reload (which starts a new, signed-out session: the token lives only in the
  session) keeps its address, and after sign-in the same address opens the page asked
  for: Streamlit names a page by the hash of its URL path, so the rerun after sign-in
  lands on the signed-in page of that path.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Final, NamedTuple

import streamlit as st

from app.shared import i18n
from landgov.security import Actor

# Not "pages/": Streamlit would take such a folder for an old-style multipage app and run
# a page without the entry script (and so without its sidebar) on some reruns.
VIEWS: Final = Path(__file__).resolve().parents[1] / "views"
"""One folder per page: ``<page>/view.py`` (the script) and ``<page>/data.py``."""
VIEW_FILE: Final = "view.py"

MUTATION_CAPABILITIES: Final = (
    "mutation.enter",
    "mutation.verify",
    "mutation.sanction",
    "mutation.reject",
)


class StaffPage(NamedTuple):
    """A page behind sign-in: its folder under :data:`VIEWS`, the catalogue key of its
    title in the navigation, the capabilities of which any one shows it, and its address
    (default: the folder's name). Code tells pages apart by :attr:`url_path`, never by
    the title, which is in the officer's language."""

    folder: str
    title_key: str
    icon: str
    capabilities: tuple[str, ...]
    address: str = ""

    @property
    def url_path(self) -> str:
        return self.address or self.folder

    def title(self, lang: str = i18n.DEFAULT) -> str:
        return i18n.t(self.title_key, lang)


PAGES: Final[tuple[StaffPage, ...]] = (
    StaffPage("parcels", "nav.parcels", "🗺️", ("records.read",)),
    StaffPage("mutations", "nav.mutations", "🖋️", MUTATION_CAPABILITIES),
    StaffPage("cases", "nav.disputes", "⚖️", ("case.read",), address="disputes"),
    StaffPage("valuation", "nav.valuation", "💰", ("valuation.read",)),
)
"""The staff pages in navigation order."""

ALIASES: Final = {"cases": "disputes"}
"""Old address → the page's address (``/cases`` was the Disputes page's until issue 19)."""

_BY_URL: Final = {p.url_path: p for p in PAGES}


def view_path(page: str) -> Path:
    """The script of the page at address ``page``, or in the folder ``page`` (the farmer's
    page has no entry in :data:`PAGES`)."""
    found = _BY_URL.get(ALIASES.get(page, page))
    return VIEWS / (page if found is None else found.folder) / VIEW_FILE


def visible(actor: Actor, lang: str = i18n.DEFAULT) -> list[tuple[str, str, str]]:
    """(address, title in ``lang``, icon) of each page ``actor`` may see, in navigation
    order."""
    return [
        (p.url_path, p.title(lang), p.icon)
        for p in PAGES
        if any(actor.has(cap) for cap in p.capabilities)
    ]


def _redirect(target: st.Page) -> Callable[[], None]:
    def go() -> None:
        # the query string is the page's state (e.g. ?case=12): carry it over
        st.switch_page(target, query_params=st.query_params.to_dict())

    return go


def pages(actor: Actor, lang: str = i18n.DEFAULT) -> list[st.Page]:
    """The pages ``actor`` may see, titled in ``lang``, in navigation order, then a
    hidden redirect for each old address (:data:`ALIASES`) of those pages."""
    shown = [
        st.Page(view_path(url), title=title, icon=icon, url_path=url)
        for url, title, icon in visible(actor, lang)
    ]
    by_url = {p.url_path: p for p in shown}
    return shown + [
        st.Page(
            _redirect(by_url[target]),
            title=by_url[target].title,
            url_path=old,
            visibility="hidden",
        )
        for old, target in ALIASES.items()
        if target in by_url
    ]


def sign_in_pages(sign_in: Callable[[], None], lang: str = i18n.DEFAULT) -> list[st.Page]:
    """Hidden pages at every staff address (and old address) that show ``sign_in``: an
    address asked before sign-in keeps its path and query string, and opens after it."""
    return [
        st.Page(sign_in, title=i18n.t("nav.sign_in", lang), url_path=url, visibility="hidden")
        for url in [*(p.url_path for p in PAGES), *ALIASES]
    ]
