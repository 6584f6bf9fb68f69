"""The record of rights as of any date, and the jamabandi: its immutable snapshot.

Holdings are a query over periods, never a current-state table: a sanctioned mutation
closes share rows and opens new ones (``sql/003_rights.sql``), so the holding of a khewat
or of a person on any date is read from the ``share`` and ``khewat_khasra`` rows whose
periods cover that date (:mod:`landgov.storage.read`).

Snapshots
    :meth:`KhewatHolding.snapshot`, :meth:`PersonHolding.snapshot` and a jamabandi's
    snapshot are JSON-able dicts of text and integers only: shares and other exact
    fractions are written ``"n/d"`` in lowest terms, dates ISO (``2024-03-01``), lists in a
    fixed order (khasras by number; rights by right type, name, CNIC, date). Parties are
    identified by CNIC (a person) or custodian (a state body), khasras by number, never by
    database id. :func:`canonical_json` writes one spelling of a snapshot (sorted keys, no
    spaces, UTF-8) and :func:`snapshot_hash` is the SHA-256 of it, so the same records on
    the same date always give the same hash. Names are part of a snapshot: a jamabandi
    and a fard certify them, so correcting a name also counts as a change of the record.

Jamabandi date
    A jamabandi of year Y is the record as of one day, ``as_of``, fixed when it is first
    generated and stored with it. It is the day its attesting officer attested it
    (``attested_on``): the officer certifies the record as it stands that day, and a
    mutation that takes effect that day is in it. A jamabandi not attested (signal 11)
    has no such day and is taken as of 1 October of its year, a fixed convention so the
    date never depends on when the command runs. Attesting it later does not move the
    date of a jamabandi already generated. A date after today is refused: the year's
    record is not closed yet.

Who reads and who generates
    :func:`read_khewat` and :func:`read_person` are the record of rights as a signed-in
    actor reads it (``personal.read``): each read writes an ``access_log`` row (who read
    whom, as of when, whether CNICs were shown in full) in the same transaction. CNICs
    are shown masked (:func:`mask_cnics`) unless asked for in full (``unmasked``), which
    only an officer posted over every mouza concerned may (``personal.unmask``,
    :func:`landgov.security.may_unmask`). :func:`generate_jamabandi` acts for an actor
    holding ``jamabandi.generate`` and records its label as the generator. Refusals are
    :class:`~landgov.errors.AccessDenied` (rules ``role``, ``jurisdiction``); the
    connection-level functions (:func:`khewat_holding`, :func:`person_holdings`) check
    nothing and log nothing: they are the building blocks of the checked ones and of
    fards.

Regenerating
    :func:`generate_jamabandi` on a generated year recomputes the snapshot from the
    temporal records as of the stored date and compares hashes. Equal: it is reproduced
    exactly. Different: :class:`JamabandiChanged` lists the khewats that differ (the
    records were changed retroactively) and nothing is overwritten; the database refuses
    any change of a stored snapshot anyway (``sql/006_record_of_rights.sql``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from typing import Any, Final, Literal

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from landgov.domain import (
    WHOLE,
    KanalMarlaSarsai,
    RightType,
    UnitSystem,
    format_kms,
    format_share,
    mask_cnic,
    validate_cnic,
)
from landgov.domain.units import sarsai_to_m2
from landgov.errors import AccessDenied, LandgovError
from landgov.security import Actor, authorize, bind, log_access, may_unmask, policy
from landgov.storage.audit import append as append_audit
from landgov.storage.lookup import NotFound, resolve_mouza
from landgov.storage.read import (
    KhasraPart,
    KhewatRef,
    MouzaHeader,
    PartyRow,
    RightRow,
    khewat_khasra_parts,
    khewat_refs,
    mouza_headers,
    mouza_khewats,
    party_by_cnic,
    rights_in_force,
)

_CNIC_RE: Final = re.compile(r"\b\d{5}-\d{7}-\d\b")
UNATTESTED_MONTH_DAY: Final = (10, 1)
"""A jamabandi never attested is taken as of 1 October of its year (see module doc)."""

RELATION_EN: Final = {"son_of": "s/o", "daughter_of": "d/o", "wife_of": "w/o"}
_RIGHT_ORDER: Final = {r.value: i for i, r in enumerate(RightType)}


class RecordsError(LandgovError):
    """A record-of-rights request cannot be met (e.g. a jamabandi date in the future)."""


class JamabandiChanged(RecordsError):
    """Regenerating a jamabandi gave a different snapshot: the records were changed
    retroactively. Nothing was overwritten.

    Attributes:
        differences: one line per khewat (or header field) that differs.
    """

    def __init__(self, label: str, stored: str, now: str, differences: list[str]) -> None:
        self.differences = differences
        shown = "\n".join(f"  {d}" for d in differences[:50])
        more = f"\n  ... and {len(differences) - 50} more" if len(differences) > 50 else ""
        super().__init__(
            f"{label} does NOT reproduce: the records as of its date were changed "
            f"retroactively (stored sha256 {stored}, recomputed {now}); the stored snapshot "
            f"was kept. {len(differences)} difference(s):\n{shown}{more}"
        )


class SnapshotTampered(RecordsError):
    """A stored snapshot no longer hashes to its stored SHA-256."""


# --- canonical snapshots ---------------------------------------------------------------


def canonical_json(snapshot: Mapping[str, Any]) -> str:
    """One spelling of a snapshot: keys sorted, no spaces, non-ASCII kept as is."""
    return json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def snapshot_hash(snapshot: Mapping[str, Any]) -> str:
    """SHA-256 (lowercase hex) of the UTF-8 bytes of :func:`canonical_json`."""
    return hashlib.sha256(canonical_json(snapshot).encode("utf-8")).hexdigest()


def fraction_text(value: Fraction | int) -> str:
    """An exact value as ``n/d`` in lowest terms (the whole is ``1/1``)."""
    return format_share(Fraction(value))


def decimal_text(value: Fraction, places: int = 2) -> str:
    """A fraction rounded half to even to ``places`` decimals, exactly, e.g. ``505.86``."""
    scaled = round(Fraction(value) * 10**places)
    sign = "-" if scaled < 0 else ""
    whole, rest = divmod(abs(scaled), 10**places)
    return f"{sign}{whole}.{rest:0{places}d}" if places else f"{sign}{whole}"


def nearest_kms(sarsai: Fraction | int) -> KanalMarlaSarsai:
    """An exact area in sarsai, to the nearest whole sarsai (half to even), as K-M-S."""
    return KanalMarlaSarsai.from_sarsai(round(Fraction(sarsai)))


# --- holdings --------------------------------------------------------------------------


@dataclass(frozen=True)
class KhasraEntry:
    """A khasra (or the part of it) a khewat holds on a date."""

    number: str
    land_class: str
    area_sarsai: int
    unit_system: UnitSystem
    since: date
    whole_khasra_sarsai: int
    sort_key: tuple[int, int, int, tuple[int, ...]]

    @property
    def area_kms(self) -> KanalMarlaSarsai:
        return KanalMarlaSarsai.from_sarsai(self.area_sarsai)

    @property
    def area_m2(self) -> Fraction:
        return sarsai_to_m2(self.area_sarsai, self.unit_system)

    def snapshot(self) -> dict[str, Any]:
        return {
            "khasra": self.number,
            "land_class": self.land_class,
            "area_sarsai": self.area_sarsai,
            "area_kms": format_kms(self.area_kms),
            "unit_system": self.unit_system.value,
            "whole_khasra_sarsai": self.whole_khasra_sarsai,
            "since": self.since.isoformat(),
        }


def _khasra_entry(part: KhasraPart) -> KhasraEntry:
    return KhasraEntry(
        number=part.khasra_no,
        land_class=part.land_class,
        area_sarsai=part.area_sarsai,
        unit_system=UnitSystem(part.unit_system),
        since=part.valid_from,
        whole_khasra_sarsai=part.record_area_sarsai,
        sort_key=(
            0 if part.murabba is None else 1,
            part.murabba or 0,
            part.main_number,
            part.tatima,
        ),
    )


@dataclass(frozen=True)
class Holder:
    """A party as a certificate names it."""

    kind: str
    cnic: str | None
    custodian: str | None
    name: str
    name_ur: str | None
    guardian_relation: str | None
    guardian_name: str | None
    gender: str | None
    date_of_death: date | None

    @classmethod
    def from_row(cls, row: PartyRow) -> Holder:
        return cls(
            row.kind,
            row.cnic,
            row.custodian,
            row.name,
            row.name_ur,
            row.guardian_relation,
            row.guardian_name,
            row.gender,
            row.date_of_death,
        )

    @property
    def key(self) -> str:
        """The identity a snapshot uses: the CNIC, or ``state:<custodian>``."""
        return self.cnic if self.cnic is not None else f"state:{self.custodian}"

    def label(self) -> str:
        """``Muhammad Aslam s/o Ghulam Rasool``."""
        if self.guardian_relation and self.guardian_name:
            return f"{self.name} {RELATION_EN[self.guardian_relation]} {self.guardian_name}"
        return self.name

    def snapshot(self) -> dict[str, Any]:
        return {
            "party": self.key,
            "kind": self.kind,
            "name": self.name,
            "name_ur": self.name_ur,
            "guardian_relation": self.guardian_relation,
            "guardian_name": self.guardian_name,
            "date_of_death": self.date_of_death.isoformat() if self.date_of_death else None,
        }


@dataclass(frozen=True)
class Right:
    """One right in force in a khewat: a holder's exact share of the whole khewat."""

    holder: Holder
    share: Fraction
    right_type: RightType
    since: date
    mutation_no: int | None  # None: held since the settlement

    @property
    def sort_key(self) -> tuple[Any, ...]:
        return (
            _RIGHT_ORDER[self.right_type.value],
            self.holder.name.casefold(),
            self.holder.key,
            self.since,
            self.mutation_no or 0,
            self.share,
        )

    def snapshot(self) -> dict[str, Any]:
        return {
            **self.holder.snapshot(),
            "share": fraction_text(self.share),
            "right_type": self.right_type.value,
            "since": self.since.isoformat(),
            "mutation": self.mutation_no,
        }


