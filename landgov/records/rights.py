"""The record of rights as of any date: what a khewat, or a person, holds on a day.

Holdings are a query over periods, never a current-state table: a sanctioned mutation
closes share rows and opens new ones (``sql/003_rights.sql``), so the holding of a khewat
or of a person on any date is read from the ``share`` and ``khewat_khasra`` rows whose
periods cover that date (:mod:`landgov.storage.read`).

Snapshots
    :meth:`KhewatHolding.snapshot` and :meth:`PersonHolding.snapshot` are the canonical
    JSON-able form of a holding (exact fractions ``"n/d"``, ISO dates, a fixed order,
    parties by CNIC or custodian, never database ids), spelt and hashed by
    :mod:`landgov.records.snapshot`, so the same records on the same date always give the
    same hash. The jamabandi (:mod:`landgov.records.jamabandi`) and the fard
    (:mod:`landgov.records.fard`) certify these snapshots; both import this module, never
    the reverse.

Who reads
    :func:`read_khewat` and :func:`read_person` are the record of rights as a signed-in
    actor reads it (``personal.read``): each read writes an ``access_log`` row (who read
    whom, as of when, whether CNICs were shown in full) in the same transaction. CNICs
    are shown masked (:func:`mask_cnics`) unless asked for in full (``unmasked``), which
    only an officer posted over every mouza concerned may (``personal.unmask``,
    :func:`landgov.security.may_unmask`). Refusals are
    :class:`~landgov.errors.AccessDenied` (rules ``role``, ``jurisdiction``); the
    connection-level functions (:func:`khewat_holding`, :func:`mouza_holdings`,
    :func:`person_holdings`) check nothing and log nothing: they are the building blocks
    of the checked ones, of the jamabandi and of fards.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy.engine import Connection, Engine

from landgov.domain import (
    WHOLE,
    KanalMarlaSarsai,
    RightType,
    UnitSystem,
    format_kms,
    mask_cnic,
    validate_cnic,
)
from landgov.domain.units import sarsai_to_m2
from landgov.errors import AccessDenied, LandgovError
from landgov.records.snapshot import (
    decimal_text,
    fraction_text,
    mouza_identity,
    nearest_kms,
    snapshot_hash,
)
from landgov.security import Actor, authorize, bind, log_access, may_unmask, policy
from landgov.storage.lookup import NotFound, resolve_mouza

if TYPE_CHECKING:
    from landgov.security.clients import ApiClient
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

RELATION_EN: Final = {"son_of": "s/o", "daughter_of": "d/o", "wife_of": "w/o"}
_RIGHT_ORDER: Final = {r.value: i for i, r in enumerate(RightType)}


class RecordsError(LandgovError):
    """A record-of-rights request cannot be met (e.g. a jamabandi date in the future)."""


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
            "mouza": mouza_identity(self.mouza),
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


def mouza_holdings(conn: Connection, mouza_id: int, as_of: date) -> list[KhewatHolding]:
    """The record of rights of a whole mouza on ``as_of``: every khewat holding a share or
    a khasra that day, in khewat-number order (a jamabandi's rows).

    Khewats that held nothing that day are left out, unlike :func:`khewat_holding`, which
    answers for the one khewat asked about even when it is empty.
    """
    numbers = mouza_khewats(conn, mouza_id, as_of)
    refs = khewat_refs(conn, mouza_id=mouza_id, numbers=numbers) if numbers else []
    holdings = _holdings(conn, refs, as_of) if refs else {}
    return [holdings[r.id] for r in sorted(refs, key=lambda r: r.number)]


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
            "mouza": mouza_identity(self.khewat.mouza),
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


def client_read_person(
    engine: Engine, *, client: ApiClient, cnic: str, as_of: date, request_id: str | None = None
) -> PersonHolding:
    """Everything the person with ``cnic`` holds on ``as_of``, read by an API client that
    holds ``holdings:read`` (the API checks the scope): the same holding as
    :func:`read_person`, written to the access log under the client's name.

    Raises:
        InvalidCNIC: not a CNIC. NotFound: no such person.
    """
    if "holdings:read" not in client.scopes:
        raise AccessDenied("scope", f"API client {client.name} does not hold holdings:read")
    with engine.begin() as conn:
        holding = person_holdings(conn, cnic, as_of)
        mouzas = {s.khewat.mouza.id for s in holding.shares}
        log_access(
            conn, client, "ror.person", "party", holding.person.cnic or validate_cnic(cnic),
            {"as_of": as_of.isoformat(), "client": client.name, "agency": client.agency,
             "request_id": request_id, "khewats": len(holding.shares), "mouzas": sorted(mouzas)},
        )  # fmt: skip
    return holding
