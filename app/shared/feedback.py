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

The frame (the refusal's rule, "Nothing was written", the toast's "refused") is in the
page's language (:func:`show` with ``lang``); a refusal's reason is the service's own
sentence in English and the rule's explanation from the catalogue in another language
(:func:`rule_text`), and the service's English words stay under "as the service records
it" where no explanation can be keyed. The title and message of a success or a note are
the page's, already in its language.

No SQL and no landgov service here: only Streamlit, the catalogue and the error classes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, replace
from typing import Final, Literal

import streamlit as st

from app.shared import i18n
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
"""The English of ``feedback.repeat``: what :func:`run` appends to a kept success."""
_serials = itertools.count(1)

RULES: Final = {
    "role": ("rule.role", "rule_reason.role"),
    "signed_in": ("rule.signed_in", "rule_reason.signed_in"),
    "jurisdiction": ("rule.jurisdiction", "rule_reason.jurisdiction"),
    "separation_of_duties": ("rule.separation_of_duties", "rule_reason.separation_of_duties"),
    "second_factor": ("rule.second_factor", "rule_reason.second_factor"),
    "future_date": ("rule.future_date", "rule_reason.future_date"),
    "backdate_window": ("rule.backdate_window", "rule_reason.backdate_window"),
    "posting_then_and_now": ("rule.posting_then_and_now", "rule_reason.posting_then_and_now"),
    "unmask": ("rule.unmask", "rule_reason.unmask"),
    "password": ("rule.password", "rule_reason.password"),
}
"""Who-may-act's rules (:class:`landgov.errors.AccessDenied`): the catalogue keys of each
rule's name and of its explanation."""


@dataclass(frozen=True)
class RuleText:
    """A refusal in a language: the rule's name, the reason, and the service's own
    English sentence when no translation of it can be keyed (else None)."""

    rule: str
    reason: str
    as_recorded: str | None


def rule_text(
    rule: str | None,
    message: str,
    lang: str,
    known: Mapping[str, tuple[str, str]] = RULES,
) -> RuleText:
    """How a refusal by ``rule`` (the service said ``message``) reads in ``lang``: English
    keeps the service's sentence, other languages the rule's explanation (``known``:
    rule -> keys of its name and explanation)."""
    keys = known.get(rule or "")
    name = i18n.t(keys[0], lang) if keys else (rule or "")
    if lang == i18n.DEFAULT:
        return RuleText(name, message, None)
    if keys is None:
        return RuleText(name, i18n.t("refusal.unknown", lang), message)
    return RuleText(name, i18n.t(keys[1], lang), None)


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
    what: str = ""  # the action, as the toast of a refusal names it (Sanction of No. 5)
    repeated: bool = False  # a second click changed nothing (:func:`run`)

    @property
    def banner(self) -> str:
        """The banner's markdown in English (:meth:`banner_in`)."""
        return self.banner_in(i18n.DEFAULT)

    def banner_in(self, lang: str) -> str:
        """The banner's markdown in ``lang``: a refusal names its rule and says nothing
        was written."""
        _ = i18n.Words(lang)
        if self.kind == "refused":
            said = rule_text(self.rule, self.message, lang)
            return _("feedback.refused", rule=said.rule, reason=said.reason)
        if self.kind == "conflict":
            return _("feedback.conflict", message=self.message)
        if self.kind == "error":
            return _("feedback.error", message=self.message)
        if self.repeated:
            return f"{self.message} {_('feedback.repeat')}"
        return self.message

    def as_recorded(self, lang: str) -> str | None:
        """The service's English sentence where ``lang``'s banner could not say it."""
        if self.kind == "refused":
            return rule_text(self.rule, self.message, lang).as_recorded
        return None  # a conflict's or an error's banner holds the service's words itself

    def headline(self, lang: str) -> str:
        """The toast's words in ``lang``: the page's own title for a success or a note,
        the outcome (with the action) for a refusal, conflict or error."""
        outcome = {
            "refused": "feedback.refused_title",
            "conflict": "feedback.conflict_title",
            "error": "feedback.error_title",
        }.get(self.kind)
        if outcome is None:
            return self.title
        said = i18n.t(outcome, lang)
        return i18n.t("feedback.titled", lang, what=self.what, outcome=said) if self.what else said


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
        return Feedback(
            "refused", f"{head}refused", exc.message, exc.rule, scope, action, what=what
        )
    if isinstance(exc, SanctionConflict):
        return Feedback(
            "conflict", f"{head}conflict", str(exc), scope=scope, action=action, what=what
        )
    return Feedback(
        "error", f"{head}not done", str(exc).rstrip("."), scope=scope, action=action, what=what
    )


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
            return store(key, replace(previous, repeated=True))
        feedback = from_error(exc, scope=scope, action=action_key, what=what)
    return store(key, feedback)


def show(key: str, scope: Hashable = None, lang: str | None = None) -> Feedback | None:
    """Draws the latest feedback under ``key`` (if it belongs to ``scope``) in ``lang``
    (default: the session's language): the banner every time, the toast the first time
    only. Returns it."""
    lang = lang or i18n.current()
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
    draw(feedback.banner_in(lang), icon=icon)
    said = feedback.as_recorded(lang)
    if said:
        st.caption(i18n.t("refusal.as_recorded", lang, message=said))
    toasted = f"{key}__toasted"
    if st.session_state.get(toasted) != feedback.serial:
        st.session_state[toasted] = feedback.serial
        st.toast(f"**{feedback.headline(lang)}**", icon=icon)
    return feedback
