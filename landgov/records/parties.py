"""Registering a party: a person not yet in the records, so that a mutation can name them.

A buyer (or a donee, a mortgagee...) often owns nothing in the mouza yet, so the record
does not know their CNIC and the entry would be refused (``no party with CNIC ...``).
The patwari registers them first, from the entry form or ``landgov mutation
register-party``; the mutation then names them by CNIC like anyone else.

What is checked, and why
    * the CNIC with :func:`landgov.domain.cnic.validate_cnic` (13 bare digits get their
      dashes, so one person has one spelling);
    * a CNIC already in the records is refused, naming the party who holds it
      (:class:`PartyExists`): registering them again would create a second person, and
      the patwari has almost certainly found the right one;
    * the name and the father's or husband's name (wald / zauja, how the record tells
      namesakes apart) are required, must hold a letter and no digit, and are kept with
      single spaces;
    * the gender is not typed: the CNIC's last digit encodes it (odd for a man, even for
      a woman, :func:`landgov.domain.cnic.cnic_gender`) and the relation must agree with
      it (``son_of`` for a man, ``daughter_of`` or ``wife_of`` for a woman), which catches
      a mistyped last digit.

Who may
    Registering a party is part of entering a mutation: the capability is
    ``mutation.enter`` (a patwari), posted over the mouza the mutation is entered in, on
    the day (:func:`landgov.security.authorize`). One transaction writes the party and the
    engine's audit row (``party.register``) naming the account and the officer; a refusal
    writes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from landgov.domain.cnic import cnic_gender, validate_cnic
from landgov.domain.records import Gender, GuardianRelation
from landgov.errors import InvalidCNIC, LandgovError
from landgov.records.rows import acting_officer, officer_text
from landgov.security import Actor, authorize, bind
from landgov.storage.audit import append as audit_append
from landgov.storage.lookup import resolve_mouza

__all__ = ["NewParty", "PartyExists", "PartyInvalid", "RegisteredParty", "register_party"]

RELATION_LABELS: Final = {
    GuardianRelation.SON_OF: "s/o",
    GuardianRelation.DAUGHTER_OF: "d/o",
    GuardianRelation.WIFE_OF: "w/o",
}
_GENDER_OF: Final = {
    GuardianRelation.SON_OF: Gender.MALE,
    GuardianRelation.DAUGHTER_OF: Gender.FEMALE,
    GuardianRelation.WIFE_OF: Gender.FEMALE,
}
MAX_NAME: Final = 120
_DIGIT: Final = re.compile(r"\d")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class PartyInvalid(LandgovError):
    """A party cannot be registered as given; ``field`` names what is wrong. Nothing written."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class PartyExists(PartyInvalid):
    """The CNIC is already in the records: ``existing`` is that party (nothing written)."""

    def __init__(self, existing: RegisteredParty) -> None:
        self.existing = existing
        super().__init__(
            "cnic",
            f"CNIC {existing.cnic} is already in the records as {existing.label} "
            f"(party {existing.id}); name them by this CNIC instead of registering them again",
        )


@dataclass(frozen=True)
class NewParty:
    """A person as the patwari writes them: name, relation, father's or husband's name,
    CNIC, and the name in Urdu script when known."""

    name: str
    guardian_relation: GuardianRelation | str
    guardian_name: str
    cnic: str
    name_ur: str | None = None


@dataclass(frozen=True)
class RegisteredParty:
    """A person in the records, as a confirmation or a refusal names them."""

    id: int
    cnic: str
    name: str
    guardian_relation: str | None
    guardian_name: str | None
    gender: str | None

    @property
    def label(self) -> str:
        """``Bilal Ahmad s/o Rashid Ahmad``: how registers name a person."""
        if self.guardian_relation and self.guardian_name:
            relation = RELATION_LABELS.get(
                GuardianRelation(self.guardian_relation), self.guardian_relation
            )
            return f"{self.name} {relation} {self.guardian_name}"
        return self.name

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "cnic": self.cnic,
            "name": self.name,
            "guardian_relation": self.guardian_relation,
            "guardian_name": self.guardian_name,
            "gender": self.gender,
        }


def _name(value: str | None, field: str, what: str) -> str:
    cleaned = " ".join((value or "").split())
    if not cleaned:
        raise PartyInvalid(field, f"give the {what}")
    if len(cleaned) > MAX_NAME:
        raise PartyInvalid(field, f"the {what} is longer than {MAX_NAME} characters")
    if _DIGIT.search(cleaned) or _CONTROL.search(cleaned):
        raise PartyInvalid(field, f"the {what} {cleaned!r} holds a digit or a control character")
    if not any(ch.isalpha() for ch in cleaned):
        raise PartyInvalid(field, f"the {what} {cleaned!r} holds no letter")
    return cleaned


