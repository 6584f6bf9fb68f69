"""The ledger of a khewat: what a mutation does to its shares, and the rules it must keep.

Pure computation, no database: :mod:`landgov.records.decisions` loads the open share rows
of the khewats a mutation touches, asks this module for the new holdings (or a refusal)
and writes the difference; :func:`rebuild` replays a whole register from the settlement
to the share periods it implies, for ``landgov mutation rebuild`` and the benchmark.

Holdings
    The holdings of one khewat are ``{(party_id, right_type): Fraction}``, every share a
    fraction of the whole khewat (domain.md §2). Several open rows of one party and right
    (the demo's lease writes one per lessor) are one holding, their sum. Fractions only,
    never floats (domain.md §2): a float total of a valid khewat can miss 1.

What each mutation type does (domain.md §4)
    * sale, gift, inheritance, exchange, court decree, partition (*transfers*): a line
      moves ``share`` of its right from the transferor to the transferee; a line with
      only a transferor ends that much of the transferor's right, one with only a
      transferee creates it (a partition's new khewat: each co-owner 1/1 of a tatima).
      An exchange is two-way lines: A gives to B in one khewat, B to A in another; each
      khewat is checked on its own, and the mutation is refused if either is.
    * mortgage and lease (*grants*): a line creates a mortgage (with or without
      possession) or lease right of ``share`` for the transferee (mortgagee, lessee)
      over the transferor's ownership; ownership does not change, so it still sums to 1.
    * redemption (*releases*, fak-ul-rehn): a line ends ``share`` of the transferor's
      mortgage (or lease) right; the transferee is the owner it is released to.

Rules (each a :class:`~landgov.errors.SanctionRefused` with this rule id)
    * ``line_shape``: a share in (0, 1], a party on at least one side and not the same
      on both, and a right type that fits the mutation type (mortgage lines carry a
      mortgage right, lease lines a lease right, redemption lines a non-ownership right).
    * ``transferor_holds_share``: what one transferor gives in one khewat, over all of
      the mutation's lines, is at most what the transferor holds on the sanction date.
      For a grant the measure is the grantor's ownership (a mortgaged fraction cannot
      exceed the mortgagor's ownership); for a release the mortgagee's right.
    * ``khewat_sums_to_one``: afterwards the ownership shares total exactly 1 (exact
      Fractions). A partition may leave its old khewat at 0 when it divides the
      khewat's only khasra: the account closes, and then nothing else may stay open on it.
    * ``encumbrance_exceeds_ownership``: afterwards the mortgage rights, and the lease
      rights, of a khewat each total at most its ownership (1): two mortgages of the
      same land cannot both be real.
    * ``transferor_alive_on_deed_date``: every transferor of a non-inheritance mutation
      died after the deed date (or after the entry date when there is no deed). A deed
      dated the day of death is refused: the record cannot show it came first.
    * ``status_transition``: entered -> verified -> sanctioned, or entered/verified ->
      rejected; nothing else.
    * ``sanction_date_order``: a decision is not before entry or verification, and a
      sanction is after the khewat's latest share change (share periods are whole days,
      so a second change on the same day would give a period of no length; and a
      sanction dated before a later one would rewrite history).
    * ``officer_jurisdiction`` and ``faraid_shares`` are decided where their facts live
      (:mod:`landgov.records.decisions`, :mod:`landgov.records.inheritance`), with the
      helpers :func:`heirs_from_kinds` and :func:`faraid_expected` for the second.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from fractions import Fraction
from typing import Final, NamedTuple

from landgov.domain.faraid import (
    BAIT_UL_MAL,
    Heir,
    Heirs,
    PredeceasedChild,
    School,
    compute_shares,
)
from landgov.domain.shares import format_share
from landgov.errors import InvalidHeirs, SanctionRefused

__all__ = [
    "ENCUMBRANCES",
    "GRANT_TYPES",
    "MORTGAGE_RIGHTS",
    "OWNERSHIP",
    "RELEASE_TYPES",
    "Holdings",
    "Key",
    "Line",
    "RebuildResult",
    "ReplayIssue",
    "ReplayMutation",
    "SharePeriod",
    "apply_lines",
    "check_alive",
    "check_decision_date",
    "check_line",
    "check_transition",
    "compare_periods",
    "faraid_expected",
    "heirs_from_kinds",
    "holdings_from_rows",
    "rebuild",
    "timeline",
]

OWNERSHIP: Final = "ownership"
MORTGAGE_RIGHTS: Final = frozenset({"mortgage_with_possession", "mortgage_without_possession"})
LEASE: Final = "lease"
ENCUMBRANCES: Final = MORTGAGE_RIGHTS | {LEASE}
RIGHT_TYPES: Final = frozenset({OWNERSHIP}) | ENCUMBRANCES
GRANT_TYPES: Final = frozenset({"mortgage", "lease"})
"""Mutation types whose lines create a right over the transferor's ownership."""
RELEASE_TYPES: Final = frozenset({"redemption"})
"""Mutation types whose lines end the transferor's (mortgage or lease) right."""
_ZERO: Final = Fraction(0)
_ONE: Final = Fraction(1)

