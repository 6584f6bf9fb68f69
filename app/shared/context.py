"""What every dashboard page shares: the database, who is signed in, the mouza, the
"as of" date and the language.

The entry script (:mod:`app.dashboard`) re-authenticates the session on every run,
draws the sidebar and stores a :class:`Context` in the session; each page reads it with
:func:`current`, or with :func:`require`, which also checks that the signed-in actor's
roles hold a capability of the page. Session state, not a module global, because one
Streamlit server runs many sessions in one process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import streamlit as st

from app.shared import i18n, panels
from landgov.errors import AccessDenied
from landgov.security import Actor, policy
from landgov.storage.read import MouzaSummary

_KEY = "_landgov_context"


@dataclass(frozen=True)
class Context:
    """``actor`` is None only for an anonymous visitor (sign-in and farmer pages), and
    ``mouza`` only where no mouza is chosen (anonymous, or an empty database)."""

    url: str
    mouza: MouzaSummary | None
    as_of: date
    actor: Actor | None = None
    lang: str = "en"
    """The page's language (:func:`app.shared.i18n.current`), chosen once per run."""


@dataclass(frozen=True)
class StaffContext:
    """The context of a page behind sign-in: an actor and a mouza are always there."""

    url: str
    mouza: MouzaSummary
    as_of: date
    actor: Actor
    lang: str = "en"

    @property
    def words(self) -> i18n.Words:
        """The page's messages: ``_ = ctx.words`` then ``_("parcels.title")``."""
        return i18n.Words(self.lang)


def store(ctx: Context) -> None:
    st.session_state[_KEY] = ctx


def language() -> str:
    """The language of the page being drawn: the stored context's (chosen once per run
    by the entry script), English where there is none (a panel drawn outside a page)."""
    ctx = st.session_state.get(_KEY)
    return ctx.lang if isinstance(ctx, Context) else i18n.DEFAULT


def current() -> Context:
    """The context the entry script stored in this run."""
    ctx: Context = st.session_state[_KEY]  # only store() writes this key
    return ctx


def refusal(capabilities: tuple[str, ...], actor: Actor | None) -> AccessDenied | None:
    """Why ``actor`` may not see a page needing any one of ``capabilities`` (None: may)."""
    if actor is None:
        return AccessDenied("signed_in", "sign in first: this page is for signed-in staff")
    if any(actor.has(cap) for cap in capabilities):
        return None
    try:
        policy.check_role(actor.roles, capabilities[0], actor.display)
    except AccessDenied as exc:
        return exc
    raise AssertionError("unreachable: check_role refuses what has() refused")


def require(*capabilities: str) -> StaffContext:
    """The context of a page for actors holding any one of ``capabilities``.

    A page the actor may not see is not in the navigation at all; reached anyway (an old
    link, a page run on its own), it shows the refusal with its rule and stops.
    """
    ctx: Context | None = st.session_state.get(_KEY)
    denied = refusal(capabilities, None if ctx is None else ctx.actor)
    if denied is not None or ctx is None or ctx.actor is None or ctx.mouza is None:
        if denied is None:
            denied = AccessDenied("signed_in", "sign in first: no mouza chosen")
        panels.refusal(denied.rule, denied.message)
        st.stop()
    return StaffContext(
        url=ctx.url, mouza=ctx.mouza, as_of=ctx.as_of, actor=ctx.actor, lang=ctx.lang
    )
