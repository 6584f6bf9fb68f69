"""The one way an officer's action is confirmed on the dashboard: enter, verify, sanction,
reject, register a party (and any page's action that adopts it).

Issue 19: confirming a case gave no feedback at all, and the Mutations page showed its
outcome at the top of a long page, out of sight of the button just clicked. Every action
now ends in one :class:`Feedback`, drawn the same way wherever it happened:

* a **banner** at the top of the page (success, refusal, conflict, error or note), kept
  until the next action, so a refusal stays readable; a refusal names its rule and says
  nothing was written, as the command line does;
* a **toast** in the corner, once, where the officer is looking when the page redraws
  after the click (a banner scrolled out of view confirms nothing).

How an action runs: its button's ``on_click`` callback calls :func:`run` with a function
that does the work and returns the success :class:`Feedback`; any landgov error becomes
the matching refusal, conflict or error (:func:`from_error`). Callbacks run before the
page is drawn again, so the banner and every list below it already show the result.

A second click of the same button (a double click, or a click on a form that still held
its values) is recognised by its ``action`` key: when the records engine refuses the
repeat because the first one already happened (a deed already entered by this very
action, a mutation no longer in the status the step needs), the first success stays and
a note says nothing was done twice, instead of an error that would hide the success.

No SQL and no landgov service here: only Streamlit and the error classes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import Final, Literal

import streamlit as st

from landgov.errors import (
    AccessDenied,
    CaseActionRefused,
    LandgovError,
    SanctionConflict,
    SanctionRefused,
)

Kind = Literal["success", "refused", "conflict", "error", "info"]

ICONS: Final[dict[str, str]] = {
    "success": ":material/check_circle:",
    "refused": ":material/block:",
    "conflict": ":material/warning:",
    "error": ":material/error:",
    "info": ":material/info:",
}
"""Material Symbols, drawn from the font Streamlit serves itself: emoji depend on the
officer's machine having an emoji font (a bare Chromium draws empty boxes)."""
REPEAT_NOTE: Final = "(A second click changed nothing.)"
_serials = itertools.count(1)


@dataclass(frozen=True)
class Feedback:
    """What one action did, as the officer is told.

    ``title`` is the short headline (the toast), ``message`` the full sentence (the
    banner); ``scope`` ties it to what it is about (a mouza, a case), so a page shows
    only its own; ``action`` identifies the action (``("enter", fingerprint)``,
    ``("verify", 42)``) to recognise a repeat; ``serial`` orders feedback in a session
    (set by :func:`store`), so a toast is shown once.
    """

    kind: Kind
    title: str
    message: str
    rule: str | None = None
    scope: Hashable = None
    action: Hashable = None
    ref: int | None = None  # what the action made or changed (a mutation's id...)
    serial: int = 0

    @property
    def banner(self) -> str:
        """The banner's markdown: a refusal names its rule and says nothing was written."""
        if self.kind == "refused":
            return f"**Refused — rule `{self.rule}`**: {self.message}. Nothing was written."
        if self.kind == "conflict":
            return f"**Conflict**: {self.message}. Try again in a moment."
        if self.kind == "error":
            return f"{self.message}. Nothing was written."
        return self.message


def success(
    title: str, message: str, *, scope: Hashable = None, ref: int | None = None
) -> Feedback:
    """A done action: ``title`` for the toast, ``message`` for the banner."""
    return Feedback("success", title, message, scope=scope, ref=ref)


def note(title: str, message: str, *, scope: Hashable = None) -> Feedback:
    """Something the officer should know that is neither a success nor a refusal."""
    return Feedback("info", title, message, scope=scope)


def from_error(
    exc: LandgovError, *, scope: Hashable = None, action: Hashable = None, what: str = ""
) -> Feedback:
    """The feedback of a refused or failed action: a rule's refusal (the record's rules,
    who-may-act's, a case's), a conflict with another officer, any other error. ``what``
    names the action in the toast (``Sanction of No. 5``)."""
    head = f"{what}: " if what else ""
    if isinstance(exc, SanctionRefused | AccessDenied | CaseActionRefused):
        return Feedback("refused", f"{head}refused", exc.message, exc.rule, scope, action)
    if isinstance(exc, SanctionConflict):
        return Feedback("conflict", f"{head}conflict", str(exc), scope=scope, action=action)
    return Feedback("error", f"{head}not done", str(exc).rstrip("."), scope=scope, action=action)


def store(key: str, feedback: Feedback) -> Feedback:
    """Keeps ``feedback`` as the session's latest under ``key`` (one key per page)."""
    stamped = replace(feedback, serial=next(_serials))
    st.session_state[key] = stamped
    return stamped


def latest(key: str) -> Feedback | None:
    value = st.session_state.get(key)
    return value if isinstance(value, Feedback) else None


def run(
    key: str,
    action: Callable[[], Feedback],
    *,
    scope: Hashable = None,
    action_key: Hashable = None,
    repeat_of: Callable[[LandgovError, Feedback], bool] | None = None,
    what: str = "",
) -> Feedback:
    """Runs ``action`` (a button's callback) and stores its feedback under ``key``;
    ``what`` names the action in a refusal's toast.

    ``action_key`` names the action for :func:`repeat_of`: when the action fails and
    ``repeat_of(error, previous)`` says the error only shows that the previous success
    (same ``action_key``) already did it, the previous success stays and a note is added
    to it instead (module notes, a second click).
    """
    previous = latest(key)
    try:
        feedback = replace(action(), action=action_key)
    except LandgovError as exc:
        if (
            previous is not None
            and previous.kind == "success"
            and previous.action == action_key
            and repeat_of is not None
            and repeat_of(exc, previous)
        ):
            message = previous.message
            if not message.endswith(REPEAT_NOTE):
                message = f"{message} {REPEAT_NOTE}"
            return store(key, replace(previous, message=message))
        feedback = from_error(exc, scope=scope, action=action_key, what=what)
    return store(key, feedback)


def show(key: str, scope: Hashable = None) -> Feedback | None:
    """Draws the latest feedback under ``key`` (if it belongs to ``scope``): the banner
    every time, the toast the first time only. Returns it."""
    feedback = latest(key)
    if feedback is None or feedback.scope != scope:
        return None
    icon = ICONS[feedback.kind]
    draw = {
        "success": st.success,
        "refused": st.error,
        "error": st.error,
        "conflict": st.warning,
        "info": st.info,
    }[feedback.kind]
    draw(feedback.banner, icon=icon)
    toasted = f"{key}__toasted"
    if st.session_state.get(toasted) != feedback.serial:
        st.session_state[toasted] = feedback.serial
        st.toast(f"**{feedback.title}**", icon=icon)
    return feedback