def _rights(rows: Iterable[RightRow]) -> list[Right]:
    """The rights of share rows, one per holder, right, since-date and mutation.

    Rows that agree on all four are one right with their shares summed: a mutation may
    write one row per counter-party (the demo's lease writes one per lessor), which the
    record of rights shows as one holding (as :mod:`landgov.domain.ledger` does).
    """
    merged: dict[tuple[int, str, date, int | None], Right] = {}
    for row in rows:
        key = (row.party.id, row.right_type, row.valid_from, row.mutation_no)
        share = Fraction(row.numerator, row.denominator)
        if key in merged:
            earlier = merged[key]
            merged[key] = Right(
                earlier.holder,
                earlier.share + share,
                earlier.right_type,
                earlier.since,
                earlier.mutation_no,
            )
        else:
            merged[key] = Right(
                holder=Holder.from_row(row.party),
                share=share,
                right_type=RightType(row.right_type),
                since=row.valid_from,
                mutation_no=row.mutation_no,
            )
    return sorted(merged.values(), key=lambda r: r.sort_key)


def _area_m2(khasras: Iterable[KhasraEntry]) -> Fraction:
    return sum((k.area_m2 for k in khasras), Fraction(0))


def _mouza_snapshot(mouza: MouzaHeader) -> dict[str, Any]:
    return {"name": mouza.name, "hadbast": mouza.hadbast_number}


