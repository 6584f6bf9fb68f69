"""The jamabandi: a mouza's record of rights for a year, generated once and kept immutable.

A jamabandi is the snapshot of every khewat of a mouza as of one day
(:func:`mouza_snapshot`, built from :func:`landgov.records.rights.mouza_holdings` and
spelt by :mod:`landgov.records.snapshot`), stored with its SHA-256 in the ``jamabandi``
row of its year. This module imports the record of rights; the record of rights never
imports it.

Jamabandi date
    A jamabandi of year Y is the record as of one day, ``as_of``, fixed when it is first
    generated and stored with it. It is the day its attesting officer attested it
    (``attested_on``): the officer certifies the record as it stands that day, and a
    mutation that takes effect that day is in it. A jamabandi not attested (signal 11)
    has no such day and is taken as of 1 October of its year, a fixed convention so the
    date never depends on when the command runs. Attesting it later does not move the
    date of a jamabandi already generated. A date after today is refused: the year's
    record is not closed yet.

Who generates
    :func:`generate_jamabandi` acts for an actor holding ``jamabandi.generate`` and
    records its label as the generator; a refusal is :class:`~landgov.errors.AccessDenied`
    (rule ``role``). :func:`show_jamabandi` reads a stored one back, its hash checked.

Regenerating
    :func:`generate_jamabandi` on a generated year recomputes the snapshot from the
    temporal records as of the stored date and compares hashes. Equal: it is reproduced
    exactly. Different: :class:`JamabandiChanged` lists the khewats that differ (the
    records were changed retroactively) and nothing is overwritten; the database refuses
    any change of a stored snapshot anyway (``sql/006_record_of_rights.sql``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, Literal

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from landgov.records.rights import RecordsError, mouza_holdings
from landgov.records.snapshot import canonical_json, mouza_identity, snapshot_hash
from landgov.security import Actor, authorize, bind
from landgov.storage.audit import append as append_audit
from landgov.storage.lookup import NotFound, resolve_mouza
from landgov.storage.read import MouzaHeader, mouza_headers

UNATTESTED_MONTH_DAY: Final = (10, 1)
"""A jamabandi never attested is taken as of 1 October of its year (see module doc)."""


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


def jamabandi_date(year: int, attested_on: date | None) -> date:
    """The date a jamabandi records: its attestation day, else 1 October of its year."""
    return attested_on if attested_on is not None else date(year, *UNATTESTED_MONTH_DAY)


def mouza_snapshot(conn: Connection, mouza_id: int, year: int, as_of: date) -> dict[str, Any]:
    """The jamabandi snapshot of a mouza: every khewat holding a share or khasra on
    ``as_of``, in khewat-number order."""
    header = mouza_headers(conn, [mouza_id])[mouza_id]
    return {
        "record": "jamabandi",
        "mouza": mouza_identity(header),
        "year": year,
        "as_of": as_of.isoformat(),
        "khewats": [h.body() for h in mouza_holdings(conn, mouza_id, as_of)],
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
