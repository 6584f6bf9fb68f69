"""The officer forms of the Mutations page: enter, verify, sanction and reject mutations.

Who acts is the signed-in actor (:mod:`app.shared.auth`), never a name chosen on the page: the
forms shown are those the actor's roles allow (``mutation.enter`` for a patwari,
``mutation.verify`` for a girdawar and the revenue officers, ``mutation.sanction`` and
``mutation.reject`` for naib tehsildar, tehsildar and assistant commissioner), and the
records engine checks again, inside its own transaction, the role, the posting over the
mouza on the day and on the action's date, the back-dating window, the second factor and
the separation of duties (:func:`landgov.security.authorize`).

Every button runs its action in an ``on_click`` callback, before the page is drawn again,
so the lists below it already show the result. The actions call
:mod:`landgov.records.mutations`, the functions the ``landgov mutation`` command calls, so
the dashboard applies exactly the same rules. The outcome is kept in the session and
shown at the top of the page: a refusal (:class:`~landgov.errors.SanctionRefused` or
:class:`~landgov.errors.AccessDenied`) as an error naming the rule, a conflict with
another officer's sanction (:class:`~landgov.errors.SanctionConflict`) as a warning, a
success with the new owners.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any, Literal

import pandas as pd
import streamlit as st

from app.shared import context, panels
from app.shared import data as shared
from app.views.mutations import data
from landgov.domain import Heir, MutationType, RightType, School, parse_share
from landgov.errors import (
    AccessDenied,
    AuthenticationFailed,
    LandgovError,
    SanctionConflict,
    SanctionRefused,
)
from landgov.security import Actor
from landgov.storage.read import MouzaSummary

OUTCOME_KEY = "mutation_outcome"
PENDING_KEY = "pending_pick"
MAX_LINES = 8

ENTRY_TYPES = [t.value for t in MutationType if t is not MutationType.PARTITION]
"""A partition names the khasra it divides and its new parcels: ``landgov mutation``."""


@dataclass(frozen=True)
class Outcome:
    """What the last action did, shown at the top of the page until the next one."""

    kind: Literal["success", "refused", "conflict", "error"]
    message: str
    mouza_id: int
    rule: str | None = None
    khewats: tuple[int, ...] = ()
    owners_on: date | None = None


def engine_available() -> bool:
    """Whether this landgov has the mutation engine (``landgov.records.mutations``)."""
    import importlib.util

    return importlib.util.find_spec("landgov.records.mutations") is not None


# --- the actions (callbacks) ---------------------------------------------------------


def _attempt(
    mouza: MouzaSummary,
    action: Callable[[], tuple[str, tuple[int, ...], date | None]],
) -> None:
    """Runs an action and stores its outcome; any landgov error becomes a message."""
    try:
        message, khewats, owners_on = action()
    except (SanctionRefused, AccessDenied) as exc:
        outcome = Outcome("refused", exc.message, mouza.id, rule=exc.rule)
    except AuthenticationFailed as exc:
        outcome = Outcome("error", f"{exc}", mouza.id)
    except SanctionConflict as exc:
        outcome = Outcome("conflict", str(exc), mouza.id)
    except LandgovError as exc:
        outcome = Outcome("error", str(exc), mouza.id)
    else:
        outcome = Outcome("success", message, mouza.id, khewats=khewats, owners_on=owners_on)
        shared.forget_results()  # the map, chains and lists must show the change
    st.session_state[OUTCOME_KEY] = outcome


def _text(key: str) -> str | None:
    value = st.session_state.get(key)
    if value is None:
        return None
    return str(value).strip() or None


def _draft_lines(count: int, khewat_choices: list[int]) -> list[Any]:
    from landgov.records.mutations import DraftLine

    lines = []
    for i in range(count):
        khewat = st.session_state.get(f"line_{i}_khewat")
        if khewat is None:
            khewat = khewat_choices[0] if khewat_choices else None
        if khewat is None:
            raise _FormError(f"line {i + 1}: choose a khewat")
        share_text = _text(f"line_{i}_share")
        if share_text is None:
            raise _FormError(f"line {i + 1}: give the share of the khewat, e.g. 1/4")
        lines.append(
            DraftLine(
                khewat_no=int(khewat),
                transferor=_text(f"line_{i}_from"),
                transferee=_text(f"line_{i}_to"),
                share=parse_share(share_text),
                right_type=str(st.session_state.get(f"line_{i}_right") or RightType.OWNERSHIP),
            )
        )
    return lines


class _FormError(LandgovError):
    """A form field is missing or unreadable; nothing was sent to the records engine."""


def enter_mutation(url: str, mouza: MouzaSummary, khewat_choices: list[int]) -> None:
    """Callback of "Enter mutation": :func:`landgov.records.mutations.enter` (or
    :func:`~landgov.records.mutations.enter_inheritance` for a wirasat)."""

    def action() -> tuple[str, tuple[int, ...], date | None]:
        from landgov.records import mutations

        actor = _actor()
        mtype = str(st.session_state.get("enter_type") or ENTRY_TYPES[0])
        entered_on = st.session_state.get("enter_on") or date.today()
        count = int(st.session_state.get("enter_lines") or 1)
        if mtype == MutationType.INHERITANCE:
            deceased = _text("inh_deceased")
            if deceased is None:
                raise _FormError("give the CNIC of the deceased")
            heirs = {}
            for i in range(count):
                cnic = _text(f"heir_{i}_cnic")
                if cnic is not None:
                    heirs[cnic] = str(st.session_state.get(f"heir_{i}_kind") or Heir.SON)
            if not heirs:
                raise _FormError("name at least one heir (CNIC and relation)")
            khewat = st.session_state.get("inh_khewat")
            mutation_id = mutations.enter_inheritance(
                shared.engine(url),
                mouza=mouza.name,
                deceased_cnic=deceased,
                heirs=heirs,
                entered_on=entered_on,
                actor=actor,
                school=str(st.session_state.get("inh_school") or School.HANAFI),
                khewat_no=None if khewat is None else int(khewat),
                remarks=_text("enter_remarks"),
            )
        else:
            consideration = st.session_state.get("enter_consideration")
            draft = mutations.MutationDraft(
                mouza=mouza.name,
                type=mtype,
                entered_on=entered_on,
                lines=_draft_lines(count, khewat_choices),
                deed_number=_text("enter_deed_no"),
                deed_date=st.session_state.get("enter_deed_date"),
                sub_registrar=_text("enter_sub_registrar"),
                consideration_rs=None if consideration is None else int(consideration),
                remarks=_text("enter_remarks"),
            )
            mutation_id = mutations.enter(shared.engine(url), draft, actor=actor)
        number = data.mutation_number(url, mutation_id)
        st.session_state[PENDING_KEY] = mutation_id  # ready to verify under "Pending"
        return (
            f"Entered mutation No. {number} ({mtype.replace('_', ' ')}) on {entered_on}. "
            "It waits for verification under Pending mutations.",
            (),
            None,
        )

    _attempt(mouza, action)


def _actor() -> Actor:
    """The signed-in actor of this browser session (the database checks the session
    again when the action binds it)."""
    actor = context.current().actor
    if actor is None:
        raise AuthenticationFailed("not signed in: sign in again")
    return actor


who = panels.who


def decide(url: str, mouza: MouzaSummary, decision: str) -> None:
    """Callback of the verify, sanction and reject buttons of the chosen pending mutation."""

    def action() -> tuple[str, tuple[int, ...], date | None]:
        from landgov.records import mutations

        actor = _actor()
        mutation_id = st.session_state.get(PENDING_KEY)
        if mutation_id is None:
            raise _FormError("choose a pending mutation first")
        engine = shared.engine(url)
        number = data.mutation_number(url, int(mutation_id))
        by = who(actor)
        if decision == "verify":
            on = st.session_state.get("verify_on") or date.today()
            mutations.verify(engine, int(mutation_id), actor=actor, on=on)
            return f"Mutation No. {number} verified on {on} by {by}.", (), None
        if decision == "sanction":
            on = st.session_state.get("sanction_on") or date.today()
            pending = data.pending_lines(url, mouza.id)
            lines = pending[pending["mutation_id"] == int(mutation_id)]
            khewats = tuple(dict.fromkeys(int(k) for k in lines["khewat_no"]))
            result = mutations.sanction(engine, int(mutation_id), actor=actor, on=on)
            return (
                f"Mutation No. {number} sanctioned on {on} by {by}: "
                f"{result.closed} share row(s) closed, {result.opened} opened.",
                khewats,
                on,
            )
        on = st.session_state.get("reject_on") or date.today()
        reason = _text("reject_reason") or ""
        mutations.reject(engine, int(mutation_id), actor=actor, on=on, reason=reason)
        return f"Mutation No. {number} rejected on {on} by {by}: {reason}", (), None

    _attempt(mouza, action)


# --- the panels ------------------------------------------------------------------------


def mutation_powers(actor: Actor) -> str:
    """What ``actor`` may do on the Mutations page, for the page's caption."""
    may = [
        verb
        for verb, cap in (
            ("enter", "mutation.enter"),
            ("verify", "mutation.verify"),
            ("sanction", "mutation.sanction"),
            ("reject", "mutation.reject"),
        )
        if actor.has(cap)
    ]
    if not may:
        return "not change mutations"
    listed = ", ".join(may[:-1]) + (" and " if len(may) > 1 else "") + may[-1]
    return f"{listed} mutations"