def checked(party: NewParty) -> tuple[NewParty, Gender]:
    """``party`` cleaned (names with single spaces, the CNIC dashed, the relation one of
    :class:`GuardianRelation`) and the gender its CNIC encodes; pure, no database.

    Raises:
        PartyInvalid: the first field that is wrong, named.
    """
    try:
        cnic = validate_cnic(party.cnic or "")
    except InvalidCNIC as exc:
        raise PartyInvalid("cnic", str(exc)) from None
    try:
        relation = GuardianRelation(str(party.guardian_relation).strip().lower())
    except ValueError:
        valid = ", ".join(r.value for r in GuardianRelation)
        raise PartyInvalid(
            "guardian_relation", f"unknown relation {party.guardian_relation!r}; valid: {valid}"
        ) from None
    name = _name(party.name, "name", "name")
    guardian = _name(party.guardian_name, "guardian_name", "father's or husband's name")
    name_ur = " ".join((party.name_ur or "").split()) or None
    if name_ur is not None and (len(name_ur) > MAX_NAME or _CONTROL.search(name_ur)):
        raise PartyInvalid("name_ur", "the Urdu name is too long or holds a control character")
    gender = cnic_gender(cnic)
    if _GENDER_OF[relation] is not gender:
        digit = "odd: a man's" if gender is Gender.MALE else "even: a woman's"
        raise PartyInvalid(
            "guardian_relation",
            f"CNIC {cnic} ends in {cnic[-1]} ({digit} CNIC) but the relation is "
            f"{RELATION_LABELS[relation]} ({relation.value.replace('_', ' ')}); check the "
            "CNIC's last digit or the relation",
        )
    return NewParty(name, relation, guardian, cnic, name_ur), gender


def party_by_cnic(conn: Connection, cnic: str) -> RegisteredParty | None:
    """The person holding ``cnic`` (dashed), or None."""
    row = conn.execute(
        text(
            "SELECT id, cnic, name, guardian_relation, guardian_name, gender FROM party"
            " WHERE cnic = :c"
        ),
        {"c": cnic},
    ).first()
    if row is None:
        return None
    return RegisteredParty(
        int(row.id), str(row.cnic), str(row.name), row.guardian_relation, row.guardian_name,
        row.gender,
    )  # fmt: skip


def register_party(engine: Engine, party: NewParty, *, mouza: str, actor: Actor) -> RegisteredParty:
    """Registers a person so that a mutation entered in ``mouza`` can name them; returns
    them as stored.

    ``actor`` must hold ``mutation.enter`` and be posted over ``mouza`` today (module
    notes, Who may). The party and the audit row ``party.register`` are written in one
    transaction.

    Raises:
        PartyInvalid: a field is wrong (named); PartyExists: the CNIC is in the records
            (the existing party named). Nothing was written.
        AuthenticationFailed, AccessDenied: the actor may not. NotFound: no such mouza.
    """
    clean, gender = checked(party)
    with engine.begin() as conn:
        bind(conn, actor)
        mouza_id = resolve_mouza(conn, mouza)
        authorize(conn, actor, "mutation.enter", mouza_id=mouza_id)
        officer = acting_officer(conn, actor)
        existing = party_by_cnic(conn, clean.cnic)
        if existing is not None:
            raise PartyExists(existing)
        try:
            with conn.begin_nested():  # a savepoint: the race below leaves the rest usable
                pid = conn.execute(
                    text(
                        "INSERT INTO party (kind, cnic, name, name_ur, guardian_relation,"
                        " guardian_name, gender) VALUES ('person', :c, :n, :u, :r, :g, :s)"
                        " RETURNING id"
                    ),
                    {
                        "c": clean.cnic,
                        "n": clean.name,
                        "u": clean.name_ur,
                        "r": str(clean.guardian_relation),
                        "g": clean.guardian_name,
                        "s": gender.value,
                    },
                ).scalar_one()
        except IntegrityError:
            # registered by someone else between our read and our insert
            raced = party_by_cnic(conn, clean.cnic)
            if raced is None:
                raise
            raise PartyExists(raced) from None
        stored = RegisteredParty(
            int(pid), clean.cnic, clean.name, str(clean.guardian_relation), clean.guardian_name,
            gender.value,
        )  # fmt: skip
        audit_append(
            conn,
            actor=actor.label,
            action="party.register",
            entity="party",
            entity_id=str(stored.id),
            details={
                **stored.as_dict(),
                "name_ur": clean.name_ur,
                "mouza_id": mouza_id,
                "officer": officer_text(officer),
                "officer_id": officer.id,
            },
        )
        return stored