Key = tuple[int, str]
"""(party_id, right_type): one holding in a khewat."""
Holdings = dict[Key, Fraction]


class Line(NamedTuple):
    """One line of a mutation: ``share`` of the whole khewat, of one right type."""

    khewat_id: int
    transferor: int | None
    transferee: int | None
    share: Fraction
    right_type: str = OWNERSHIP


def _who(party: int, names: Mapping[int, str] | None) -> str:
    if names is not None and party in names:
        return names[party]
    return f"party {party}"


def _refuse(rule: str, message: str) -> SanctionRefused:
    return SanctionRefused(rule, message)


def holdings_from_rows(rows: Iterable[tuple[int, str, int, int]]) -> Holdings:
    """Holdings from open share rows ``(party_id, right_type, numerator, denominator)``.

    Rows of the same party and right add up (see the module's notes).
    """
    held: Holdings = {}
    for party, right, num, den in rows:
        key = (party, right)
        held[key] = held.get(key, _ZERO) + Fraction(num, den)
    return held


def check_line(line: Line, mutation_type: str) -> None:
    """Checks one line's shape for the mutation type (rule ``line_shape``).

    Raises:
        SanctionRefused: ``line_shape``.
    """
    share = line.share
    if not isinstance(share, Fraction | int) or isinstance(share, bool):
        raise _refuse("line_shape", f"share {share!r} is not a Fraction (floats are not exact)")
    if not 0 < share <= 1:
        raise _refuse("line_shape", f"share {format_share(share)} is not in (0, 1]")
    if line.transferor is None and line.transferee is None:
        raise _refuse("line_shape", "a line needs a transferor or a transferee")
    if line.transferor is not None and line.transferor == line.transferee:
        raise _refuse("line_shape", f"party {line.transferor} is on both sides of a line")
    right = line.right_type
    if right not in RIGHT_TYPES:
        raise _refuse("line_shape", f"unknown right type {right!r}")
    if mutation_type == "mortgage" and right not in MORTGAGE_RIGHTS:
        raise _refuse("line_shape", f"a mortgage line creates a mortgage right, not {right}")
    if mutation_type == "lease" and right != LEASE:
        raise _refuse("line_shape", f"a lease line creates a lease right, not {right}")
    if mutation_type in GRANT_TYPES and (line.transferor is None or line.transferee is None):
        raise _refuse(
            "line_shape", f"a {mutation_type} line names the owner (transferor) and the holder"
        )
    if mutation_type in RELEASE_TYPES and (right == OWNERSHIP or line.transferor is None):
        raise _refuse(
            "line_shape",
            "a redemption line ends the transferor's mortgage or lease right, not ownership",
        )