def outcome_panel(url: str, mouza: MouzaSummary, actor: Actor) -> None:
    """The result of the last action: success with the new owners, refusal, conflict.
    The new owners shown are an access-log row, as on the Parcels page."""
    outcome: Outcome | None = st.session_state.get(OUTCOME_KEY)
    if outcome is None or outcome.mouza_id != mouza.id:
        return
    panels.action_outcome(outcome.kind, outcome.message, outcome.rule)
    if outcome.kind == "success" and outcome.khewats and outcome.owners_on is not None:
        owners = data.khewat_owners(url, mouza.id, outcome.khewats, outcome.owners_on)
        unmasked = shared.unmask_allowed(url, actor, mouza.id)
        for khewat_no in outcome.khewats:
            st.markdown(f"**New owners of khewat {khewat_no}** (from {outcome.owners_on})")
            table = shared.owner_table(owners, khewat_no, None, unmasked=unmasked)
            st.dataframe(table.drop(columns=["Area equivalent (K-M-S)"]), hide_index=True)
        shared.log_owner_read(
            url,
            actor,
            mouza,
            "khewat " + ", ".join(str(k) for k in outcome.khewats),
            owners,
            outcome.owners_on,
            unmasked=unmasked,
        )


def pending_panel(url: str, mouza: MouzaSummary, pending: pd.DataFrame, actor: Actor) -> None:
    """The mouza's pending mutations and the forms the actor's roles allow: verify,
    sanction, reject."""
    if pending.empty:
        st.info("No pending mutation in this mouza.")
        return
    st.dataframe(data.pending_table(pending), hide_index=True, width="stretch")
    choices = data.pending_choices(pending)
    if st.session_state.get(PENDING_KEY) not in choices:
        st.session_state[PENDING_KEY] = None
    picked = st.selectbox(
        "Mutation to decide",
        options=list(choices),
        index=None,
        format_func=choices.__getitem__,
        placeholder="Choose a pending mutation",
        key=PENDING_KEY,
    )
    if picked is None:
        return
    status = str(pending[pending["mutation_id"] == picked].iloc[0]["status"])
    forms = [
        (step, cap)
        for step, cap in (
            ("verify", "mutation.verify"),
            ("sanction", "mutation.sanction"),
            ("reject", "mutation.reject"),
        )
        if actor.has(cap)
    ]
    if not forms:
        st.caption(f"As {who(actor)} you may {mutation_powers(actor)}; others decide.")
        return
    for column, (step, _cap) in zip(st.columns(len(forms), gap="medium"), forms, strict=True):
        with column, st.form(f"{step}_form", border=True):
            st.markdown(f"**{step.capitalize()}**")
            label = {"verify": "Verified on", "sanction": "Sanctioned on", "reject": "Rejected on"}
            st.date_input(label[step], value=date.today(), key=f"{step}_on", format="YYYY-MM-DD")
            if step == "reject":
                st.text_input(
                    "Reason", key="reject_reason", placeholder="e.g. parties did not appear"
                )
            st.form_submit_button(
                step.capitalize(),
                key=f"{step}_submit",
                type="primary" if step == "sanction" else "secondary",
                disabled={"verify": status != "entered", "sanction": status != "verified"}.get(
                    step, False
                ),
                on_click=partial(decide, url, mouza, step),
            )