@dataclass(frozen=True)
class KhewatHolding:
    """A khewat's record of rights on a date: its khasras and every right in force.

    ``ownership_total`` is the exact sum of the ownership shares; ``is_whole`` says
    whether it is exactly 1. Mortgages and leases are rights over the owners' land and
    are not part of that total.
    """

    mouza: MouzaHeader
    khewat_no: int
    previous_no: int | None
    as_of: date
    khasras: tuple[KhasraEntry, ...]
    rights: tuple[Right, ...]

    @property
    def area_sarsai(self) -> int:
        return sum(k.area_sarsai for k in self.khasras)

    @property
    def area_kms(self) -> KanalMarlaSarsai:
        return KanalMarlaSarsai.from_sarsai(self.area_sarsai)

    @property
    def area_m2(self) -> Fraction:
        return _area_m2(self.khasras)

    @property
    def owners(self) -> tuple[Right, ...]:
        return tuple(r for r in self.rights if r.right_type is RightType.OWNERSHIP)

    @property
    def ownership_total(self) -> Fraction:
        return sum((r.share for r in self.owners), Fraction(0))

    @property
    def is_whole(self) -> bool:
        return self.ownership_total == WHOLE

    @property
    def label(self) -> str:
        m = self.mouza
        return f"khewat {self.khewat_no} of mouza {m.name} (hadbast {m.hadbast_number})"

    def body(self) -> dict[str, Any]:
        """The khewat's part of a snapshot, without mouza and date (a jamabandi row)."""
        return {
            "khewat": self.khewat_no,
            "previous_khewat": self.previous_no,
            "khasras": [k.snapshot() for k in self.khasras],
            "area_sarsai": self.area_sarsai,
            "area_kms": format_kms(self.area_kms),
            "area_m2": decimal_text(self.area_m2),
            "rights": [r.snapshot() for r in self.rights],
            "ownership_total": fraction_text(self.ownership_total),
            "sums_to_one": self.is_whole,
        }

    def snapshot(self) -> dict[str, Any]:
        return {
            "record": "khewat",
            "mouza": _mouza_snapshot(self.mouza),
            "as_of": self.as_of.isoformat(),
            **self.body(),
        }

    @property
    def sha256(self) -> str:
        return snapshot_hash(self.snapshot())