def apply_lines(
    holdings: Mapping[Key, Fraction],
    lines: Sequence[Line],
    *,
    mutation_type: str,
    label: str = "the khewat",
    names: Mapping[int, str] | None = None,
) -> Holdings:
    """The holdings of one khewat after ``lines`` (all of that khewat), or a refusal.

    ``holdings`` is not changed. ``label`` (e.g. ``khewat 12``) and ``names`` (party id
    -> how to call the party) only shape the messages.

    Raises:
        SanctionRefused: ``line_shape``, ``transferor_holds_share``,
            ``khewat_sums_to_one`` or ``encumbrance_exceeds_ownership`` (module notes).
    """
    for line in lines:
        check_line(line, mutation_type)
    grant = mutation_type in GRANT_TYPES
    release = mutation_type in RELEASE_TYPES
    # what each transferor gives, summed over every line: two lines of 1/2 from a holder
    # of 1/2 must fail together, not pass one by one
    given: dict[Key, Fraction] = {}
    for line in lines:
        if line.transferor is None:
            continue
        measure = OWNERSHIP if grant else line.right_type
        key = (line.transferor, measure)
        given[key] = given.get(key, _ZERO) + line.share
    for (party, right), amount in given.items():
        held = holdings.get((party, right), _ZERO)
        if amount > held:
            what = "ownership" if right == OWNERSHIP else f"{right} right"
            verb = f"encumbers ({mutation_type})" if grant else "transfers"
            raise _refuse(
                "transferor_holds_share",
                f"{_who(party, names)} holds {format_share(held) if held else 'no'} {what}"
                f" of {label} but "
                f"{verb} {format_share(amount)}",
            )
    new: Holdings = dict(holdings)
    for line in lines:
        share = Fraction(line.share)
        if grant or release:
            if release:
                assert line.transferor is not None
                _add(new, (line.transferor, line.right_type), -share)
            else:
                assert line.transferee is not None
                _add(new, (line.transferee, line.right_type), share)
            continue
        if line.transferor is not None:
            _add(new, (line.transferor, line.right_type), -share)
        if line.transferee is not None:
            _add(new, (line.transferee, line.right_type), share)
    _check_totals(new, mutation_type, label)
    return new


def _add(held: Holdings, key: Key, delta: Fraction) -> None:
    value = held.get(key, _ZERO) + delta
    if value:
        held[key] = value
    else:
        held.pop(key, None)


def _check_totals(new: Mapping[Key, Fraction], mutation_type: str, label: str) -> None:
    totals: dict[str, Fraction] = {}
    for (_, right), share in new.items():
        group = "mortgage" if right in MORTGAGE_RIGHTS else right
        totals[group] = totals.get(group, _ZERO) + share
    own = totals.get(OWNERSHIP, _ZERO)
    closing = mutation_type == "partition" and own == 0 and not new
    if own != _ONE and not closing:
        kind = "over-allocated" if own > 1 else "under-allocated"
        extra = ""
        if mutation_type == "partition" and own == 0:
            extra = " (a partition may close the khewat only when no other right stays open)"
        raise _refuse(
            "khewat_sums_to_one",
            f"afterwards the ownership shares of {label} would total {format_share(own)}, "
            f"not 1/1 ({kind}){extra}",
        )
    for group in ("mortgage", LEASE):
        total = totals.get(group, _ZERO)
        if total > own:
            raise _refuse(
                "encumbrance_exceeds_ownership",
                f"afterwards the {group} rights over {label} would total "
                f"{format_share(total)}, more than its ownership {format_share(own)}",
            )


def check_alive(
    lines: Iterable[Line],
    *,
    mutation_type: str,
    deed_date: date | None,
    entered_on: date,
    dates_of_death: Mapping[int, date | None],
    names: Mapping[int, str] | None = None,
) -> None:
    """Every transferor of a non-inheritance mutation was alive on the deed date.

    With no deed the entry date stands in for it (the day the parties appeared before
    the patwari). Inheritance is exempt: its transferor is the deceased.

    Raises:
        SanctionRefused: ``transferor_alive_on_deed_date``, naming the party and dates.
    """
    if mutation_type == "inheritance":
        return
    day = deed_date if deed_date is not None else entered_on
    what = "deed date" if deed_date is not None else "entry date (no deed)"
    for party in sorted({line.transferor for line in lines if line.transferor is not None}):
        died = dates_of_death.get(party)
        if died is not None and died <= day:
            raise _refuse(
                "transferor_alive_on_deed_date",
                f"transferor {_who(party, names)} died on {died.isoformat()}, not after the "
                f"{what} {day.isoformat()}",
            )


_TRANSITIONS: Final = {
    ("entered", "verified"),
    ("entered", "rejected"),
    ("verified", "sanctioned"),
    ("verified", "rejected"),
}


