"""The officer forms of the Mutations page: register a party, enter, verify, sanction and
reject mutations.

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
the dashboard applies exactly the same rules (a sale's price, a deed entered once, a new
party's CNIC, the acknowledgement of an under-declared sale). Every action ends in the
dashboard's one confirmation (:mod:`app.shared.feedback`): a banner at the top of the page
and a toast, a refusal naming its rule.

Hard to get wrong (issue 19):

* the entry form is emptied after a success (type and date stay), and a second click that
  still carries the old values is recognised: the records engine refuses the repeated
  deed, naming the mutation this very click entered, and the page keeps the success
  (a draft without a deed is recognised by its fingerprint, since nothing in the record
  stops the same lines being entered twice);
* a buyer not yet in the records is registered from the entry tab and filled in as the
  transferee;
* a sale's price check (declared price against the DC and model values, the taxes and the
  tax at stake) is shown with the verify and sanction forms; an under-declared sale needs
  the acknowledgement box ticked, and the engine refuses the sanction without it.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import date
from functools import partial
from typing import Any, Final

import pandas as pd
import streamlit as st

from app.shared import context, feedback, panels
from app.shared import data as shared
from app.views.mutations import data
from landgov.domain import Heir, MutationType, RightType, School, parse_share
from landgov.domain.records import GuardianRelation
from landgov.errors import AuthenticationFailed, LandgovError, SanctionRefused
from landgov.records.pricing import PriceCheck
from landgov.security import Actor
from landgov.storage.read import MouzaSummary

FEEDBACK_KEY: Final = "mutation_feedback"
OWNERS_KEY: Final = "mutation_new_owners"
PENDING_KEY: Final = "pending_pick"
MAX_LINES: Final = 8

ENTRY_TYPES = [t.value for t in MutationType if t is not MutationType.PARTITION]
"""A partition names the khasra it divides and its new parcels: ``landgov mutation``."""

RELATIONS: Final = {
    GuardianRelation.SON_OF.value: "son of (s/o)",
    GuardianRelation.DAUGHTER_OF.value: "daughter of (d/o)",
    GuardianRelation.WIFE_OF.value: "wife of (w/o)",
}
ENTRY_FIELDS: Final = (
    "enter_deed_no",
    "enter_deed_date",
    "enter_sub_registrar",
    "enter_consideration",
    "enter_remarks",
    "inh_deceased",
    "inh_khewat",
)
LINE_FIELDS: Final = ("from", "to", "share", "right", "khewat")
_NO_TEXT: Final = frozenset({"enter_deed_date", "enter_consideration", "inh_khewat"})
"""Entry widgets whose empty value is None, not the empty text."""


def engine_available() -> bool:
    """Whether this landgov has the mutation engine (``landgov.records.mutations``)."""
    import importlib.util

    return importlib.util.find_spec("landgov.records.mutations") is not None


# --- the actions (callbacks) ---------------------------------------------------------


class _FormError(LandgovError):
    """A form field is missing or unreadable; nothing was sent to the records engine."""


class _Repeat(LandgovError):
    """The same draft as the entry this session just made: a second click."""


def _text(key: str) -> str | None:
    value = st.session_state.get(key)
    if value is None:
        return None
    return str(value).strip() or None


def _actor() -> Actor:
    """The signed-in actor of this browser session (the database checks the session
    again when the action binds it)."""
    actor = context.current().actor
    if actor is None:
        raise AuthenticationFailed("not signed in: sign in again")
    return actor


who = panels.who


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


def _entry_fingerprint(count: int) -> tuple[Hashable, ...]:
    """Everything the entry form holds, to recognise the same draft submitted twice."""
    keys = ["enter_type", "enter_on", *ENTRY_FIELDS, "inh_school"]
    keys += [f"line_{i}_{f}" for i in range(count) for f in LINE_FIELDS]
    keys += [f"heir_{i}_{f}" for i in range(count) for f in ("cnic", "kind")]
    return tuple(str(st.session_state.get(k)).strip() for k in keys)


def _clear(keys: Iterable[str]) -> None:
    """Empties the widgets ``keys``: text to "", the rest to no value. Assigned, not
    deleted: the browser redraws only a widget whose value the script set, so a deleted
    key would leave the old text on the screen (and send it back with the next click)."""
    for key in keys:
        if key in st.session_state:
            st.session_state[key] = None if key in _NO_TEXT else ""


def _clear_entry() -> None:
    """Empties the entry form after a success (its type, date, number of lines, khewats
    and rights stay)."""
    _clear([*ENTRY_FIELDS, *(f"line_{i}_{f}" for i in range(MAX_LINES)
                             for f in ("from", "to", "share")),
            *(f"heir_{i}_cnic" for i in range(MAX_LINES))])  # fmt: skip


def _pristine(count: int) -> bool:
    """Whether the entry form holds nothing typed (a click on the emptied form)."""
    typed = [_text(k) for k in ("enter_deed_no", "enter_remarks", "inh_deceased")]
    typed += [_text(f"line_{i}_{f}") for i in range(count) for f in ("from", "to", "share")]
    typed += [_text(f"heir_{i}_cnic") for i in range(count)]
    return not any(typed) and st.session_state.get("enter_consideration") is None


def _is_repeat_entry(exc: LandgovError, previous: feedback.Feedback) -> bool:
    from landgov.records.mutations import DuplicateDeed

    if isinstance(exc, _Repeat):
        return True
    return isinstance(exc, DuplicateDeed) and exc.earlier_id == previous.ref


def enter_mutation(url: str, mouza: MouzaSummary, khewat_choices: list[int]) -> None:
    """Callback of "Enter mutation": :func:`landgov.records.mutations.enter` (or
    :func:`~landgov.records.mutations.enter_inheritance` for a wirasat)."""
    count = int(st.session_state.get("enter_lines") or 1)
    previous = feedback.latest(FEEDBACK_KEY)
    if _pristine(count) and previous is not None and previous.kind == "success":
        st.toast("The form is empty: nothing was entered.", icon=feedback.ICONS["info"])
        return
    fingerprint = ("enter", mouza.id, _entry_fingerprint(count))

    def action() -> feedback.Feedback:
        from landgov.records import mutations

        if previous is not None and previous.kind == "success" and previous.action == fingerprint:
            raise _Repeat("the same mutation was just entered")
        actor = _actor()
        mtype = str(st.session_state.get("enter_type") or ENTRY_TYPES[0])
        entered_on = st.session_state.get("enter_on") or date.today()
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
        shared.forget_results()  # the map, chains and lists must show the change
        _clear_entry()
        st.session_state[PENDING_KEY] = mutation_id  # ready to verify under "Pending"
        return feedback.success(
            f"Mutation No. {number} entered",
            f"Entered mutation No. {number} ({mtype.replace('_', ' ')}) on {entered_on}. "
            "It waits for verification under Pending mutations; the form is empty for "
            "the next one.",
            scope=mouza.id,
            ref=mutation_id,
        )

    feedback.run(FEEDBACK_KEY, action, scope=mouza.id, action_key=fingerprint,
                 repeat_of=_is_repeat_entry, what="Entry")  # fmt: skip


def register_party(url: str, mouza: MouzaSummary) -> None:
    """Callback of "Register party": :func:`landgov.records.mutations.register_party`;
    the new party's CNIC is filled in as the first empty transferee of the entry form."""
    cnic_typed = _text("party_cnic") or ""
    action_key = ("party", mouza.id, cnic_typed.replace("-", ""))

    def action() -> feedback.Feedback:
        from landgov.records import mutations

        new = mutations.NewParty(
            name=_text("party_name") or "",
            guardian_relation=str(st.session_state.get("party_relation") or ""),
            guardian_name=_text("party_guardian") or "",
            cnic=cnic_typed,
        )
        party = mutations.register_party(shared.engine(url), new, mouza=mouza.name, actor=_actor())
        _clear(("party_name", "party_guardian", "party_cnic"))
        count = int(st.session_state.get("enter_lines") or 1)
        line = next((i for i in range(count) if not _text(f"line_{i}_to")), None)
        where = ""
        if line is not None and st.session_state.get("enter_type") != MutationType.INHERITANCE:
            st.session_state[f"line_{line}_to"] = party.cnic
            where = f" It is filled in as the transferee of line {line + 1}."
        shared.forget_results()
        return feedback.success(
            "Party registered",
            f"Registered {party.label}, CNIC {party.cnic}, as a party: a mutation names "
            f"them by this CNIC.{where}",
            scope=mouza.id,
            ref=party.id,
        )

    def repeat(exc: LandgovError, previous: feedback.Feedback) -> bool:
        from landgov.records.mutations import PartyExists

        return isinstance(exc, PartyExists) and exc.existing.id == previous.ref

    feedback.run(FEEDBACK_KEY, action, scope=mouza.id, action_key=action_key, repeat_of=repeat,
                 what="Registration")  # fmt: skip


