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

In the page's language (issue 19): every label, option, confirmation and refusal comes
from the catalogue (``app/locale/<lang>.mutations.toml``). A refusal keeps its kind and
rule; in English its sentence is the records engine's own (it names the party, the share,
the date, as the command line prints it), in another language the catalogue's sentence for
its rule (:func:`refusal_text`: keyed by ``rule`` for the record's and who-may-act's rules,
by ``field`` for a party, by class otherwise). An error with no key is said generically
with the engine's own words after it, never dropped. CNICs and shares may be typed with
Urdu digits (a phone's or a keyboard's): they are read as the same number.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import replace
from datetime import date
from functools import partial
from typing import Any, Final

import pandas as pd
import streamlit as st

from app.shared import context, feedback, i18n
from app.shared import data as shared
from app.views.mutations import data
from app.views.mutations.data import word
from landgov.domain import Heir, MutationType, RightType, School, parse_share
from landgov.domain.records import GuardianRelation
from landgov.errors import (
    AccessDenied,
    AuthenticationFailed,
    InvalidShare,
    LandgovError,
    SanctionConflict,
    SanctionRefused,
)
from landgov.records.pricing import PriceCheck
from landgov.security import Actor
from landgov.storage.lookup import NotFound
from landgov.storage.read import MouzaSummary

FEEDBACK_KEY: Final = "mutation_feedback"
OWNERS_KEY: Final = "mutation_new_owners"
PENDING_KEY: Final = "pending_pick"
MAX_LINES: Final = 8

ENTRY_TYPES = [t.value for t in MutationType if t is not MutationType.PARTITION]
"""A partition names the khasra it divides and its new parcels: ``landgov mutation``."""