def _holdings(conn: Connection, refs: Sequence[KhewatRef], as_of: date) -> dict[int, KhewatHolding]:
    """The holdings of the khewats ``refs`` on ``as_of``, by khewat id (batched reads)."""
    ids = [r.id for r in refs]
    headers = mouza_headers(conn, sorted({r.mouza_id for r in refs}))
    parts: dict[int, list[KhasraEntry]] = {i: [] for i in ids}
    for part in khewat_khasra_parts(conn, ids, as_of):
        parts[part.khewat_id].append(_khasra_entry(part))
    rows: dict[int, list[RightRow]] = {i: [] for i in ids}
    for row in rights_in_force(conn, as_of, khewat_ids=ids):
        rows[row.khewat_id].append(row)
    return {
        r.id: KhewatHolding(
            mouza=headers[r.mouza_id],
            khewat_no=r.number,
            previous_no=r.previous_number,
            as_of=as_of,
            khasras=tuple(sorted(parts[r.id], key=lambda k: (k.sort_key, k.number))),
            rights=tuple(_rights(rows[r.id])),
        )
        for r in refs
    }


def khewat_holding(conn: Connection, mouza_id: int, khewat_no: int, as_of: date) -> KhewatHolding:
    """The record of rights of khewat ``khewat_no`` of a mouza on ``as_of``.

    A khewat that exists but held nothing that day has no khasras and no rights.

    Raises:
        NotFound: the mouza has no such khewat.
    """
    refs = khewat_refs(conn, mouza_id=mouza_id, numbers=[khewat_no])
    if not refs:
        name = mouza_headers(conn, [mouza_id]).get(mouza_id)
        where = f"mouza {name.name} (hadbast {name.hadbast_number})" if name else "that mouza"
        raise NotFound(f"no khewat {khewat_no} in {where}")
    return _holdings(conn, refs, as_of)[refs[0].id]


