"""The faraid check of an inheritance (wirasat) mutation.

Inheritance (wirasat)
    Party relations are not in the database, so the officer states each heir's kind
    (``son``, ``wife``..., or ``predeceased_son_1.daughter`` under MFLO 1961 s.4); they
    are stored with the mutation (``mutation_heir``, excluded heirs included).
    :func:`landgov.records.entry.enter_inheritance` computes the lines with
    :func:`landgov.domain.faraid.compute_shares` times the deceased's share, exactly.
    :func:`check_inheritance` recomputes them for any entered inheritance mutation; a
    mutation whose lines differ is flagged on entry (``mutation_flag``, rule
    ``faraid_shares``, and in the entry's audit row) and refused on sanction with rule
    ``faraid_shares``: an officer cannot override faraid, only reject the mutation and
    have a correct one entered. The estate is the deceased's ownership in the khewats
    the mutation names, as held on the day of the check (so a sale in the deceased's
    name sanctioned in between makes the wirasat differ). The check cannot see an heir
    who is not named at all (domain.md §6.5, an omitted daughter): that needs the
    family tree, which the record does not hold.

Entry (:mod:`~landgov.records.entry`) and sanction (:mod:`~landgov.records.decisions`)
both call :func:`inheritance_differences` inside their own transaction; this module
writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from landgov.domain import ledger
from landgov.domain.shares import format_share
from landgov.records.drafts import MutationInvalid
from landgov.records.register import register_for
from landgov.records.rows import khewat_numbers, mouza_of_mutation, mutation_lines, party_refs
from landgov.storage.lookup import NotFound

__all__ = ["InheritanceDifference", "check_inheritance", "inheritance_differences"]


@dataclass(frozen=True)
class InheritanceDifference:
    """One heir (or khewat) where an inheritance mutation differs from faraid."""

    khewat_no: int
    party: str  # CNIC or custodian
    heir_kind: str | None
    expected: Fraction
    recorded: Fraction

    def __str__(self) -> str:
        kind = f" ({self.heir_kind})" if self.heir_kind else ""
        return (
            f"khewat {self.khewat_no}: {self.party}{kind} should receive "
            f"{_fmt(self.expected)}, the mutation gives {_fmt(self.recorded)}"
        )


def _fmt(share: Fraction) -> str:
    return format_share(share) if share else "0"


def inheritance_differences(conn: Connection, mutation_id: int) -> list[InheritanceDifference]:
    """Where the stored inheritance mutation ``mutation_id`` differs from faraid, read in
    the caller's transaction (:func:`check_inheritance` says which estate).

    Raises:
        MutationInvalid: the mutation has no inheritance facts. InvalidHeirs: the heirs
            named are a case the calculator does not cover.
    """
    facts = conn.execute(
        text("SELECT deceased_party_id, school FROM mutation_inheritance WHERE mutation_id = :m"),
        {"m": mutation_id},
    ).one_or_none()
    if facts is None:
        raise MutationInvalid(
            f"mutation id {mutation_id} has no inheritance facts (deceased, heirs): "
            "it cannot be checked against faraid"
        )
    deceased, school = int(facts[0]), str(facts[1])
    heirs = {
        int(p): str(k)
        for p, k in conn.execute(
            text("SELECT party_id, heir_kind FROM mutation_heir WHERE mutation_id = :m"),
            {"m": mutation_id},
        ).all()
    }
    lines = [line for line in mutation_lines(conn, mutation_id) if line.right_type == "ownership"]
    khewats = sorted({line.khewat_id for line in lines})
    # the estate as the register states it (imported mutations included): just before
    # the mutation took effect when it is sanctioned, else the register today
    reg = register_for(conn, [mouza_of_mutation(conn, mutation_id)])
    estate: dict[int, Fraction] = {}
    for kid in khewats:
        held = (
            reg.held_before(mutation_id, kid, deceased)
            if mutation_id in reg.mutations
            else reg.holdings_on(kid).get((deceased, "ownership"), Fraction(0))
        )
        if held:
            estate[kid] = held
    state = conn.execute(text("SELECT id FROM party WHERE custodian = 'board_of_revenue'")).scalar()
    expected = ledger.faraid_expected(estate, heirs, school=school, bait_ul_mal_party=state)
    recorded: dict[tuple[int, int], Fraction] = {}
    for line in lines:
        if line.transferor != deceased or line.transferee is None:
            continue
        key = (line.khewat_id, line.transferee)
        recorded[key] = recorded.get(key, Fraction(0)) + line.share
    numbers = khewat_numbers(conn, khewats)
    refs = party_refs(conn, {p for _, p in expected.keys() | recorded.keys()})
    diffs = []
    for key in sorted(expected.keys() | recorded.keys(), key=lambda k: (numbers[k[0]], k[1])):
        want, got = expected.get(key, Fraction(0)), recorded.get(key, Fraction(0))
        if want != got:
            kid, pid = key
            diffs.append(
                InheritanceDifference(numbers[kid], refs.get(pid, str(pid)), heirs.get(pid),
                                      want, got)
            )  # fmt: skip
    return diffs


def check_inheritance(engine: Engine, mutation_id: int) -> list[InheritanceDifference]:
    """Where an inheritance mutation's lines differ from faraid for the heirs it names.

    Empty when they agree. The estate is the deceased's ownership in the khewats the
    mutation names, as the register states it (:mod:`landgov.records.register`, imported
    mutations included): just before the mutation took effect when it is sanctioned (a
    sanctioned wirasat has already emptied the deceased's holding), else today.

    Raises:
        NotFound: no such mutation. MutationInvalid: not an inheritance mutation.
        InvalidHeirs: the heirs named are a case the calculator does not cover.
    """
    with engine.connect() as conn:
        mtype = conn.execute(
            text("SELECT type FROM mutation WHERE id = :m"), {"m": mutation_id}
        ).scalar()
        if mtype is None:
            raise NotFound(f"no mutation with id {mutation_id}")
        if mtype != "inheritance":
            raise MutationInvalid(f"mutation id {mutation_id} is a {mtype}, not an inheritance")
        return inheritance_differences(conn, mutation_id)