def decide(url: str, mouza: MouzaSummary, decision: str) -> None:
    """Callback of the verify, sanction and reject buttons of the chosen pending mutation."""
    mutation_id = st.session_state.get(PENDING_KEY)
    action_key = (decision, mutation_id)
    khewats: tuple[int, ...] = ()
    sanction_on: date | None = None

    def action() -> feedback.Feedback:
        nonlocal khewats, sanction_on
        from landgov.records import mutations

        actor = _actor()
        if mutation_id is None:
            raise _FormError("choose a pending mutation first")
        engine = shared.engine(url)
        number = data.mutation_number(url, int(mutation_id))
        by = who(actor)
        if decision == "verify":
            on = st.session_state.get("verify_on") or date.today()
            mutations.verify(engine, int(mutation_id), actor=actor, on=on)
            done = feedback.success(
                f"Mutation No. {number} verified",
                f"Mutation No. {number} verified on {on} by {by}.",
                scope=mouza.id,
                ref=int(mutation_id),
            )
        elif decision == "sanction":
            on = st.session_state.get("sanction_on") or date.today()
            pending = data.pending_lines(url, mouza.id)
            lines = pending[pending["mutation_id"] == int(mutation_id)]
            khewats = tuple(dict.fromkeys(int(k) for k in lines["khewat_no"]))
            result = mutations.sanction(
                engine, int(mutation_id), actor=actor, on=on,
                acknowledge_price=bool(st.session_state.get("sanction_ack")),
                price_note=_text("sanction_note"),
            )  # fmt: skip
            sanction_on = on
            acknowledged = (
                " The under-declared price was acknowledged."
                if st.session_state.get("sanction_ack")
                else ""
            )
            done = feedback.success(
                f"Mutation No. {number} sanctioned",
                f"Mutation No. {number} sanctioned on {on} by {by}: "
                f"{result.closed} share row(s) closed, {result.opened} opened.{acknowledged}",
                scope=mouza.id,
                ref=int(mutation_id),
            )
        else:
            on = st.session_state.get("reject_on") or date.today()
            reason = _text("reject_reason") or ""
            mutations.reject(engine, int(mutation_id), actor=actor, on=on, reason=reason)
            done = feedback.success(
                f"Mutation No. {number} rejected",
                f"Mutation No. {number} rejected on {on} by {by}: {reason}",
                scope=mouza.id,
                ref=int(mutation_id),
            )
        shared.forget_results()  # the map, chains and lists must show the change
        _clear(("sanction_note", "reject_reason"))
        if "sanction_ack" in st.session_state:
            st.session_state["sanction_ack"] = False
        return done

    def repeat(exc: LandgovError, previous: feedback.Feedback) -> bool:
        # the mutation already left the status this step needs: the first click did it
        return isinstance(exc, SanctionRefused) and exc.rule == "status_transition"

    what = {"verify": "Verification", "sanction": "Sanction", "reject": "Rejection"}[decision]
    done = feedback.run(FEEDBACK_KEY, action, scope=mouza.id, action_key=action_key,
                        repeat_of=repeat, what=what)  # fmt: skip
    if done.kind == "success" and khewats and sanction_on is not None:
        st.session_state[OWNERS_KEY] = (done.serial, khewats, sanction_on)


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
    """The result of the last action (:func:`app.shared.feedback.show`): after a
    sanction, the new owners too, read as on the Parcels page (an access-log row)."""
    shown = feedback.show(FEEDBACK_KEY, scope=mouza.id)
    owners_of = st.session_state.get(OWNERS_KEY)
    if shown is None or shown.kind != "success" or not owners_of or owners_of[0] != shown.serial:
        return
    _, khewats, on = owners_of
    owners = data.khewat_owners(url, mouza.id, khewats, on)
    unmasked = shared.unmask_allowed(url, actor, mouza.id)
    for khewat_no in khewats:
        st.markdown(f"**New owners of khewat {khewat_no}** (from {on})")
        table = shared.owner_table(owners, khewat_no, None, unmasked=unmasked)
        st.dataframe(table.drop(columns=["Area equivalent (K-M-S)"]), hide_index=True)
    shared.log_owner_read(
        url, actor, mouza, "khewat " + ", ".join(str(k) for k in khewats), owners, on,
        unmasked=unmasked,
    )  # fmt: skip