def check_transition(current: str, target: str, *, label: str = "the mutation") -> None:
    """Entered -> verified -> sanctioned, or entered/verified -> rejected.

    Raises:
        SanctionRefused: ``status_transition``.
    """
    if (current, target) not in _TRANSITIONS:
        allowed = ", ".join(sorted(t for c, t in _TRANSITIONS if c == current)) or "nothing"
        raise _refuse(
            "status_transition",
            f"{label} is {current}; it cannot become {target} (from {current}: {allowed})",
        )


def check_decision_date(
    on: date,
    *,
    entered_on: date,
    verified_on: date | None = None,
    latest_change: date | None = None,
    label: str = "the mutation",
    what: str = "sanction",
) -> None:
    """A decision is not before entry or verification, nor on or before a later change.

    ``latest_change`` is the latest share change (opening or closing) of the khewats a
    sanction touches; see the module notes for why equal dates are refused too.

    Raises:
        SanctionRefused: ``sanction_date_order``.
    """
    if on < entered_on:
        raise _refuse(
            "sanction_date_order",
            f"{what} date {on.isoformat()} is before {label} was entered "
            f"({entered_on.isoformat()})",
        )
    if verified_on is not None and on < verified_on:
        raise _refuse(
            "sanction_date_order",
            f"{what} date {on.isoformat()} is before {label} was verified "
            f"({verified_on.isoformat()})",
        )
    if latest_change is not None and on <= latest_change:
        raise _refuse(
            "sanction_date_order",
            f"{what} date {on.isoformat()} is not after the latest share change of the "
            f"khewat(s) ({latest_change.isoformat()}); sanctions apply in date order",
        )


# --- inheritance -----------------------------------------------------------------------


def heirs_from_kinds(kinds: Iterable[str]) -> tuple[Heirs, list[PredeceasedChild]]:
    """The :class:`Heirs` and MFLO s.4 children that a list of heir kinds describes.

    Each kind is an :class:`~landgov.domain.faraid.Heir` value (``son``, ``wife``...) or
    the name :func:`~landgov.domain.faraid.compute_shares` gives the child of a
    predeceased son or daughter, ``predeceased_son_1.daughter``; the stirpes must be
    numbered 1, 2... per gender. One entry per person.

    Raises:
        InvalidHeirs: an unknown kind, or stirpes not numbered from 1 without gaps.
    """
    counts: dict[Heir, int] = {}
    stirpes: dict[tuple[str, int], dict[str, int]] = {}
    for kind in kinds:
        if kind.startswith("predeceased_"):
            stem, _, child = kind.partition(".")
            parts = stem.split("_")
            if (
                len(parts) != 3
                or parts[1] not in ("son", "daughter")
                or not parts[2].isdigit()
                or child not in ("son", "daughter")
            ):
                raise InvalidHeirs(
                    f"heir kind {kind!r}: write a predeceased child's child as "
                    "'predeceased_son_1.son' or 'predeceased_daughter_2.daughter'"
                )
            entry = stirpes.setdefault((parts[1], int(parts[2])), {"son": 0, "daughter": 0})
            entry[child] += 1
            continue
        try:
            heir = Heir(kind)
        except ValueError:
            valid = ", ".join(h.value for h in Heir)
            raise InvalidHeirs(f"unknown heir kind {kind!r}; valid: {valid}") from None
        counts[heir] = counts.get(heir, 0) + 1
    predeceased: list[PredeceasedChild] = []
    for gender in ("son", "daughter"):
        numbers = sorted(n for g, n in stirpes if g == gender)
        if numbers != list(range(1, len(numbers) + 1)):
            raise InvalidHeirs(
                f"predeceased {gender}s must be numbered 1, 2, ... without gaps, got {numbers}"
            )
        for n in numbers:
            entry = stirpes[(gender, n)]
            predeceased.append(
                PredeceasedChild(
                    "son" if gender == "son" else "daughter",
                    sons=entry["son"],
                    daughters=entry["daughter"],
                )
            )
    return Heirs.from_mapping(counts), predeceased