@dataclass(frozen=True)
class PersonShare:
    """One right of a person in one khewat, with the area it stands for."""

    khewat: KhewatHolding
    right: Right

    @property
    def area_sarsai(self) -> Fraction:
        """The share of the khewat's area, exactly (a fraction of a sarsai)."""
        return self.right.share * self.khewat.area_sarsai

    @property
    def area_kms(self) -> KanalMarlaSarsai:
        """:attr:`area_sarsai` to the nearest whole sarsai."""
        return nearest_kms(self.area_sarsai)

    @property
    def area_m2(self) -> Fraction:
        return self.right.share * self.khewat.area_m2

    @property
    def sort_key(self) -> tuple[Any, ...]:
        m = self.khewat.mouza
        return (m.name.casefold(), m.hadbast_number, self.khewat.khewat_no, self.right.sort_key)

    def snapshot(self) -> dict[str, Any]:
        r = self.right
        return {
            "mouza": _mouza_snapshot(self.khewat.mouza),
            "khewat": self.khewat.khewat_no,
            "khasras": [k.snapshot() for k in self.khewat.khasras],
            "khewat_area_sarsai": self.khewat.area_sarsai,
            "share": fraction_text(r.share),
            "right_type": r.right_type.value,
            "since": r.since.isoformat(),
            "mutation": r.mutation_no,
            "area_sarsai": fraction_text(self.area_sarsai),
            "area_kms": format_kms(self.area_kms),
            "area_m2": decimal_text(self.area_m2),
        }


@dataclass(frozen=True)
class PersonHolding:
    """Everything a person (by CNIC) holds on a date, in every khewat of every mouza."""

    person: Holder
    as_of: date
    shares: tuple[PersonShare, ...]

    @property
    def owned(self) -> tuple[PersonShare, ...]:
        return tuple(s for s in self.shares if s.right.right_type is RightType.OWNERSHIP)

    @property
    def owned_sarsai(self) -> Fraction:
        return sum((s.area_sarsai for s in self.owned), Fraction(0))

    @property
    def owned_kms(self) -> KanalMarlaSarsai:
        return nearest_kms(self.owned_sarsai)

    @property
    def owned_m2(self) -> Fraction:
        return sum((s.area_m2 for s in self.owned), Fraction(0))

    @property
    def label(self) -> str:
        return f"{self.person.label()} (CNIC {self.person.cnic})"

    def snapshot(self) -> dict[str, Any]:
        return {
            "record": "person",
            "person": self.person.snapshot(),
            "as_of": self.as_of.isoformat(),
            "holdings": [s.snapshot() for s in self.shares],
            "owned_area_sarsai": fraction_text(self.owned_sarsai),
            "owned_area_kms": format_kms(self.owned_kms),
            "owned_area_m2": decimal_text(self.owned_m2),
        }

    @property
    def sha256(self) -> str:
        return snapshot_hash(self.snapshot())


def person_holdings(conn: Connection, cnic: str, as_of: date) -> PersonHolding:
    """Every right the person with ``cnic`` holds on ``as_of``, in all mouzas.

    Raises:
        InvalidCNIC: ``cnic`` is not a CNIC.
        NotFound: no person has that CNIC.
    """
    dashed = validate_cnic(cnic)
    party = party_by_cnic(conn, dashed)
    if party is None:
        raise NotFound(f"no person with CNIC {dashed} in the record")
    rows = rights_in_force(conn, as_of, party_id=party.id)
    refs = khewat_refs(conn, ids=sorted({r.khewat_id for r in rows}))
    holdings = _holdings(conn, refs, as_of) if refs else {}
    person = Holder.from_row(party)
    shares = [
        PersonShare(holding, right)
        for holding in holdings.values()
        for right in holding.rights
        if right.holder.key == person.key
    ]
    return PersonHolding(
        person=person,
        as_of=as_of,
        shares=tuple(sorted(shares, key=lambda s: s.sort_key)),
    )


# --- reading as an actor ---------------------------------------------------------------