def price_panel(check: PriceCheck) -> None:
    """A sale's price check, as the verifying and sanctioning officers read it: every
    figure in full (a table, never a metric cut off), the warning of an under-declared
    sale."""
    st.markdown(
        f"**Price check** of mutation No. {check.number}, valued on "
        f"{check.valuation_date.isoformat()} (the deed's date, else the entry date)"
    )
    rows = data.price_rows(check)
    table = "| | Rs | |\n|---|---:|---|\n" + "\n".join(
        f"| {what} | {value.removeprefix('Rs ')} | {note_} |" for what, value, note_ in rows
    )
    st.markdown(table)
    warning = data.price_warning(check)
    if warning:
        st.warning(
            f"**{warning}** The sanctioning officer must acknowledge it before sanctioning.",
            icon=feedback.ICONS["conflict"],
        )
    elif check.unvalued:
        st.info(f"The price was not checked: {check.unvalued}.", icon=feedback.ICONS["info"])


def pending_panel(url: str, mouza: MouzaSummary, pending: pd.DataFrame, actor: Actor) -> None:
    """The mouza's pending mutations, a sale's price check and the forms the actor's
    roles allow: verify, sanction, reject."""
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
    check = data.price_check(url, int(picked))
    if check is not None:
        price_panel(check)
    for column, (step, _cap) in zip(st.columns(len(forms), gap="medium"), forms, strict=True):
        with column, st.form(f"{step}_form", border=True):
            st.markdown(f"**{step.capitalize()}**")
            label = {"verify": "Verified on", "sanction": "Sanctioned on", "reject": "Rejected on"}
            st.date_input(label[step], value=date.today(), key=f"{step}_on", format="YYYY-MM-DD")
            if step == "reject":
                st.text_input(
                    "Reason", key="reject_reason", placeholder="e.g. parties did not appear"
                )
            if step == "sanction" and check is not None and check.needs_acknowledgement:
                st.checkbox(
                    "I have seen the price check: the declared price is under-declared, and "
                    "I sanction it all the same",
                    key="sanction_ack",
                )
                st.text_input(
                    "Why (kept with the acknowledgement)",
                    key="sanction_note",
                    placeholder="e.g. taxes paid on the DC value",
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


def party_panel(url: str, mouza: MouzaSummary) -> None:
    """Registering a person not yet in the records (a new buyer), before the entry."""
    with st.expander("New party: register a buyer not yet in the records"):
        st.caption(
            "A mutation names its parties by CNIC. Someone the record does not know yet "
            "(most often a buyer) is registered here first; the CNIC is checked, and one "
            "already in the records is refused with the name it belongs to."
        )
        with st.form("party_form", border=False):
            cols = st.columns([3, 2, 3, 3])
            cols[0].text_input("Name", key="party_name", placeholder="e.g. Bilal Ahmad")
            cols[1].selectbox(
                "Relation", list(RELATIONS), format_func=RELATIONS.__getitem__,
                key="party_relation",
            )  # fmt: skip
            cols[2].text_input("Father's or husband's name", key="party_guardian")
            cols[3].text_input("CNIC", key="party_cnic", placeholder="#####-#######-#")
            st.form_submit_button(
                "Register party",
                key="party_submit",
                on_click=partial(register_party, url, mouza),
            )


def entry_panel(url: str, mouza: MouzaSummary, khewats: list[int]) -> None:
    """The entry form: type, date, lines (khewat, transferor, transferee, share), deed and
    price; above it, registering a new party."""
    if not khewats:
        st.info(f"Mouza {mouza.name} has no khewat in force today.")
        return
    party_panel(url, mouza)
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
            st.caption(
                "A registered deed is entered once: its sub-registrar, year and number "
                "identify it, and a repeat is refused naming the mutation that has it."
            )
            deed = st.columns(3)
            deed[0].text_input("Deed number", key="enter_deed_no")
            deed[1].date_input("Deed date", value=None, key="enter_deed_date", format="YYYY-MM-DD")
            deed[2].text_input("Sub-registrar", key="enter_sub_registrar")
            sale = mtype == MutationType.SALE
            st.number_input(
                "Declared price (Rs) — required for a sale" if sale else "Consideration (Rs)",
                min_value=0,
                value=None,
                step=1000,
                key="enter_consideration",
                help="The price the deed declares. At verification and sanction it is "
                "compared with the DC (statutory) value and the model value.",
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
        "end a right. A buyer not yet in the records: register them above first."
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