def faraid_expected(
    estate: Mapping[int, Fraction],
    heirs: Mapping[int, str],
    *,
    school: School | str = School.HANAFI,
    bait_ul_mal_party: int | None = None,
) -> dict[tuple[int, int], Fraction]:
    """What each heir must receive in each khewat: ``{(khewat_id, party_id): share}``.

    ``estate`` is the deceased's ownership share of each khewat; ``heirs`` maps each
    heir's party id to its kind (see :func:`heirs_from_kinds`). Each heir receives the
    deceased's share times its ``share_each`` from
    :func:`~landgov.domain.faraid.compute_shares`, exactly. Excluded heirs (share 0) are
    left out. A remainder no heir takes (Jafari: a wife alone) goes to
    ``bait_ul_mal_party``.

    Raises:
        InvalidHeirs: the heirs are invalid or a case the calculator does not cover, or
            there is a remainder for the state and no ``bait_ul_mal_party``.
    """
    herd, predeceased = heirs_from_kinds(heirs.values())
    result = compute_shares(herd, school=school, predeceased=predeceased)
    each = {r.heir: r.share_each for r in result}
    expected: dict[tuple[int, int], Fraction] = {}
    for khewat, held in estate.items():
        for party, kind in heirs.items():
            share = held * each.get(kind, _ZERO)
            if share:
                expected[(khewat, party)] = share
        state = held * each.get(BAIT_UL_MAL, _ZERO)
        if state:
            if bait_ul_mal_party is None:
                raise InvalidHeirs(
                    "part of the estate goes to the state (bait-ul-mal) but no state party "
                    "(Board of Revenue) exists to receive it"
                )
            key = (khewat, bait_ul_mal_party)
            expected[key] = expected.get(key, _ZERO) + state
    return expected


# --- replaying a register ---------------------------------------------------------------


class ReplayMutation(NamedTuple):
    """A sanctioned mutation as the register holds it, for :func:`rebuild`."""

    id: int
    on: date  # the sanction (decision) date: when its effect starts
    type: str
    lines: Sequence[Line]


class SharePeriod(NamedTuple):
    """One share row: a party's right over a khewat during [valid_from, valid_to).

    ``numerator``/``denominator`` are in lowest terms. ``created_by``/``ended_by`` are
    mutation ids (``created_by`` None: from the settlement).
    """

    khewat_id: int
    party_id: int
    right_type: str
    numerator: int
    denominator: int
    valid_from: date
    valid_to: date | None
    created_by: int | None
    ended_by: int | None

    @property
    def share(self) -> Fraction:
        return Fraction(self.numerator, self.denominator)


class ReplayIssue(NamedTuple):
    """A rule the register broke, found while replaying it (the replay carries on)."""

    mutation_id: int
    khewat_id: int
    rule: str
    message: str


class RebuildResult(NamedTuple):
    periods: list[SharePeriod]
    issues: list[ReplayIssue]


class _Account:
    """One khewat during a replay: integer numerators over one common denominator.

    Why integers: with every holding ``num / den`` over the khewat's common denominator
    ``den``, adding a share ``a/b`` whose ``b`` divides ``den`` is two integer
    operations, where a Fraction addition computes a gcd and builds an object. ``den``
    grows to the lcm only when a new denominator appears, which is rare (inherited and
    sold shares keep reusing a khewat's denominators). Exactness is kept: no value is
    ever rounded.
    """

    __slots__ = ("den", "last", "num", "rows", "total")

    def __init__(self) -> None:
        self.den = 1
        self.num: dict[Key, int] = {}
        self.rows: dict[Key, tuple[date, int | None]] = {}  # open row: (from, created_by)
        self.total = 0  # ownership total, over den
        self.last: date | None = None

    def scale_to(self, b: int) -> int:
        """Makes ``b`` divide ``den`` (rescaling every numerator); returns ``den // b``."""
        den = self.den
        if den % b:
            g = math.lcm(den, b)
            f = g // den
            self.num = {k: v * f for k, v in self.num.items()}
            self.total *= f
            self.den = den = g
        return den // b


