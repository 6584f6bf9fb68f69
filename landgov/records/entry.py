"""Entering a mutation (intiqal): the patwari's step, which writes it as ``entered``.

Entry records what the parties claim; it does not check holdings (the sanction decides,
:mod:`landgov.records.decisions`). It checks that the mouza, khewats (in that mouza) and
parties exist, that every line is well formed for the type
(:func:`landgov.domain.ledger.check_line`, rule ``line_shape``), that the deed is
complete and not after entry, and for an inheritance that the facts are given and
consistent. Who may enter, and what the entry records of who acted, is in
:mod:`landgov.records.mutations` (Who may act).

Two checks keep an entry from being made wrong twice over (issue 19):

* a sale needs its declared price (``consideration_rs`` above zero): the price is what
  the transfer taxes and the price check at sanction (:mod:`landgov.records.pricing`)
  start from, and a transfer for nothing is a gift;
* a registered deed (its sub-registrar's office, its year, its number; spaces and case
  do not count) is entered once: a repeat is refused with :class:`DuplicateDeed`
  naming the earlier mutation, unless that one was rejected (a mutation rejected
  because the parties did not appear is entered again on the same deed). Court decrees
  are exempt: their number is the case's, and one decree may order several mutations.
  The check runs under the register's lock; the unique index ``mutation_deed_once``
  (sql/025) stands behind it for entries racing in two mouzas, and its violation is
  turned into the same refusal.

One function does the writing (:func:`record_entry`), in the caller's transaction after
:func:`begin_entry` has bound and authorized the actor: :func:`enter`,
:func:`enter_inheritance` and :func:`landgov.records.partition.enter_partition` all end
in it, so every mutation gets its number, lines, flags and audit row the same way. The
register's lock (:func:`landgov.records.locks.lock_register`) is taken just before the
number is read, after the draft's checks, so an entry refused by them never waited on
it.

An inheritance (wirasat) is entered with its heirs' kinds and computed with faraid
(:func:`enter_inheritance`); one whose lines differ from faraid is entered but flagged
(:mod:`landgov.records.inheritance`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from fractions import Fraction
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from landgov.domain import ledger
from landgov.domain.faraid import School
from landgov.domain.records import MutationType
from landgov.domain.shares import format_share, validate_share
from landgov.errors import InvalidShare, SanctionRefused
from landgov.records.drafts import (
    DraftLine,
    DuplicateDeed,
    InheritanceFacts,
    MutationDraft,
    MutationInvalid,
)
from landgov.records.inheritance import inheritance_differences
from landgov.records.locks import lock_register
from landgov.records.rows import acting_officer, khewat_ids, officer_text, party_id, party_refs
from landgov.security import Actor, authorize, bind
from landgov.storage import officers
from landgov.storage.audit import append as audit_append
from landgov.storage.lookup import resolve_mouza

__all__ = ["begin_entry", "enter", "enter_inheritance", "record_entry"]


def _mutation_type(value: MutationType | str) -> MutationType:
    try:
        return MutationType(str(value).strip().lower())
    except ValueError:
        valid = ", ".join(t.value for t in MutationType)
        raise MutationInvalid(f"unknown mutation type {value!r}; valid: {valid}") from None


def enter(engine: Engine, draft: MutationDraft, *, actor: Actor) -> int:
    """Enters a mutation as ``entered`` with the next number of its mouza; returns its id.

    ``actor`` must be a patwari posted over the mouza today, and on the entry date when
    it is in the past (within the back-dating window); the entry records the account
    and the officer (:mod:`landgov.records.mutations`, Who may act).

    Checks that the mouza, khewats (in that mouza) and parties exist, that every line is
    well formed for the type (:func:`landgov.domain.ledger.apply_lines`' ``line_shape``),
    that the deed is complete and not after entry, and for inheritance that the facts are
    given and consistent; a sale needs its price and a registered deed is entered once
    (module notes). Entry does not check holdings: the patwari records what the
    parties claim, and the sanction decides. An inheritance mutation whose lines differ
    from faraid is entered but flagged (:mod:`landgov.records.inheritance`).

    Raises:
        AuthenticationFailed, AccessDenied: the actor may not enter it
            (:mod:`landgov.records.mutations`, Who may act).
        MutationInvalid, NotFound, InvalidShare, InvalidHeirs: nothing was written.
            DuplicateDeed (a MutationInvalid): the deed is already entered; it names the
            earlier mutation.
    """
    mtype = _mutation_type(draft.type)
    if mtype is MutationType.PARTITION:
        raise MutationInvalid(
            "a partition names the khasra it divides: enter it with "
            "landgov.records.partition.enter_partition ('landgov mutation enter-partition')"
        )
    with engine.begin() as conn:
        mouza_id = begin_entry(conn, actor, draft.mouza, draft.entered_on)
        return record_entry(conn, mouza_id, mtype, draft, actor=actor)


def begin_entry(conn: Connection, actor: Actor, mouza: str, entered_on: date) -> int:
    """Binds ``actor`` to the transaction and authorizes an entry in ``mouza`` dated
    ``entered_on`` (``mutation.enter``); returns the mouza's id. The first step of every
    entry (shared with partitions).

    Raises:
        AuthenticationFailed, AccessDenied: :mod:`landgov.records.mutations`, Who may
            act. NotFound: no such mouza.
    """
    bind(conn, actor)
    mouza_id = resolve_mouza(conn, mouza)
    authorize(conn, actor, "mutation.enter", mouza_id=mouza_id, on=entered_on)
    return mouza_id


def record_entry(
    conn: Connection,
    mouza_id: int,
    mtype: MutationType,
    draft: MutationDraft,
    *,
    actor: Actor,
    extra: Callable[[int], dict[str, Any]] | None = None,
) -> int:
    """Inserts a checked mutation in the caller's transaction (shared with partitions),
    which has already bound and authorized ``actor`` (:func:`begin_entry`); returns its id.

    Checks the draft (module notes), takes the register's lock, numbers the mutation and
    writes it with its lines, its inheritance facts and any faraid flag, then the audit
    row. ``extra`` is called with the new id before the audit row is written, to write
    rows of its own (a partition's) and return details that join the audit row.

    Raises:
        MutationInvalid, NotFound, InvalidShare, InvalidHeirs: nothing was written (the
            caller's transaction rolls back).
    """
    officer = acting_officer(conn, actor)
    if not draft.lines:
        raise MutationInvalid("a mutation needs at least one line")
    deed_number, sub_registrar = _spaced(draft.deed_number), _spaced(draft.sub_registrar)
    if (deed_number is None) != (draft.deed_date is None):
        raise MutationInvalid("a deed needs both its number and its date")
    if mtype is MutationType.SALE and (draft.consideration_rs is None or
                                        draft.consideration_rs <= 0):  # fmt: skip
        raise MutationInvalid(
            "consideration: a sale needs its declared price (Rs, above zero); "
            "a transfer for no price is a gift (hiba)"
        )
    if draft.deed_date is not None and draft.deed_date > draft.entered_on:
        raise MutationInvalid(
            f"deed date {draft.deed_date} is after the entry date {draft.entered_on}"
        )
    for what, amount in (
        ("consideration", draft.consideration_rs),
        ("statutory value", draft.statutory_value_rs),
        ("fees", draft.fees_rs),
    ):
        if amount is not None and amount < 0:
            raise MutationInvalid(f"{what} Rs {amount} cannot be negative")
    khewats = khewat_ids(conn, mouza_id, (line.khewat_no for line in draft.lines))
    refs: dict[str, int] = {}
    lines: list[ledger.Line] = []
    for i, d in enumerate(draft.lines, start=1):
        try:
            share = validate_share(Fraction(d.share))
        except InvalidShare as exc:
            raise MutationInvalid(f"line {i}: {exc}") from None
        src = _ref(conn, refs, d.transferor)
        dst = _ref(conn, refs, d.transferee)
        line = ledger.Line(khewats[d.khewat_no], src, dst, share, str(d.right_type))
        try:
            ledger.check_line(line, mtype.value)
        except SanctionRefused as exc:
            raise MutationInvalid(f"line {i}: {exc.message}") from None
        lines.append(line)
    inheritance: tuple[int, str, dict[int, str]] | None = None
    if mtype is MutationType.INHERITANCE:
        inheritance = _check_inheritance_facts(conn, draft, lines, refs)
    elif draft.inheritance is not None:
        raise MutationInvalid("heirs and a deceased are given only for an inheritance")

    lock_register(conn, mouza_id)
    deed_key: tuple[str, date, str | None, MutationType] | None = None
    if deed_number is not None and draft.deed_date is not None:
        deed_key = (deed_number, draft.deed_date, sub_registrar, mtype)
        _refuse_repeated_deed(conn, *deed_key)
    number = conn.execute(
        text("SELECT coalesce(max(number), 0) + 1 FROM mutation WHERE mouza_id = :m"),
        {"m": mouza_id},
    ).scalar_one()
    insert = conn.begin_nested()  # a savepoint: a racing repeat of the deed is named below
    try:
        mid = _insert_mutation(conn, mouza_id, number, mtype, draft, deed_number,
                               sub_registrar, actor, officer)  # fmt: skip
    except IntegrityError as exc:
        insert.rollback()
        if deed_key is not None and _constraint(exc) == "mutation_deed_once":
            _refuse_repeated_deed(conn, *deed_key)  # entered elsewhere since our check
        raise
    insert.commit()
    conn.execute(
        text(
            "INSERT INTO mutation_line (mutation_id, line_no, khewat_id, transferor_party_id,"
            " transferee_party_id, numerator, denominator, right_type)"
            " VALUES (:m, :n, :k, :src, :dst, :num, :den, :right)"
        ),
        [
            {
                "m": mid,
                "n": i,
                "k": line.khewat_id,
                "src": line.transferor,
                "dst": line.transferee,
                "num": line.share.numerator,
                "den": line.share.denominator,
                "right": line.right_type,
            }
            for i, line in enumerate(lines, start=1)
        ],
    )
    details: dict[str, Any] = {
        "mouza_id": mouza_id,
        "number": number,
        "type": mtype.value,
        "entered_on": draft.entered_on,
        "officer": officer_text(officer),
        "officer_id": officer.id,
        "lines": [
            {
                "khewat_no": d.khewat_no,
                "transferor": d.transferor,
                "transferee": d.transferee,
                "share": format_share(Fraction(d.share)),
                "right_type": str(d.right_type),
            }
            for d in draft.lines
        ],
    }
    if inheritance is not None:
        deceased, school, heirs = inheritance
        conn.execute(
            text(
                "INSERT INTO mutation_inheritance (mutation_id, deceased_party_id, school)"
                " VALUES (:m, :d, :s)"
            ),
            {"m": mid, "d": deceased, "s": school},
        )
        conn.execute(
            text(
                "INSERT INTO mutation_heir (mutation_id, party_id, heir_kind) VALUES (:m, :p, :k)"
            ),
            [{"m": mid, "p": p, "k": k} for p, k in sorted(heirs.items())],
        )
        differences = inheritance_differences(conn, mid)
        if differences:
            flag = {"differences": [str(d) for d in differences]}
            conn.execute(
                text(
                    "INSERT INTO mutation_flag (mutation_id, rule, details)"
                    " VALUES (:m, 'faraid_shares', CAST(:d AS jsonb))"
                ),
                {"m": mid, "d": _json(flag)},
            )
            details["flags"] = {"faraid_shares": flag["differences"]}
    if extra is not None:
        details.update(extra(mid))
    audit_append(
        conn,
        actor=actor.label,
        action="mutation.enter",
        entity="mutation",
        entity_id=str(mid),
        details=details,
    )
    return int(mid)


def _spaced(value: str | None) -> str | None:
    """``value`` with single spaces and none around it; None when nothing is left."""
    if value is None:
        return None
    return " ".join(value.split()) or None


def _constraint(exc: IntegrityError) -> str | None:
    diag = getattr(exc.orig, "diag", None)
    return getattr(diag, "constraint_name", None)


def deed_key_sql(number: str, day: str, office: str) -> tuple[str, str, str]:
    """The key that tells registered deeds apart, in SQL over the SQL expressions of a
    deed's number, date and office (written by code, never taken from input): the
    expressions of the unique index ``mutation_deed_once`` (sql/025), in its order
    (office, year, number).

    One spelling rule for every writer: this module's check, the register importer
    (:mod:`landgov.io.mutations`, which also keys the deeds of a file against each other
    with it) and the index behind both. Comparing a stored mutation's key with another
    column by column lets the index answer.
    """
    return (
        f"regexp_replace(lower(btrim(coalesce({office}, ''))), '\\s+', ' ', 'g')",
        f"extract(year FROM {day})",
        f"regexp_replace(upper(btrim({number})), '\\s+', ' ', 'g')",
    )


def deed_counts_sql(alias: str) -> str:
    """SQL: the mutation aliased ``alias`` holds its deed (the index's WHERE): it names
    one, is not rejected and is not a court decree."""
    return (
        f"{alias}.deed_number IS NOT NULL AND {alias}.status <> 'rejected'"
        f" AND {alias}.type <> 'court_decree'"
    )


def _refuse_repeated_deed(
    conn: Connection,
    deed_number: str,
    deed_date: date,
    sub_registrar: str | None,
    mtype: MutationType,
) -> None:
    """Refuses a deed (office, year, number) that a mutation not rejected already names,
    as the unique index ``mutation_deed_once`` of sql/025 keys it (same spelling rules,
    same exceptions: rejected mutations and court decrees).

    Raises:
        DuplicateDeed: naming the earlier mutation.
    """
    if mtype is MutationType.COURT_DECREE:
        return
    stored = deed_key_sql("m.deed_number", "m.deed_date", "m.sub_registrar")
    given = deed_key_sql(":no", "CAST(:d AS date)", ":office")
    same = " AND ".join(f"{a} = {b}" for a, b in zip(stored, given, strict=True))
    earlier = conn.execute(
        text(
            "SELECT m.id, m.number, z.name AS mouza, m.type, m.status, m.entered_on"
            f" FROM mutation m JOIN mouza z ON z.id = m.mouza_id WHERE {deed_counts_sql('m')}"
            f" AND {same} ORDER BY m.id LIMIT 1"
        ),
        {"office": sub_registrar, "d": deed_date, "no": deed_number},
    ).first()
    if earlier is None:
        return
    office = f" at {sub_registrar}" if sub_registrar else ""
    raise DuplicateDeed(
        f"deed {deed_number} of {deed_date.year}{office} is already entered as mutation "
        f"No. {earlier.number} of mouza {earlier.mouza} ({earlier.type.replace('_', ' ')}, "
        f"entered {earlier.entered_on.isoformat()}, {earlier.status}); a registered deed is "
        "entered once",
        earlier_id=int(earlier.id),
        earlier_number=int(earlier.number),
        earlier_mouza=str(earlier.mouza),
    )


def _insert_mutation(
    conn: Connection,
    mouza_id: int,
    number: int,
    mtype: MutationType,
    draft: MutationDraft,
    deed_number: str | None,
    sub_registrar: str | None,
    actor: Actor,
    officer: officers.Officer,
) -> int:
    """The mutation row itself, ``entered``; returns its id."""
    mid = conn.execute(
        text(
            "INSERT INTO mutation (mouza_id, number, type, status, entered_on, deed_number,"
            " sub_registrar, deed_date, consideration_rs, statutory_value_rs, fees_rs, remarks,"
            " entered_by_user, entered_by)"
            " VALUES (:mouza, :number, :type, 'entered', :entered, :deed_number,"
            " :sub_registrar, :deed_date, :consideration, :statutory, :fees, :remarks,"
            " :user, :officer) RETURNING id"
        ),
        {
            "user": actor.user_id,
            "officer": officer.id,
            "mouza": mouza_id,
            "number": number,
            "type": mtype.value,
            "entered": draft.entered_on,
            "deed_number": deed_number,
            "sub_registrar": sub_registrar,
            "deed_date": draft.deed_date,
            "consideration": draft.consideration_rs,
            "statutory": draft.statutory_value_rs,
            "fees": draft.fees_rs,
            "remarks": draft.remarks,
        },
    ).scalar_one()
    return int(mid)


def _json(value: object) -> str:
    return json.dumps(value, default=str)


def _ref(conn: Connection, cache: dict[str, int], ref: str | None) -> int | None:
    if ref is None or not ref.strip():
        return None
    key = ref.strip()
    if key not in cache:
        cache[key] = party_id(conn, key)
    return cache[key]


def _check_inheritance_facts(
    conn: Connection, draft: MutationDraft, lines: Sequence[ledger.Line], refs: dict[str, int]
) -> tuple[int, str, dict[int, str]]:
    facts = draft.inheritance
    if facts is None:
        raise MutationInvalid(
            "an inheritance mutation needs the deceased, the school and each heir's kind"
        )
    try:
        school = School(str(facts.school).strip().lower())
    except ValueError:
        raise MutationInvalid(f"unknown school {facts.school!r}: use hanafi or jafari") from None
    deceased = _ref(conn, refs, facts.deceased)
    assert deceased is not None
    died = conn.execute(
        text("SELECT name, date_of_death FROM party WHERE id = :p"), {"p": deceased}
    ).one()
    if died.date_of_death is None:
        raise MutationInvalid(
            f"{died.name} ({facts.deceased}) has no date of death in the record; "
            "inheritance opens only on a recorded death"
        )
    if died.date_of_death > draft.entered_on:
        raise MutationInvalid(
            f"{died.name} died on {died.date_of_death}, after the entry date {draft.entered_on}"
        )
    heirs: dict[int, str] = {}
    for cnic, kind in facts.heirs.items():
        pid = _ref(conn, refs, cnic)
        assert pid is not None
        if pid == deceased:
            raise MutationInvalid("the deceased cannot be one of the heirs")
        heirs[pid] = str(kind).strip().lower()
    if not heirs:
        raise MutationInvalid("an inheritance mutation names at least one heir")
    ledger.heirs_from_kinds(heirs.values())  # InvalidHeirs early, with the calculator's words
    state = conn.execute(text("SELECT id FROM party WHERE custodian = 'board_of_revenue'")).scalar()
    for i, line in enumerate(lines, start=1):
        if line.transferor != deceased:
            raise MutationInvalid(f"line {i}: an inheritance line transfers from the deceased")
        if line.transferee is None or (line.transferee not in heirs and line.transferee != state):
            raise MutationInvalid(f"line {i}: the transferee is not one of the heirs named")
    return deceased, school.value, heirs


def enter_inheritance(
    engine: Engine,
    *,
    mouza: str,
    deceased_cnic: str,
    heirs: Mapping[str, str],
    entered_on: date,
    actor: Actor,
    school: School | str = School.HANAFI,
    khewat_no: int | Sequence[int] | None = None,
    remarks: str | None = None,
) -> int:
    """Enters a wirasat computed with faraid; returns its id.

    Each heir (CNIC -> heir kind) receives the deceased's ownership share of each khewat
    times the heir's share from :func:`~landgov.domain.faraid.compute_shares`, exactly;
    excluded heirs are recorded but get no line. ``khewat_no`` limits it to some khewats;
    by default every khewat of the mouza where the deceased holds ownership today.
    ``actor`` as for :func:`enter`.

    Raises:
        AuthenticationFailed, AccessDenied: the actor may not enter it
            (:mod:`landgov.records.mutations`, Who may act).
        MutationInvalid, NotFound, InvalidHeirs: nothing was written.
    """
    with engine.begin() as conn:
        mouza_id = begin_entry(conn, actor, mouza, entered_on)
        deceased = party_id(conn, deceased_cnic)
        rows = conn.execute(
            text(
                "SELECT w.number, w.id, s.numerator, s.denominator FROM share s"
                " JOIN khewat w ON w.id = s.khewat_id WHERE w.mouza_id = :m"
                " AND s.party_id = :p AND s.right_type = 'ownership' AND s.valid_to IS NULL"
            ),
            {"m": mouza_id, "p": deceased},
        ).all()
        estate: dict[int, Fraction] = {}
        numbers: dict[int, int] = {}
        for number, kid, num, den in rows:
            estate[int(kid)] = estate.get(int(kid), Fraction(0)) + Fraction(num, den)
            numbers[int(kid)] = int(number)
        if khewat_no is not None:
            wanted = {khewat_no} if isinstance(khewat_no, int) else set(khewat_no)
            missing = wanted - set(numbers.values())
            if missing:
                raise MutationInvalid(
                    f"{deceased_cnic} holds no ownership in khewat "
                    f"{', '.join(map(str, sorted(missing)))} of this mouza"
                )
            estate = {k: v for k, v in estate.items() if numbers[k] in wanted}
        if not estate:
            raise MutationInvalid(f"{deceased_cnic} holds no ownership in this mouza")
        heir_ids = {party_id(conn, c): str(k).strip().lower() for c, k in heirs.items()}
        refs = party_refs(conn, heir_ids)
        state = conn.execute(
            text("SELECT id FROM party WHERE custodian = 'board_of_revenue'")
        ).scalar()
        expected = ledger.faraid_expected(estate, heir_ids, school=school, bait_ul_mal_party=state)
        if state is not None and state not in refs:
            refs.update(party_refs(conn, [state]))
        lines = [
            DraftLine(numbers[kid], deceased_cnic.strip(), refs[pid], share)
            for (kid, pid), share in sorted(expected.items(), key=lambda kv: (numbers[kv[0][0]],
                                                                              kv[0][1]))
        ]  # fmt: skip
        draft = MutationDraft(
            mouza=mouza,
            type=MutationType.INHERITANCE,
            entered_on=entered_on,
            lines=lines,
            remarks=remarks,
            inheritance=InheritanceFacts(deceased_cnic.strip(), dict(heirs), school),
        )
        return record_entry(conn, mouza_id, MutationType.INHERITANCE, draft, actor=actor)