def mask_cnics(value: Any) -> Any:
    """``value`` (text, or a JSON-able dict/list of them) with every CNIC masked
    (:func:`landgov.domain.mask_cnic`: ``35401-*******-1``)."""
    if isinstance(value, str):
        return _CNIC_RE.sub(lambda m: mask_cnic(m[0]), value)
    if isinstance(value, dict):
        return {k: mask_cnics(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_cnics(v) for v in value]
    return value


def check_unmask(conn: Connection, actor: Actor, mouza_ids: Iterable[int]) -> None:
    """Refuses unless ``actor`` may see CNICs in full in every mouza of ``mouza_ids``.

    Raises:
        AccessDenied: ``role`` (the actor's roles never see them in full) or
            ``jurisdiction`` (not posted over one of the mouzas today).
    """
    policy.check_role(actor.roles, "personal.unmask", actor.display)
    for mouza_id in sorted(set(mouza_ids)):
        if not may_unmask(conn, actor, mouza_id):
            name = mouza_headers(conn, [mouza_id]).get(mouza_id)
            raise AccessDenied(
                "jurisdiction",
                f"{actor.display} sees CNICs in full only in mouzas where posted today; "
                f"not posted over mouza {name.name if name else mouza_id}",
            )


def read_khewat(
    engine: Engine,
    *,
    actor: Actor,
    mouza: str,
    khewat_no: int,
    as_of: date,
    unmasked: bool = False,
) -> KhewatHolding:
    """The record of rights of a khewat on ``as_of``, read by ``actor``: checked
    (``personal.read``; with ``unmasked``, :func:`check_unmask` too) and written to the
    access log. The holding is returned whole: the caller shows it through
    :func:`mask_cnics` unless ``unmasked``.

    Raises:
        AuthenticationFailed: the actor's session has ended. AccessDenied: ``role``,
            ``jurisdiction`` (unmasked). NotFound: no such mouza or khewat.
    """
    with engine.begin() as conn:
        bind(conn, actor)
        authorize(conn, actor, "personal.read")
        mouza_id = resolve_mouza(conn, mouza)
        if unmasked:
            check_unmask(conn, actor, [mouza_id])
        holding = khewat_holding(conn, mouza_id, khewat_no, as_of)
        log_access(
            conn, actor, "ror.khewat", "khewat", f"{mouza_id}:{khewat_no}",
            {"as_of": as_of.isoformat(), "unmasked": unmasked,
             "holders": len({r.holder.key for r in holding.rights})},
        )  # fmt: skip
    return holding


def read_person(
    engine: Engine, *, actor: Actor, cnic: str, as_of: date, unmasked: bool = False
) -> PersonHolding:
    """Everything the person with ``cnic`` holds on ``as_of``, read by ``actor``:
    checked (``personal.read``; with ``unmasked``, :func:`check_unmask` over every mouza
    where the person holds land) and written to the access log.

    Raises:
        AuthenticationFailed: the actor's session has ended. AccessDenied: ``role``,
            ``jurisdiction`` (unmasked). InvalidCNIC: not a CNIC. NotFound: no such person.
    """
    with engine.begin() as conn:
        bind(conn, actor)
        authorize(conn, actor, "personal.read")
        holding = person_holdings(conn, cnic, as_of)
        mouzas = {s.khewat.mouza.id for s in holding.shares}
        if unmasked:
            check_unmask(conn, actor, mouzas)
        log_access(
            conn, actor, "ror.person", "party", holding.person.cnic or validate_cnic(cnic),
            {"as_of": as_of.isoformat(), "unmasked": unmasked, "khewats": len(holding.shares),
             "mouzas": sorted(mouzas)},
        )  # fmt: skip
    return holding


# --- jamabandi -------------------------------------------------------------------------


def jamabandi_date(year: int, attested_on: date | None) -> date:
    """The date a jamabandi records: its attestation day, else 1 October of its year."""
    return attested_on if attested_on is not None else date(year, *UNATTESTED_MONTH_DAY)


def mouza_snapshot(conn: Connection, mouza_id: int, year: int, as_of: date) -> dict[str, Any]:
    """The jamabandi snapshot of a mouza: every khewat holding a share or khasra on
    ``as_of``, in khewat-number order."""
    header = mouza_headers(conn, [mouza_id])[mouza_id]
    numbers = mouza_khewats(conn, mouza_id, as_of)
    refs = khewat_refs(conn, mouza_id=mouza_id, numbers=numbers) if numbers else []
    holdings = _holdings(conn, refs, as_of) if refs else {}
    return {
        "record": "jamabandi",
        "mouza": _mouza_snapshot(header),
        "year": year,
        "as_of": as_of.isoformat(),
        "khewats": [holdings[r.id].body() for r in sorted(refs, key=lambda r: r.number)],
    }


Outcome = Literal["generated", "reproduced", "stored"]


@dataclass(frozen=True)
class Jamabandi:
    """A generated jamabandi as stored: its date, snapshot and hash."""

    mouza: MouzaHeader
    year: int
    as_of: date
    snapshot: dict[str, Any]
    sha256: str
    generated_at: datetime
    generated_by: str
    attested_by: str | None
    attested_on: date | None
    outcome: Outcome

    @property
    def label(self) -> str:
        return (
            f"jamabandi {self.year} of mouza {self.mouza.name} "
            f"(hadbast {self.mouza.hadbast_number})"
        )

    @property
    def khewats(self) -> list[dict[str, Any]]:
        return list(self.snapshot["khewats"])

    def summary(self) -> str:
        what = {
            "generated": "generated and stored",
            "reproduced": "reproduced exactly",
            "stored": "stored",
        }[self.outcome]
        return (
            f"{self.label} as of {self.as_of.isoformat()}: {what} "
            f"(sha256 {self.sha256}); {len(self.khewats)} khewat(s)"
        )


_JAMABANDI_ROW = (
    "SELECT j.id, j.attested_on, o.name, j.as_of, j.snapshot, j.snapshot_sha256,"
    " j.generated_at, j.generated_by FROM jamabandi j"
    " LEFT JOIN officer o ON o.id = j.attested_by"
    " WHERE j.mouza_id = :mouza AND j.year = :year"
)


def _check_stored(label: str, snapshot: Mapping[str, Any], sha256: str) -> None:
    if snapshot_hash(snapshot) != sha256:
        raise SnapshotTampered(
            f"{label}: the stored snapshot no longer hashes to its stored sha256 {sha256}; "
            "it was altered outside landgov"
        )


def _diff_jamabandi(stored: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """One line per header field or khewat that differs between two snapshots."""
    lines = [
        f"{field}: stored {stored.get(field)!r}, now {now.get(field)!r}"
        for field in ("mouza", "year", "as_of")
        if stored.get(field) != now.get(field)
    ]
    old = {k["khewat"]: k for k in stored.get("khewats", [])}
    new = {k["khewat"]: k for k in now.get("khewats", [])}
    for number in sorted(old.keys() | new.keys()):
        if number not in new:
            lines.append(f"khewat {number}: in the stored jamabandi, no longer in the record")
        elif number not in old:
            lines.append(f"khewat {number}: in the record now, not in the stored jamabandi")
        elif old[number] != new[number]:
            fields = sorted(
                f
                for f in old[number].keys() | new[number].keys()
                if old[number].get(f) != new[number].get(f)
            )
            lines.append(f"khewat {number}: {', '.join(fields)} differ")
    return lines


def generate_jamabandi(
    engine: Engine, mouza: str, year: int, *, actor: Actor, today: date | None = None
) -> Jamabandi:
    """Generates (once) and stores the jamabandi of ``mouza`` for ``year``.

    A year not generated yet gets its snapshot as of :func:`jamabandi_date`; a year with
    no jamabandi row at all gets a new, unattested row. A year already generated is
    recomputed and compared: the result says ``reproduced`` when identical. ``actor``
    needs ``jamabandi.generate`` (an officer, or the demo service); its label is stored
    as the generator and names the audit row.

    Raises:
        AuthenticationFailed: the actor's session has ended. AccessDenied: ``role``.
        NotFound: no such mouza.
        RecordsError: the jamabandi's date is after ``today``.
        JamabandiChanged: the year was generated and the records now differ.
        SnapshotTampered: the stored snapshot no longer matches its hash.
    """
    today = today or date.today()
    with engine.begin() as conn:
        bind(conn, actor)
        mouza_id = resolve_mouza(conn, mouza)
        authorize(conn, actor, "jamabandi.generate", mouza_id=mouza_id)
        header = mouza_headers(conn, [mouza_id])[mouza_id]
        params = {"mouza": mouza_id, "year": year}
        row = conn.execute(text(_JAMABANDI_ROW + " FOR UPDATE OF j"), params).one_or_none()
        # the row when it holds a snapshot already (a generated year), else None
        stored = row if row is not None and row.snapshot is not None else None
        as_of: date
        if stored is not None:
            as_of = stored.as_of
        else:
            as_of = jamabandi_date(year, row.attested_on if row else None)
        label = f"jamabandi {year} of mouza {header.name} (hadbast {header.hadbast_number})"
        if as_of > today:
            raise RecordsError(
                f"{label} would record the rights as of {as_of.isoformat()}, after today "
                f"({today.isoformat()}): the year's record is not closed yet"
            )
        snapshot = mouza_snapshot(conn, mouza_id, year, as_of)
        sha256 = snapshot_hash(snapshot)
        if stored is not None:
            _check_stored(label, stored.snapshot, stored.snapshot_sha256)
            if sha256 != stored.snapshot_sha256:
                raise JamabandiChanged(
                    label,
                    stored.snapshot_sha256,
                    sha256,
                    _diff_jamabandi(stored.snapshot, snapshot),
                )
            outcome: Outcome = "reproduced"
        else:
            if row is None:
                conn.execute(
                    text("INSERT INTO jamabandi (mouza_id, year) VALUES (:mouza, :year)"), params
                )
            conn.execute(
                text(
                    "UPDATE jamabandi SET as_of = :as_of, snapshot = CAST(:snapshot AS jsonb),"
                    " snapshot_sha256 = :sha, generated_at = clock_timestamp(),"
                    " generated_by = :actor WHERE mouza_id = :mouza AND year = :year"
                ),
                {
                    **params,
                    "as_of": as_of,
                    "snapshot": canonical_json(snapshot),
                    "sha": sha256,
                    "actor": actor.label,
                },
            )
            outcome = "generated"
        append_audit(
            conn,
            actor=actor.label,
            action=f"jamabandi {outcome}",
            entity="jamabandi",
            entity_id=f"{mouza_id}:{year}",
            details={
                "as_of": as_of.isoformat(),
                "sha256": sha256,
                "khewats": len(snapshot["khewats"]),
            },
        )
        final = conn.execute(text(_JAMABANDI_ROW), params).one()
    return _jamabandi(header, year, final, outcome)


def _jamabandi(header: MouzaHeader, year: int, row: Any, outcome: Outcome) -> Jamabandi:
    return Jamabandi(
        mouza=header,
        year=year,
        as_of=row.as_of,
        snapshot=dict(row.snapshot),
        sha256=row.snapshot_sha256,
        generated_at=row.generated_at,
        generated_by=row.generated_by,
        attested_by=row.name,
        attested_on=row.attested_on,
        outcome=outcome,
    )


def show_jamabandi(engine: Engine, mouza: str, year: int) -> Jamabandi:
    """The stored jamabandi of ``mouza`` for ``year``, its hash checked.

    Raises:
        NotFound: no such mouza, or that year was never generated.
        SnapshotTampered: the stored snapshot no longer matches its hash.
    """
    with engine.connect() as conn:
        mouza_id = resolve_mouza(conn, mouza)
        header = mouza_headers(conn, [mouza_id])[mouza_id]
        row = conn.execute(text(_JAMABANDI_ROW), {"mouza": mouza_id, "year": year}).one_or_none()
    label = f"jamabandi {year} of mouza {header.name} (hadbast {header.hadbast_number})"
    if row is None or row.snapshot is None:
        raise NotFound(
            f"{label} has not been generated; run 'landgov jamabandi generate "
            f'--mouza "{header.name}" --year {year}\''
        )
    _check_stored(label, row.snapshot, row.snapshot_sha256)
    return _jamabandi(header, year, row, "stored")