def rebuild(
    initial: Iterable[SharePeriod],
    mutations: Iterable[ReplayMutation],
) -> RebuildResult:
    """Replays sanctioned mutations, in the order given, over the settlement's shares.

    ``initial`` are the open rows before the first mutation (the settlement;
    ``valid_to`` must be None); ``mutations`` are the sanctioned mutations in sanction
    order (date, then id). Returns every share period the register implies, in the form
    the ``share`` table stores them (a changed holding closes its row and opens one with
    the new value; an unchanged one stays open), and the issues found on the way.

    The replay is lenient where a sanction is strict, because a register may hold
    mutations sanctioned wrongly (the demo plants some): a line still applies when its
    transferor holds too little (the holding stops at 0, the transferee receives the
    line's share, as the demo's record did), and the issue is reported with the rule id
    :func:`apply_lines` would have refused with. Lines apply as in :func:`apply_lines`.

    Speed (``bench/sanction_and_rebuild.py``: 1,000,000 mutations over 200,000 khewats,
    see docs/benchmarks.md): one pass; integer numerators over a common denominator per
    khewat (:class:`_Account`); the ownership total kept as a running sum instead of
    re-added after every mutation; lines unpacked as tuples; and the cyclic garbage
    collector paused while it runs. Why pause the collector: the replay allocates
    millions of small tuples and no reference cycle, so every automatic collection is
    wasted work that also walks the caller's (large) input again and again; it is
    switched back on, as it was, before returning.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _rebuild(initial, mutations)
    finally:
        if enabled:
            gc.enable()


_KIND: Final = {"mortgage": 1, "lease": 1, "redemption": 2}
"""0 transfers, 1 grants (:data:`GRANT_TYPES`), 2 releases (:data:`RELEASE_TYPES`)."""


def _rebuild(initial: Iterable[SharePeriod], mutations: Iterable[ReplayMutation]) -> RebuildResult:
    accounts: dict[int, _Account] = {}
    periods: list[SharePeriod] = []
    issues: list[ReplayIssue] = []
    emit = periods.append
    gcd = math.gcd
    make = tuple.__new__  # a NamedTuple without its Python-level __new__
    period = SharePeriod
    kinds = _KIND

    for row in initial:
        acc = accounts.get(row.khewat_id)
        if acc is None:
            acc = accounts[row.khewat_id] = _Account()
        key = (row.party_id, row.right_type)
        unit = acc.scale_to(row.denominator)
        acc.num[key] = acc.num.get(key, 0) + row.numerator * unit
        if row.right_type == OWNERSHIP:
            acc.total += row.numerator * unit
        # several settlement rows of one holding make one period, from the earliest
        start = min(acc.rows[key][0], row.valid_from) if key in acc.rows else row.valid_from
        acc.rows[key] = (start, None)
        if acc.last is None or row.valid_from > acc.last:
            acc.last = row.valid_from

    for mid, day, mtype, lines in mutations:
        kind = kinds.get(mtype, 0)
        # per khewat touched: the account and each changed holding's value before the
        # mutation, as (numerator, denominator) since the denominator may grow meanwhile
        touched: dict[int, tuple[_Account, dict[Key, tuple[int, int]]]] = {}
        for kid, src, dst, share, right in lines:
            entry = touched.get(kid)
            if entry is None:
                acc = accounts.get(kid)
                if acc is None:
                    acc = accounts[kid] = _Account()
                entry = touched[kid] = (acc, {})
                if acc.last is not None and day <= acc.last:
                    issues.append(
                        ReplayIssue(
                            mid,
                            kid,
                            "sanction_date_order",
                            f"sanctioned {day} but the khewat changed on {acc.last}",
                        )
                    )
            acc, old = entry
            b = share.denominator
            den = acc.den
            if den % b:
                acc.scale_to(b)
                den = acc.den
            amount = share.numerator * (den // b)
            num = acc.num
            if kind:
                if kind == 1:
                    if src is not None and num.get((src, OWNERSHIP), 0) < amount:
                        issues.append(
                            ReplayIssue(
                                mid,
                                kid,
                                "transferor_holds_share",
                                f"party {src} encumbers {format_share(share)}, more than it owns",
                            )
                        )
                    src = None
                else:
                    dst = None
            if src is not None:
                key = (src, right)
                have = num.get(key, 0)
                if key not in old:
                    old[key] = (have, den)
                taken = amount
                if have < amount:
                    issues.append(
                        ReplayIssue(
                            mid,
                            kid,
                            "transferor_holds_share",
                            f"party {src} holds "
                            f"{format_share(Fraction(have, den)) if have else 'no'} {right}"
                            f" and transfers {format_share(share)}",
                        )
                    )
                    taken = have
                num[key] = have - taken
                if right == OWNERSHIP:
                    acc.total -= taken
            if dst is not None:
                key = (dst, right)
                have = num.get(key, 0)
                if key not in old:
                    old[key] = (have, den)
                num[key] = have + amount
                if right == OWNERSHIP:
                    acc.total += amount
        for kid, (acc, old) in touched.items():
            den = acc.den
            num = acc.num
            rows = acc.rows
            for key, (bn, bd) in old.items():
                after = num[key]
                if after * bd == bn * den:  # unchanged: the row stays open untouched
                    if not after:
                        del num[key]
                    continue
                opened = rows.pop(key, None)
                if opened is not None:
                    start, created = opened
                    if start < day:  # a row opened and closed on one day never existed
                        g = gcd(bn, bd)
                        emit(
                            make(
                                period,
                                (kid, key[0], key[1], bn // g, bd // g, start, day, created, mid),
                            )
                        )
                if after:
                    rows[key] = (day, mid)
                else:
                    del num[key]
            acc.last = day
            total = acc.total
            if total != den and not (mtype == "partition" and total == 0 and not num):
                issues.append(
                    ReplayIssue(
                        mid,
                        kid,
                        "khewat_sums_to_one",
                        f"ownership totals {format_share(Fraction(total, den))}",
                    )
                )

    for kid, acc in accounts.items():
        den = acc.den
        for key, (start, created) in acc.rows.items():
            value = acc.num[key]
            g = gcd(value, den)
            emit(
                make(
                    period, (kid, key[0], key[1], value // g, den // g, start, None, created, None)
                )
            )
    return RebuildResult(periods, issues)


def timeline(
    periods: Iterable[SharePeriod],
) -> dict[int, list[tuple[date, frozenset[tuple[int, str, Fraction]]]]]:
    """Each khewat's holdings as a step function: ``[(from_date, holdings), ...]``.

    Rows of one holding that overlap add up, and consecutive equal states merge, so two
    sets of periods that describe the same rights on every date give equal timelines,
    however they split their rows (:func:`compare_periods` relies on it).
    """
    events: dict[int, dict[date, dict[Key, Fraction]]] = {}
    for p in periods:
        per = events.setdefault(p.khewat_id, {})
        key = (p.party_id, p.right_type)
        share = Fraction(p.numerator, p.denominator)
        start = per.setdefault(p.valid_from, {})
        start[key] = start.get(key, _ZERO) + share
        if p.valid_to is not None:
            end = per.setdefault(p.valid_to, {})
            end[key] = end.get(key, _ZERO) - share
    result: dict[int, list[tuple[date, frozenset[tuple[int, str, Fraction]]]]] = {}
    for kid, per in events.items():
        state: dict[Key, Fraction] = {}
        steps: list[tuple[date, frozenset[tuple[int, str, Fraction]]]] = []
        for day in sorted(per):
            for key, delta in per[day].items():
                value = state.get(key, _ZERO) + delta
                if value:
                    state[key] = value
                else:
                    state.pop(key, None)
            snap = frozenset((party, right, share) for (party, right), share in state.items())
            if not steps or steps[-1][1] != snap:
                steps.append((day, snap))
        result[kid] = steps
    return result


def compare_periods(
    stored: Iterable[SharePeriod], replayed: Iterable[SharePeriod]
) -> dict[int, date | None]:
    """Khewats whose rights differ between two sets of periods, with the first day they do.

    Equality is of the rights on every date (:func:`timeline`), not of the rows. The date
    is None when the khewat is missing from one side altogether.
    """
    a, b = timeline(stored), timeline(replayed)
    differ: dict[int, date | None] = {}
    for kid in sorted(a.keys() | b.keys()):
        sa, sb = a.get(kid), b.get(kid)
        if sa == sb:
            continue
        if sa is None or sb is None:
            differ[kid] = None
            continue
        first: date | None = None
        for (da, xa), (db, xb) in zip(sa, sb, strict=False):
            if (da, xa) != (db, xb):
                first = min(da, db)
                break
        if first is None:
            shorter = sa if len(sa) < len(sb) else sb
            longer = sb if shorter is sa else sa
            first = longer[len(shorter)][0]
        differ[kid] = first
    return differ
