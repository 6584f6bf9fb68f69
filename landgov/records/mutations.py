"""Mutation (intiqal) lifecycle: enter, verify, sanction or reject, and replay.

Lifecycle (domain.md §2, §4)
    ``entered`` (the patwari records the transfer) -> ``verified`` (a girdawar or a
    revenue officer checks it) -> ``sanctioned`` (a revenue officer attests it and the
    shares change) or ``rejected`` (with a reason, from entered or verified). Every
    transition is one transaction with one audit row of the engine (who, when, what
    changed, the shares before and after; the database's triggers add one row per
    statement on the record tables); a refusal writes nothing, not even an audit row.

Who may act
    Only an authenticated actor (:class:`landgov.security.Actor`, from a session, never a
    name a caller types). Every changing function takes ``actor=`` and, in its own
    transaction, first binds it (:func:`landgov.security.bind`: the database checks the
    session again and from then on knows who acts, for its row-level security and its
    audit triggers), then checks it with :func:`landgov.security.authorize` against the
    mutation's mouza and the date given to the step: the role (``mutation.enter``:
    patwari; ``mutation.verify``: girdawar or a revenue officer; ``mutation.sanction`` and
    ``mutation.reject``: naib tehsildar, tehsildar, assistant commissioner), the account's
    officer posted over the mouza today, no date in the future, a past date only within
    the back-dating window (``security_setting.backdate_window_days``) and only when the
    officer was posted there on that date too, and for a sanction or rejection a session
    opened with the second factor. The acting officer is the one the account is bound to
    (``actor.officer_id``). Separation of duties: whoever entered a mutation cannot verify
    it; whoever entered or verified it cannot sanction or reject it
    (:func:`landgov.security.policy.separation_of_duties`; mutations loaded by the demo
    or imported have no accounts recorded, so none conflicts with them).

    These refusals are :class:`~landgov.errors.AccessDenied` (rules ``role``,
    ``jurisdiction``, ``future_date``, ``backdate_window``, ``posting_then_and_now``,
    ``second_factor``, ``separation_of_duties``) and propagate as they are; the record's
    own rules stay :class:`~landgov.errors.SanctionRefused`. Callers show either's
    ``rule``. A session the database no longer accepts is
    :class:`~landgov.errors.AuthenticationFailed`. In every case nothing was written.

    Each step records who: ``entered_by_user``/``entered_by`` (account, officer) on entry,
    ``verified_by_user``/``verified_by`` on verification, ``decided_by_user``/
    ``officer_id`` on sanction or rejection; the server's clock records when
    (``recorded_at``, ``verified_recorded_at``, ``decided_recorded_at``), so a back-dated
    step shows. The engine's audit rows name ``actor.label`` (``user:NAME``) and keep the
    officer's name and designation in their details.

Where each part lives
    This module is the engine's front door: it re-exports the public API below, so
    callers write ``from landgov.records import mutations`` and ``mutations.sanction``.
    A newcomer reads the parts in this order, each depending only on those before it
    (``tests/records/test_module_layout.py`` keeps it so: no import circle, no private
    name borrowed across modules):

    * :mod:`~landgov.records.drafts` -- a mutation as the patwari writes it
      (:class:`DraftLine`, :class:`MutationDraft`, :class:`InheritanceFacts`) and
      :class:`MutationInvalid`;
    * :mod:`~landgov.records.rows` -- the small shared reads (parties by CNIC, khewats by
      number, a mutation's lines, the acting officer);
    * :mod:`~landgov.records.locks` -- the register's advisory lock and the row locks of
      a decision, and the order that keeps them free of deadlocks;
    * :mod:`~landgov.records.inheritance` -- the faraid check of a wirasat
      (:func:`check_inheritance`);
    * :mod:`~landgov.records.parties` -- registering a person not yet in the records
      (:func:`register_party`), so that a mutation can name a new buyer;
    * :mod:`~landgov.records.pricing` -- a sale's price check (:func:`price_check`):
      declared price against the DC and model values, with the tax at stake;
    * :mod:`~landgov.records.entry` -- entering (:func:`enter`,
      :func:`enter_inheritance`), and the one insert every entry ends in;
    * :mod:`~landgov.records.partition` -- taqseem: entering one, and its rules and
      tatimas at sanction;
    * :mod:`~landgov.records.decisions` -- :func:`verify`, :func:`reject` and
      :func:`sanction`, with the steps of a sanction's one transaction (an
      under-declared sale needs the sanctioning officer's acknowledgement);
    * :mod:`~landgov.records.display` -- :func:`find_mutation` and :func:`show`, a
      mutation as people read it;
    * :mod:`~landgov.records.replay` -- :func:`replay_mouza`, the register replayed
      against the stored shares.
"""

from __future__ import annotations

from landgov.records.decisions import SanctionResult, reject, sanction, verify
from landgov.records.display import find_mutation, show
from landgov.records.drafts import (
    DraftLine,
    DuplicateDeed,
    InheritanceFacts,
    MutationDraft,
    MutationInvalid,
)
from landgov.records.entry import enter, enter_inheritance
from landgov.records.inheritance import InheritanceDifference, check_inheritance
from landgov.records.parties import (
    NewParty,
    PartyExists,
    PartyInvalid,
    RegisteredParty,
    register_party,
)
from landgov.records.pricing import REASON_TEXT, PriceCheck, price_check
from landgov.records.replay import ReplayReport, replay_mouza

__all__ = [
    "REASON_TEXT",
    "DraftLine",
    "DuplicateDeed",
    "InheritanceDifference",
    "InheritanceFacts",
    "MutationDraft",
    "MutationInvalid",
    "NewParty",
    "PartyExists",
    "PartyInvalid",
    "PriceCheck",
    "RegisteredParty",
    "ReplayReport",
    "SanctionResult",
    "check_inheritance",
    "enter",
    "enter_inheritance",
    "find_mutation",
    "price_check",
    "register_party",
    "reject",
    "replay_mouza",
    "sanction",
    "show",
    "verify",
]