RELATIONS: Final = {
    GuardianRelation.SON_OF.value: "mutations.relation.son_of",
    GuardianRelation.DAUGHTER_OF.value: "mutations.relation.daughter_of",
    GuardianRelation.WIFE_OF.value: "mutations.relation.wife_of",
}
SCHOOLS: Final = {"hanafi": "mutations.school.hanafi", "jafari": "mutations.school.jafari"}
HEIRS: Final = {
    "husband": "mutations.heir.husband",
    "wife": "mutations.heir.wife",
    "son": "mutations.heir.son",
    "daughter": "mutations.heir.daughter",
    "sons_son": "mutations.heir.sons_son",
    "sons_daughter": "mutations.heir.sons_daughter",
    "father": "mutations.heir.father",
    "mother": "mutations.heir.mother",
    "paternal_grandfather": "mutations.heir.paternal_grandfather",
    "paternal_grandmother": "mutations.heir.paternal_grandmother",
    "maternal_grandmother": "mutations.heir.maternal_grandmother",
    "full_brother": "mutations.heir.full_brother",
    "full_sister": "mutations.heir.full_sister",
    "consanguine_brother": "mutations.heir.consanguine_brother",
    "consanguine_sister": "mutations.heir.consanguine_sister",
    "uterine_brother": "mutations.heir.uterine_brother",
    "uterine_sister": "mutations.heir.uterine_sister",
    "full_brothers_son": "mutations.heir.full_brothers_son",
    "full_paternal_uncle": "mutations.heir.full_paternal_uncle",
}
POWERS: Final = (
    ("mutation.enter", "mutations.power.enter"),
    ("mutation.verify", "mutations.power.verify"),
    ("mutation.sanction", "mutations.power.sanction"),
    ("mutation.reject", "mutations.power.reject"),
)
STEPS: Final = {  # step -> (capability, heading and button, date label, what for a refusal)
    "verify": ("mutation.verify", "mutations.pending.verify", "mutations.pending.verify_on",
               "mutations.what.verification"),
    "sanction": ("mutation.sanction", "mutations.pending.sanction",
                 "mutations.pending.sanction_on", "mutations.what.sanction"),
    "reject": ("mutation.reject", "mutations.pending.reject", "mutations.pending.reject_on",
               "mutations.what.rejection"),
}  # fmt: skip
RULES: Final = {  # the record's rules (SanctionRefused) -> the explanation
    # (who-may-act's rules, AccessDenied, are the frame's: app.shared.feedback.RULES)
    "line_shape": "mutations.rule.line_shape",
    "transferor_holds_share": "mutations.rule.transferor_holds_share",
    "khewat_sums_to_one": "mutations.rule.khewat_sums_to_one",
    "encumbrance_exceeds_ownership": "mutations.rule.encumbrance_exceeds_ownership",
    "transferor_alive_on_deed_date": "mutations.rule.transferor_alive_on_deed_date",
    "status_transition": "mutations.rule.status_transition",
    "sanction_date_order": "mutations.rule.sanction_date_order",
    "partition_khasra": "mutations.rule.partition_khasra",
    "partition_encumbered": "mutations.rule.partition_encumbered",
    "partition_owners": "mutations.rule.partition_owners",
    "partition_too_small": "mutations.rule.partition_too_small",
    "faraid_shares": "mutations.rule.faraid_shares",
    "under_declared_price": "mutations.rule.under_declared_price",
}
PARTY_FIELDS: Final = {  # PartyInvalid.field -> what is wrong with it
    "cnic": "mutations.refusal.cnic",
    "name": "mutations.refusal.name",
    "guardian_name": "mutations.refusal.guardian_name",
    "guardian_relation": "mutations.refusal.guardian_relation",
    "name_ur": "mutations.refusal.name_ur",
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
CNIC_PLACEHOLDER: Final = "#####-#######-#"


def engine_available() -> bool:
    """Whether this landgov has the mutation engine (``landgov.records.mutations``)."""
    import importlib.util

    return importlib.util.find_spec("landgov.records.mutations") is not None


# --- words ------------------------------------------------------------------------------


def who(actor: Actor, lang: str = i18n.DEFAULT) -> str:
    """``Nasir Ali (girdawar)`` / ``Nasir Ali (گرداور)``: the actor as outcomes and
    captions name them (the name as the account holds it)."""
    if actor.designation:
        role = word(data.ROLES, actor.designation, lang)
    elif actor.roles:
        comma = i18n.t("mutations.list_comma", lang)
        role = comma.join(word(data.ROLES, r, lang) for r in sorted(actor.roles))
    else:
        role = i18n.t("mutations.role.none", lang)
    return i18n.t("mutations.who", lang, name=actor.full_name, role=role)


def mutation_powers(actor: Actor, lang: str = i18n.DEFAULT) -> str | None:
    """What ``actor`` may do with mutations (``enter, verify and sanction``), None for
    nothing; a sentence around it says "mutations" (Urdu puts the verb after it)."""
    may = [i18n.t(key, lang) for cap, key in POWERS if actor.has(cap)]
    if not may:
        return None
    if len(may) == 1:
        return may[0]
    first = i18n.t("mutations.list_comma", lang).join(may[:-1])
    return i18n.t("mutations.list_and", lang, first=first, last=may[-1])


def signed_in_caption(actor: Actor, lang: str = i18n.DEFAULT) -> str:
    """The page's "Signed in as … you may …" line."""
    powers = mutation_powers(actor, lang)
    if powers is None:
        return i18n.t("mutations.signed_in_none", lang, who=who(actor, lang))
    return i18n.t("mutations.signed_in", lang, who=who(actor, lang), powers=powers)


def _number(number: int | None, lang: str) -> str:
    """A mutation's number as the register writes it (never grouped: No. 1234)."""
    return i18n.record_number(str(number), lang)


def refusal_text(exc: LandgovError, lang: str) -> str:
    """Why an action was refused, in ``lang``: the catalogue's sentence for the error's
    rule, field or class (module notes); an error with no key generically, with the
    records engine's own words after it."""
    from landgov.records.mutations import DuplicateDeed, PartyExists, PartyInvalid

    _ = i18n.Words(lang)
    if isinstance(exc, _FormError):
        return _(exc.key, **exc.fields)
    if isinstance(exc, DuplicateDeed):
        return _("mutations.refusal.duplicate_deed", number=_number(exc.earlier_number, lang),
                 mouza=exc.earlier_mouza)  # fmt: skip
    if isinstance(exc, PartyExists):
        found = exc.existing
        label = data.party(found.name, found.guardian_relation, found.guardian_name, None, lang)
        return _("mutations.refusal.party_exists", cnic=i18n.record_number(found.cnic, lang),
                 party=label or found.name)  # fmt: skip
    key: str | None = None
    if isinstance(exc, PartyInvalid):
        key = PARTY_FIELDS.get(exc.field)
    elif isinstance(exc, SanctionRefused | AccessDenied):
        key = RULES.get(exc.rule)
    elif isinstance(exc, SanctionConflict):
        key = "mutations.refusal.conflict"
    elif isinstance(exc, AuthenticationFailed):
        key = "mutations.refusal.signed_out"
    elif isinstance(exc, NotFound):
        key = "mutations.refusal.not_found"
    if key is not None:
        return _(key)
    words = getattr(exc, "message", None) or str(exc)
    return _("mutations.refusal.unkeyed", words=str(words).rstrip("."))


# --- the actions (callbacks) ---------------------------------------------------------
# The page checks the commonest slips itself (a line's share, a sale's price, a deed's
# number and date together, a rejection's reason) so they are said in the page's language
# with nothing sent; the records engine checks them again, and everything else.


class _FormError(LandgovError):
    """A form field is missing or unreadable; nothing was sent to the records engine.
    ``key`` and ``fields`` say it in any language; the message is the English."""

    def __init__(self, key: str, **fields: Any) -> None:
        self.key = key
        self.fields = fields
        super().__init__(i18n.t(key, i18n.DEFAULT, **fields))


class _Repeat(_FormError):
    """The same draft as the entry this session just made: a second click."""


def _text(key: str) -> str | None:
    value = st.session_state.get(key)
    if value is None:
        return None
    return str(value).strip() or None


def _typed_number(key: str) -> str | None:
    """A CNIC or a share as typed, with Urdu (or any) digits read as ASCII ones."""
    typed = _text(key)
    return None if typed is None else i18n.ascii_digits(typed)


def _actor() -> Actor:
    """The signed-in actor of this browser session (the database checks the session
    again when the action binds it)."""
    actor = context.current().actor
    if actor is None:
        raise AuthenticationFailed("not signed in: sign in again")
    return actor


def _run(
    lang: str,
    action: Callable[[], feedback.Feedback],
    *,
    scope: Hashable,
    action_key: Hashable,
    repeat_of: Callable[[LandgovError, feedback.Feedback], bool],
    what: str,
) -> feedback.Feedback:
    """:func:`app.shared.feedback.run`, with the refusals only this page knows said in
    the page's language.

    English keeps the engine's own sentence (module notes). In another language the
    frame explains who-may-act's rules itself (:data:`app.shared.feedback.RULES`); any
    other refusal, conflict or error is told by :func:`refusal_text`, as a failed action
    whose sentence already holds the reason (the frame has no words for the record's
    rules, so it would otherwise show the rule's identifier and the English words)."""
    caught: list[LandgovError] = []

    def tracked() -> feedback.Feedback:
        try:
            return action()
        except LandgovError as exc:
            caught.append(exc)
            raise

    done = feedback.run(FEEDBACK_KEY, tracked, scope=scope, action_key=action_key,
                        repeat_of=repeat_of, what=what)  # fmt: skip
    if lang == i18n.DEFAULT or done.kind == "success" or not caught:
        return done
    if done.kind == "refused" and done.rule in feedback.RULES:
        return done
    kind: feedback.Kind = "conflict" if done.kind == "conflict" else "error"
    said = refusal_text(caught[-1], lang).rstrip(".۔")
    return feedback.store(FEEDBACK_KEY, replace(done, kind=kind, message=said))


def _draft_lines(count: int, khewat_choices: list[int]) -> list[Any]:
    from landgov.records.mutations import DraftLine

    lines = []
    for i in range(count):
        khewat = st.session_state.get(f"line_{i}_khewat")
        if khewat is None:
            khewat = khewat_choices[0] if khewat_choices else None
        if khewat is None:
            raise _FormError("mutations.form.line_khewat", line=i + 1)
        share_text = _typed_number(f"line_{i}_share")
        if share_text is None:
            raise _FormError("mutations.form.line_share", line=i + 1)
        try:
            share = parse_share(share_text)
        except InvalidShare:
            raise _FormError("mutations.form.bad_share", line=i + 1, share=share_text) from None
        lines.append(
            DraftLine(
                khewat_no=int(khewat),
                transferor=_typed_number(f"line_{i}_from"),
                transferee=_typed_number(f"line_{i}_to"),
                share=share,
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


def enter_mutation(
    url: str, mouza: MouzaSummary, khewat_choices: list[int], lang: str = i18n.DEFAULT
) -> None:
    """Callback of "Enter mutation": :func:`landgov.records.mutations.enter` (or
    :func:`~landgov.records.mutations.enter_inheritance` for a wirasat)."""
    _ = i18n.Words(lang)
    count = int(st.session_state.get("enter_lines") or 1)
    previous = feedback.latest(FEEDBACK_KEY)
    if _pristine(count) and previous is not None and previous.kind == "success":
        st.toast(_("mutations.done.empty"), icon=feedback.ICONS["info"])
        return
    fingerprint = ("enter", mouza.id, _entry_fingerprint(count))

    def action() -> feedback.Feedback:
        from landgov.records import mutations

        if previous is not None and previous.kind == "success" and previous.action == fingerprint:
            raise _Repeat("mutations.form.repeat")
        actor = _actor()
        mtype = str(st.session_state.get("enter_type") or ENTRY_TYPES[0])
        entered_on = st.session_state.get("enter_on") or date.today()
        if mtype == MutationType.INHERITANCE:
            deceased = _typed_number("inh_deceased")
            if deceased is None:
                raise _FormError("mutations.form.deceased")
            heirs = {}
            for i in range(count):
                cnic = _typed_number(f"heir_{i}_cnic")
                if cnic is not None:
                    heirs[cnic] = str(st.session_state.get(f"heir_{i}_kind") or Heir.SON)
            if not heirs:
                raise _FormError("mutations.form.heirs")
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
            if mtype == MutationType.SALE and (consideration is None or int(consideration) <= 0):
                raise _FormError("mutations.form.sale_price")
            if (_text("enter_deed_no") is None) != (
                st.session_state.get("enter_deed_date") is None
            ):
                raise _FormError("mutations.form.deed_pair")
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
        number = _number(data.mutation_number(url, mutation_id), lang)
        shared.forget_results()  # the map, chains and lists must show the change
        _clear_entry()
        st.session_state[PENDING_KEY] = mutation_id  # ready to verify under "Pending"
        return feedback.success(
            _("mutations.done.entered_title", number=number),
            _("mutations.done.entered", number=number, type=word(data.TYPES, mtype, lang),
              date=entered_on),
            scope=mouza.id,
            ref=mutation_id,
        )  # fmt: skip

    _run(lang, action, scope=mouza.id, action_key=fingerprint, repeat_of=_is_repeat_entry,
         what=_("mutations.what.entry"))  # fmt: skip


def register_party(url: str, mouza: MouzaSummary, lang: str = i18n.DEFAULT) -> None:
    """Callback of "Register party": :func:`landgov.records.mutations.register_party`;
    the new party's CNIC is filled in as the first empty transferee of the entry form."""
    _ = i18n.Words(lang)
    cnic_typed = _typed_number("party_cnic") or ""
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
        message = _(
            "mutations.done.party",
            party=data.party(party.name, party.guardian_relation, party.guardian_name, None,
                             lang) or party.name,
            cnic=i18n.record_number(party.cnic, lang),
        )  # fmt: skip
        if line is not None and st.session_state.get("enter_type") != MutationType.INHERITANCE:
            st.session_state[f"line_{line}_to"] = party.cnic
            message += " " + _("mutations.done.party_line", line=line + 1)
        shared.forget_results()
        return feedback.success(
            _("mutations.done.party_title"), message, scope=mouza.id, ref=party.id
        )

    def repeat(exc: LandgovError, previous: feedback.Feedback) -> bool:
        from landgov.records.mutations import PartyExists

        return isinstance(exc, PartyExists) and exc.existing.id == previous.ref

    _run(lang, action, scope=mouza.id, action_key=action_key, repeat_of=repeat,
         what=_("mutations.what.registration"))  # fmt: skip


def decide(url: str, mouza: MouzaSummary, decision: str, lang: str = i18n.DEFAULT) -> None:
    """Callback of the verify, sanction and reject buttons of the chosen pending mutation."""
    _ = i18n.Words(lang)
    mutation_id = st.session_state.get(PENDING_KEY)
    action_key = (decision, mutation_id)
    khewats: tuple[int, ...] = ()
    sanction_on: date | None = None

    def action() -> feedback.Feedback:
        nonlocal khewats, sanction_on
        from landgov.records import mutations

        actor = _actor()
        if mutation_id is None:
            raise _FormError("mutations.form.pick")
        engine = shared.engine(url)
        number = _number(data.mutation_number(url, int(mutation_id)), lang)
        by = who(actor, lang)
        if decision == "verify":
            on = st.session_state.get("verify_on") or date.today()
            mutations.verify(engine, int(mutation_id), actor=actor, on=on)
            done = feedback.success(
                _("mutations.done.verified_title", number=number),
                _("mutations.done.verified", number=number, date=on, who=by),
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
            message = _("mutations.done.sanctioned", number=number, date=on, who=by,
                        closed=result.closed, opened=result.opened)  # fmt: skip
            if st.session_state.get("sanction_ack"):
                message += " " + _("mutations.done.acknowledged")
            done = feedback.success(
                _("mutations.done.sanctioned_title", number=number),
                message,
                scope=mouza.id,
                ref=int(mutation_id),
            )
        else:
            on = st.session_state.get("reject_on") or date.today()
            reason = _text("reject_reason")
            if reason is None:
                raise _FormError("mutations.form.reason")
            mutations.reject(engine, int(mutation_id), actor=actor, on=on, reason=reason)
            done = feedback.success(
                _("mutations.done.rejected_title", number=number),
                _("mutations.done.rejected", number=number, date=on, who=by, reason=reason),
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

    what = _(STEPS[decision][3])
    done = _run(lang, action, scope=mouza.id, action_key=action_key, repeat_of=repeat,
                what=what)  # fmt: skip
    if done.kind == "success" and khewats and sanction_on is not None:
        st.session_state[OWNERS_KEY] = (done.serial, khewats, sanction_on)


# --- the panels ------------------------------------------------------------------------


def outcome_panel(url: str, mouza: MouzaSummary, actor: Actor, lang: str = i18n.DEFAULT) -> None:
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
        st.markdown(i18n.t("mutations.table.owners_of", lang,
                           khewat=i18n.record_number(str(khewat_no), lang), date=on))  # fmt: skip
        st.dataframe(data.owners_table(owners, khewat_no, lang, unmasked=unmasked),
                     hide_index=True)  # fmt: skip
    shared.log_owner_read(
        url, actor, mouza, "khewat " + ", ".join(str(k) for k in khewats), owners, on,
        unmasked=unmasked,
    )  # fmt: skip


def price_panel(check: PriceCheck, lang: str = i18n.DEFAULT) -> None:
    """A sale's price check, as the verifying and sanctioning officers read it: every
    figure in full (a table, never a metric cut off), the warning of an under-declared
    sale. The valuation service's own words are shown where no key says them."""
    _ = i18n.Words(lang)
    st.markdown(
        _("mutations.price.heading", number=_number(check.number, lang),
          date=check.valuation_date)
    )  # fmt: skip
    rows = data.price_rows(check, lang)
    table = f"| | {_('mutations.price.rs')} | |\n|---|---:|---|\n" + "\n".join(
        f"| {what} | {value} | {note_} |" for what, value, note_ in rows
    )
    st.markdown(table)
    _note, service_words = data.model_note(check.model_note, lang)
    if service_words:
        st.caption(_("mutations.price.as_recorded", words=service_words))
    warning = data.price_warning(check, lang)
    if warning:
        st.warning(
            f"**{warning}** {_('mutations.price.must_acknowledge')}",
            icon=feedback.ICONS["conflict"],
        )
    elif check.unvalued:
        st.info(_("mutations.price.unvalued"), icon=feedback.ICONS["info"])
        st.caption(_("mutations.price.as_recorded", words=check.unvalued))


def pending_panel(
    url: str, mouza: MouzaSummary, pending: pd.DataFrame, actor: Actor, lang: str = i18n.DEFAULT
) -> None:
    """The mouza's pending mutations, a sale's price check and the forms the actor's
    roles allow: verify, sanction, reject."""
    _ = i18n.Words(lang)
    if pending.empty:
        st.info(_("mutations.pending.none"))
        return
    st.dataframe(data.pending_table(pending, lang), hide_index=True, width="stretch")
    choices = data.pending_choices(pending, lang)
    if st.session_state.get(PENDING_KEY) not in choices:
        st.session_state[PENDING_KEY] = None
    picked = st.selectbox(
        _("mutations.pending.pick"),
        options=list(choices),
        index=None,
        format_func=choices.__getitem__,
        placeholder=_("mutations.pending.pick_placeholder"),
        key=PENDING_KEY,
    )
    if picked is None:
        return
    status = str(pending[pending["mutation_id"] == picked].iloc[0]["status"])
    steps = [step for step, (cap, *_keys) in STEPS.items() if actor.has(cap)]
    if not steps:
        powers = mutation_powers(actor, lang)
        st.caption(
            _("mutations.pending.others_decide_none", who=who(actor, lang))
            if powers is None
            else _("mutations.pending.others_decide", who=who(actor, lang), powers=powers)
        )
        return
    check = data.price_check(url, int(picked))
    if check is not None:
        price_panel(check, lang)
    disabled = {"verify": status != "entered", "sanction": status != "verified"}
    for column, step in zip(st.columns(len(steps), gap="medium"), steps, strict=True):
        _cap, heading, date_label, _what = STEPS[step]
        with column, st.form(f"{step}_form", border=True):
            st.markdown(f"**{_(heading)}**")
            st.date_input(_(date_label), value=date.today(), key=f"{step}_on",
                          format="YYYY-MM-DD")  # fmt: skip
            if step == "reject":
                st.text_input(_("mutations.pending.reason"), key="reject_reason",
                              placeholder=_("mutations.pending.reason_placeholder"))  # fmt: skip
            if step == "sanction" and check is not None and check.needs_acknowledgement:
                st.checkbox(_("mutations.pending.acknowledge"), key="sanction_ack")
                st.text_input(_("mutations.pending.why"), key="sanction_note",
                              placeholder=_("mutations.pending.why_placeholder"))  # fmt: skip
            st.form_submit_button(
                _(heading),
                key=f"{step}_submit",
                type="primary" if step == "sanction" else "secondary",
                disabled=disabled.get(step, False),
                on_click=partial(decide, url, mouza, step, lang),
            )


def party_panel(url: str, mouza: MouzaSummary, lang: str = i18n.DEFAULT) -> None:
    """Registering a person not yet in the records (a new buyer), before the entry."""
    _ = i18n.Words(lang)
    with st.expander(_("mutations.party.expander")):
        st.caption(_("mutations.party.caption"))
        with st.form("party_form", border=False):
            cols = st.columns([3, 2, 3, 3])
            cols[0].text_input(_("mutations.party.name"), key="party_name",
                               placeholder=_("mutations.party.name_placeholder"))  # fmt: skip
            cols[1].selectbox(
                _("mutations.party.relation"), list(RELATIONS),
                format_func=lambda r: word(RELATIONS, r, lang), key="party_relation",
            )  # fmt: skip
            cols[2].text_input(_("mutations.party.guardian"), key="party_guardian")
            cols[3].text_input(_("mutations.party.cnic"), key="party_cnic",
                               placeholder=CNIC_PLACEHOLDER)  # fmt: skip
            st.form_submit_button(
                _("mutations.party.submit"),
                key="party_submit",
                on_click=partial(register_party, url, mouza, lang),
            )


def entry_panel(
    url: str, mouza: MouzaSummary, khewats: list[int], lang: str = i18n.DEFAULT
) -> None:
    """The entry form: type, date, lines (khewat, transferor, transferee, share), deed and
    price; above it, registering a new party."""
    _ = i18n.Words(lang)
    if not khewats:
        st.info(_("mutations.no_khewat", mouza=data.mouza_name(mouza, lang)))
        return
    party_panel(url, mouza, lang)
    top = st.columns(2)
    with top[0]:
        mtype = st.selectbox(
            _("mutations.entry.type"),
            ENTRY_TYPES,
            key="enter_type",
            format_func=lambda t: word(data.TYPES, t, lang),
            help=_("mutations.entry.type_help"),
        )
    inheritance = mtype == MutationType.INHERITANCE
    with top[1]:
        count = st.number_input(
            _("mutations.entry.heirs") if inheritance else _("mutations.entry.lines"),
            min_value=1,
            max_value=MAX_LINES,
            value=1,
            step=1,
            key="enter_lines",
        )
    with st.form("enter_form", border=True):
        st.date_input(_("mutations.entry.entered_on"), value=date.today(), key="enter_on",
                      format="YYYY-MM-DD")  # fmt: skip
        if inheritance:
            _inheritance_fields(int(count), khewats, lang)
        else:
            _line_fields(int(count), khewats, lang)
            st.caption(_("mutations.entry.deed_caption"))
            deed = st.columns(3)
            deed[0].text_input(_("mutations.entry.deed_no"), key="enter_deed_no")
            deed[1].date_input(_("mutations.entry.deed_date"), value=None, key="enter_deed_date",
                               format="YYYY-MM-DD")  # fmt: skip
            deed[2].text_input(_("mutations.entry.sub_registrar"), key="enter_sub_registrar")
            sale = mtype == MutationType.SALE
            st.number_input(
                _("mutations.entry.price_sale") if sale else _("mutations.entry.price"),
                min_value=0,
                value=None,
                step=1000,
                key="enter_consideration",
                help=_("mutations.entry.price_help"),
            )
        st.text_input(_("mutations.entry.remarks"), key="enter_remarks")
        st.form_submit_button(
            _("mutations.entry.submit"),
            key="enter_submit",
            type="primary",
            on_click=partial(enter_mutation, url, mouza, khewats, lang),
        )


def _khewat_number(lang: str) -> Callable[[int], str]:
    return lambda k: i18n.record_number(str(k), lang)


def _line_fields(count: int, khewats: list[int], lang: str) -> None:
    _ = i18n.Words(lang)
    st.caption(_("mutations.entry.lines_caption"))
    rights = [r.value for r in RightType]
    for i in range(count):
        cols = st.columns([1, 2, 2, 1, 2])
        cols[0].selectbox(_("mutations.entry.khewat_line", line=i + 1), khewats,
                          key=f"line_{i}_khewat", format_func=_khewat_number(lang))  # fmt: skip
        cols[1].text_input(_("mutations.entry.from"), key=f"line_{i}_from",
                           placeholder=CNIC_PLACEHOLDER)  # fmt: skip
        cols[2].text_input(_("mutations.entry.to"), key=f"line_{i}_to",
                           placeholder=CNIC_PLACEHOLDER)  # fmt: skip
        cols[3].text_input(_("mutations.entry.share"), key=f"line_{i}_share",
                           placeholder=i18n.digits("1/4", lang))  # fmt: skip
        cols[4].selectbox(_("mutations.entry.right"), rights, key=f"line_{i}_right",
                          format_func=lambda r: word(data.RIGHTS, r, lang))  # fmt: skip


def _inheritance_fields(count: int, khewats: list[int], lang: str) -> None:
    _ = i18n.Words(lang)
    st.caption(_("mutations.entry.inheritance_caption"))
    cols = st.columns(3)
    cols[0].text_input(_("mutations.entry.deceased"), key="inh_deceased",
                       placeholder=CNIC_PLACEHOLDER)  # fmt: skip
    cols[1].selectbox(_("mutations.entry.school"), [s.value for s in School], key="inh_school",
                      format_func=lambda s: word(SCHOOLS, s, lang))  # fmt: skip
    cols[2].selectbox(
        _("mutations.entry.khewat"),
        khewats,
        index=None,
        placeholder=_("mutations.entry.every_khewat"),
        key="inh_khewat",
        format_func=_khewat_number(lang),
    )
    kinds = [h.value for h in Heir]
    for i in range(count):
        left, right = st.columns(2)
        left.text_input(_("mutations.entry.heir_cnic", heir=i + 1), key=f"heir_{i}_cnic")
        right.selectbox(_("mutations.entry.heir_kind"), kinds, key=f"heir_{i}_kind",
                        format_func=lambda k: word(HEIRS, k, lang))  # fmt: skip