def entry_panel(url: str, mouza: MouzaSummary, khewats: list[int]) -> None:
    """The entry form: type, date, lines (khewat, transferor, transferee, share), deed."""
    if not khewats:
        st.info(f"Mouza {mouza.name} has no khewat in force today.")
        return
    top = st.columns(2)
    with top[0]:
        mtype = st.selectbox(
            "Type",
            ENTRY_TYPES,
            key="enter_type",
            format_func=lambda t: t.replace("_", " "),
            help="A partition (taqseem) is entered with `landgov mutation` (it names the "
            "khasra it divides).",
        )
    inheritance = mtype == MutationType.INHERITANCE
    with top[1]:
        count = st.number_input(
            "Heirs" if inheritance else "Lines",
            min_value=1,
            max_value=MAX_LINES,
            value=1,
            step=1,
            key="enter_lines",
        )
    with st.form("enter_form", border=True):
        st.date_input("Entered on", value=date.today(), key="enter_on", format="YYYY-MM-DD")
        if inheritance:
            _inheritance_fields(int(count), khewats)
        else:
            _line_fields(int(count), khewats)
            deed = st.columns(3)
            deed[0].text_input("Deed number", key="enter_deed_no")
            deed[1].date_input("Deed date", value=None, key="enter_deed_date", format="YYYY-MM-DD")
            deed[2].text_input("Sub-registrar", key="enter_sub_registrar")
            st.number_input(
                "Consideration (Rs)", min_value=0, value=None, step=1000, key="enter_consideration"
            )
        st.text_input("Remarks", key="enter_remarks")
        st.form_submit_button(
            "Enter mutation",
            key="enter_submit",
            type="primary",
            on_click=partial(enter_mutation, url, mouza, khewats),
        )


