"""The revenue officer's dashboard: ``streamlit run app/dashboard.py``.

An anonymous visitor sees only the sign-in page (:mod:`app.shared.signin`) and the
farmer's own sign-in. Every run re-authenticates the session (:mod:`app.shared.auth`); the
pages offered are those the signed-in actor's roles allow
(:data:`landgov.security.policy.CAPABILITIES`):

- ``views/parcels/`` (``records.read``): the mouza map; a khasra's owners on the date
  and today (CNICs masked unless the actor may unmask them there; each owner list read
  is an access-log row), its mutation chain back to settlement, and its fard;
- ``views/mutations/`` (``mutation.enter|verify|sanction|reject``): the signed-in
  officer enters, verifies, sanctions or rejects mutations in the mouzas of their
  jurisdiction today;
- ``views/cases/`` (``case.read``): the dispute case queue, riskiest first, and the
  case page (evidence on the map; review, confirm, dismiss, refer as the role allows);
- ``views/valuation/`` (``valuation.read``): the valuation roll on a map, ratio
  studies and the sales declared below their value;
- ``views/farmer/``: a farmer's own parcels and advisories, behind a one-time code,
  only through "Farmer sign-in" (not for signed-in staff); a signed-in farmer sees that
  page alone, with no sidebar.

Every page speaks Urdu or English (:mod:`app.shared.i18n`): the sign-in and Farmer pages
have the switch on the page, the officers' pages at the top of the sidebar; the choice
is kept for the session and in the address (``?lang=ur``), so it holds from page to page
and in a copied link. The frame (navigation, identity, pickers, legend, refusals) is in
the chosen language, and an Urdu page is right to left in Nastaliq
(:func:`app.shared.i18n.apply_style`, drawn here for every officer's page).

The layout (see :mod:`app`): each page is a folder under ``views/`` with its script
(``view.py``) and its data (``data.py``: cached calls of service functions, no SQL);
what several pages share (this sidebar's data, panels, style, the imagery base layer,
sign-in) is in ``shared/``. The sidebar shows who is signed in, their roles and postings,
"Sign out", then the mouza and the "as of" date.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

# `streamlit run app/dashboard.py` puts app/ on sys.path, not the repository root that
# holds the `app` package.
_ROOT = str(Path(__file__).resolve().parents[1])
if sys.path[:1] != [_ROOT]:  # first, so no module under app/ shadows a top-level package
    if _ROOT in sys.path:
        sys.path.remove(_ROOT)
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

from app.shared import auth, context, data, i18n, panels, signin  # noqa: E402
from app.shared.navigation import pages as navigation_pages  # noqa: E402
from app.shared.navigation import sign_in_pages, view_path  # noqa: E402
from app.views.farmer.session import signed_in as farmer_signed_in  # noqa: E402
from landgov.security import Actor  # noqa: E402
from landgov.security.sessions import expires_at  # noqa: E402


def staff_pages(actor: Actor, lang: str = i18n.DEFAULT) -> list[st.Page]:
    """The pages ``actor`` may see, in the navigation's order, titled in ``lang`` (and
    hidden redirects from their old addresses: :func:`app.shared.navigation.pages`)."""
    return navigation_pages(actor, lang)


def anonymous(url: str) -> None:
    """The sign-in page and the farmer's sign-in; nothing of the record.

    A farmer signed in (:mod:`app.views.farmer.session`) is offered their own page and
    nothing else: the navigation holds that page alone and is hidden, so any address
    shows it, until they sign out. Before that the sidebar lists the two sign-ins, and
    the Farmer page hides it itself (:data:`app.shared.style.PHONE_CSS`): Streamlit
    picks the page inside ``st.navigation``, after its position is set."""
    _ = i18n.Words(i18n.current())
    farmer = st.Page(
        view_path("farmer"),
        title=_("signin.farmer_nav"),
        icon=":material/agriculture:",
        url_path="farmer",
    )
    context.store(context.Context(url=url, mouza=None, as_of=date.today(), actor=None, lang=_.lang))
    if farmer_signed_in() is not None:
        st.navigation([farmer], position="hidden").run()
        return

    def sign_in() -> None:
        signin.page(farmer)

    page = st.navigation(
        [
            st.Page(sign_in, title=_("signin.nav"), icon=":material/lock:", default=True),
            farmer,
            # a staff address asked before sign-in keeps its path and query string
            *sign_in_pages(sign_in, _.lang),
        ]
    )
    page.run()


def sidebar_identity(url: str, actor: Actor, lang: str) -> None:
    """The top of the officer's sidebar: the language switch, who is signed in (roles,
    postings today, when the session ends) and "Sign out"."""
    _ = i18n.Words(lang)
    with st.sidebar:
        i18n.switch(lang)
        with panels.database_errors(url, lang):
            postings = data.postings(url, actor.officer_id, date.today(), lang)
            ends = expires_at(data.engine(url), actor)
        ends_at = _(
            "frame.session_ends",
            date=data.register_date(ends.date(), lang),
            time=i18n.record_number(f"{ends:%H:%M}", lang),
        )
        panels.identity(actor, postings, ends_at, lang)
        if st.button(_("frame.sign_out"), key="sign_out", icon=":material/logout:"):
            with panels.database_errors(url, lang):
                auth.sign_out(data.engine(url))
            if auth.mode() == "oidc":
                st.logout()
            st.rerun()


def signed_in(url: str, actor: Actor) -> None:
    lang = i18n.current()
    _ = i18n.Words(lang)
    i18n.apply_style(lang)
    pages = staff_pages(actor, lang)
    if not pages:

        def no_page() -> None:
            panels.refusal("role", _("frame.no_page", who=actor.display), lang)

        page = st.navigation([st.Page(no_page, title="landgov")], position="hidden")
        sidebar_identity(url, actor, lang)
        page.run()
        return
    page = st.navigation(pages)
    sidebar_identity(url, actor, lang)
    with panels.database_errors(url, lang):
        mouzas = data.mouzas(url)
    if not mouzas:
        st.title(_("parcels.title"))
        st.info(_("frame.empty_db"))
        with st.sidebar:
            panels.legend(lang=lang)
        return
    if page.url_path == "mutations" and actor.officer_id is not None:
        # an officer enters and decides only where posted today: offer only those mouzas
        with panels.database_errors(url, lang):
            allowed = set(data.jurisdiction(url, actor.officer_id, date.today()))
        mouzas = [m for m in mouzas if m.id in allowed]
        if not mouzas:
            st.title(_("frame.mutations_title"))
            panels.refusal("jurisdiction", _("frame.not_posted", who=actor.display), lang)
            return
    mouza, as_of = panels.sidebar(mouzas, lang)
    context.store(context.Context(url=url, mouza=mouza, as_of=as_of, actor=actor, lang=lang))
    page.run()


def main() -> None:
    st.set_page_config(page_title="landgov", page_icon="🗺️", layout="wide")
    url = data.database_url()
    actor = None
    if st.session_state.get(auth.TOKEN_KEY):
        with panels.database_errors(url):
            actor = auth.current(data.engine(url))
    if actor is None:
        anonymous(url)
    else:
        signed_in(url, actor)


main()