def _line_fields(count: int, khewats: list[int]) -> None:
    st.caption(
        "Each line moves a share of the WHOLE khewat. Parties by CNIC (#####-#######-#) or a "
        "state custodian's code (board_of_revenue...); leave one side empty to create or "
        "end a right."
    )
    rights = [r.value for r in RightType]
    for i in range(count):
        cols = st.columns([1, 2, 2, 1, 2])
        cols[0].selectbox(f"Khewat · line {i + 1}", khewats, key=f"line_{i}_khewat")
        cols[1].text_input("Transferor CNIC", key=f"line_{i}_from", placeholder="#####-#######-#")
        cols[2].text_input("Transferee CNIC", key=f"line_{i}_to", placeholder="#####-#######-#")
        cols[3].text_input("Share n/d", key=f"line_{i}_share", placeholder="1/4")
        cols[4].selectbox(
            "Right", rights, key=f"line_{i}_right", format_func=lambda r: r.replace("_", " ")
        )


def _inheritance_fields(count: int, khewats: list[int]) -> None:
    st.caption(
        "The shares are computed with faraid from the relations you state; the deceased's "
        "ownership passes to the heirs (excluded heirs are recorded with no line)."
    )
    cols = st.columns(3)
    cols[0].text_input("Deceased CNIC", key="inh_deceased", placeholder="#####-#######-#")
    cols[1].selectbox(
        "School", [s.value for s in School], key="inh_school", format_func=str.capitalize
    )
    cols[2].selectbox(
        "Khewat",
        khewats,
        index=None,
        placeholder="every khewat of the deceased",
        key="inh_khewat",
    )
    kinds = [h.value for h in Heir]
    for i in range(count):
        left, right = st.columns(2)
        left.text_input(f"Heir {i + 1} CNIC", key=f"heir_{i}_cnic")
        right.selectbox(
            "Relation to the deceased", kinds, key=f"heir_{i}_kind",
            format_func=lambda k: k.replace("_", " "),
        )  # fmt: skip
