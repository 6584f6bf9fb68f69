"""Valuation rolls: every live parcel valued as of a date, published as one version.

Why it is safe to kill: the values are computed first (on dask workers), then the roll's
header row and all its values are written in ONE transaction (COPY) and committed. Until
that commit no reader can see any of it, and ``valuation_current`` keeps showing the
previous roll; a process killed at any point (even ``kill -9`` inside the transaction,
which PostgreSQL rolls back) leaves either no trace or a complete roll, and a re-run
simply runs again.

Why a re-run is free: the roll's fingerprint hashes everything its values depend on (the
method, the as-of date, every live parcel's id, mouza, land class, area and unit system,
and every rate row used); a run whose fingerprint is stored returns that roll, and the
unique fingerprint makes two concurrent runs publish one roll.

Method ``statutory``: the District Collector value, area × the DC rate in force on the
date for the parcel's mouza (or the admin unit above it) and land class, exactly as
:func:`landgov.valuation.rates.statutory_value` computes it for one parcel. A parcel
with no rate in force is counted as unvalued, with the reason, never guessed. The mass
appraisal model (issue 7, to come) plugs in as another method.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from landgov.domain.units import UnitSystem, sarsai_sqft
from landgov.valuation.rates import DcRate, dc_rate_on, round_half_up

METHOD_STATUTORY: Final = "statutory"
METHODS: Final = (METHOD_STATUTORY,)
CHUNK: Final = 50_000
"""Parcels per dask task: large enough that scheduling costs little, small enough that two
workers share the work evenly."""

# (khasra id, mouza id, land class, record area in sarsai, unit system)
ParcelRow = tuple[int, int, str, int, str]


@dataclass(frozen=True)
class Roll:
    """One published roll (``reused``: this run found it already stored)."""

    id: int
    as_of: date
    method: str
    fingerprint: str
    parcels: int
    unvalued: int
    total_value_rs: int
    summary: dict[str, Any] = field(default_factory=dict)
    reused: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "roll": self.id, "as_of": self.as_of.isoformat(), "method": self.method,
            "fingerprint": self.fingerprint, "parcels": self.parcels,
            "unvalued": self.unvalued, "total_value_rs": self.total_value_rs,
            "summary": self.summary, "reused": self.reused,
        }  # fmt: skip


def live_parcels(conn: Connection, as_of: date) -> list[ParcelRow]:
    """Every khasra live on ``as_of`` (created on or before it, not yet retired), by id."""
    rows = conn.execute(
        text(
            "SELECT id, mouza_id, land_class, record_area_sarsai, unit_system FROM khasra"
            " WHERE (created_on IS NULL OR created_on <= :d)"
            " AND (retired_on IS NULL OR retired_on > :d) ORDER BY id"
        ),
        {"d": as_of},
    ).all()
    return [(int(r[0]), int(r[1]), str(r[2]), int(r[3]), str(r[4])) for r in rows]


def rates_for(
    conn: Connection, parcels: Iterable[ParcelRow], as_of: date
) -> dict[tuple[int, str], DcRate | None]:
    """The DC rate in force for each (mouza, land class) the parcels need (None: none)."""
    keys = sorted({(p[1], p[2]) for p in parcels})
    return {(m, c): dc_rate_on(conn, m, c, as_of) for m, c in keys}


def value_chunk(
    parcels: Sequence[ParcelRow], per_sq_ft: dict[tuple[int, str], tuple[int, str] | None]
) -> list[tuple[int, int | None, int | None]]:
    """(khasra id, value in whole rupees or None, rate id) per parcel: exact arithmetic
    (sarsai → square feet → rupees as fractions, rounded half up once), pure, so it runs
    on any dask worker. ``per_sq_ft`` maps (mouza, class) to (rate id, Rs per ft² as a
    fraction string) or None."""
    sqft = {s.value: sarsai_sqft(s) for s in UnitSystem}
    rates = {k: (v[0], Fraction(v[1])) if v else None for k, v in per_sq_ft.items()}
    out: list[tuple[int, int | None, int | None]] = []
    for kid, mouza, cls, area, system in parcels:
        rate = rates.get((mouza, cls))
        if rate is None:
            out.append((kid, None, None))
        else:
            out.append((kid, round_half_up(area * sqft[system] * rate[1]), rate[0]))
    return out


def fingerprint(
    method: str, as_of: date, parcels: Sequence[ParcelRow], rates: dict[Any, DcRate | None]
) -> str:
    """SHA-256 of everything a roll's values depend on."""
    h = hashlib.sha256(f"{method}|{as_of.isoformat()}\n".encode())
    for p in parcels:
        h.update(("\t".join(map(str, p)) + "\n").encode())
    for key in sorted(rates):
        r = rates[key]
        h.update(f"{key}|{None if r is None else (r.id, str(r.rs_per_sq_ft()))}\n".encode())
    return h.hexdigest()


def _stored(conn: Connection, fp: str) -> Roll | None:
    row = conn.execute(
        text(
            "SELECT id, as_of, method, fingerprint, parcels, unvalued, total_value_rs, summary"
            " FROM valuation_roll WHERE fingerprint = :f"
        ),
        {"f": fp},
    ).first()
    if row is None:
        return None
    return Roll(
        int(row.id), row.as_of, row.method, row.fingerprint, int(row.parcels),
        int(row.unvalued), int(row.total_value_rs), dict(row.summary), reused=True,
    )  # fmt: skip


def run_roll(
    engine: Engine,
    as_of: date,
    *,
    method: str = METHOD_STATUTORY,
    scheduler: Any = None,
    chunk: int = CHUNK,
) -> Roll:
    """Values every parcel live on ``as_of`` and publishes the roll (module docstring).

    Args:
        engine: The database.
        as_of: The valuation date.
        method: ``statutory`` (the only one so far).
        scheduler: None (a local dask cluster), an address, or a ``Client``.
        chunk: Parcels per dask task.

    Raises:
        ValueError: an unknown method.
    """
    from landgov.parallel import dask_client
    from landgov.storage import audit

    if method not in METHODS:
        raise ValueError(f"unknown valuation method {method!r}: one of {', '.join(METHODS)}")
    t0 = time.perf_counter()
    with engine.connect() as conn:
        parcels = live_parcels(conn, as_of)
        rates = rates_for(conn, parcels, as_of)
        fp = fingerprint(method, as_of, parcels, rates)
        found = _stored(conn, fp)
    if found is not None:
        return found
    per_sq_ft = {k: (r.id, str(r.rs_per_sq_ft())) if r else None for k, r in rates.items()}
    t_read = time.perf_counter() - t0
    client, owned = dask_client(scheduler)
    try:
        scattered = client.scatter(per_sq_ft, broadcast=True)
        futures = [
            client.submit(value_chunk, parcels[i : i + chunk], scattered, pure=False)
            for i in range(0, len(parcels), chunk)
        ]
        values = [v for part in client.gather(futures) for v in part]
    finally:
        for thing in owned:
            thing.close()
    t_score = time.perf_counter() - t0 - t_read
    valued = [v for v in values if v[1] is not None]
    missing = Counter(f"{p[2]} in mouza {p[1]}" for p, v in zip(parcels, values, strict=True)
                      if v[1] is None)  # fmt: skip
    summary = {
        "no_rate_in_force": dict(missing.most_common(20)),
        "seconds": {"read": round(t_read, 3), "score": round(t_score, 3)},
        "chunks": len(futures),
    }
    lines = [f"{kid}\t{value}\t{rate_id}\n" for kid, value, rate_id in valued]
    total = sum(int(v[1] or 0) for v in valued)
    try:
        with engine.begin() as conn:  # the one transaction that publishes the roll
            roll_id = int(conn.execute(
                text(
                    "INSERT INTO valuation_roll (as_of, method, fingerprint, parcels, unvalued,"
                    " total_value_rs, summary) VALUES (:d, :m, :f, :n, :u, :t,"
                    " CAST(:s AS jsonb)) RETURNING id"
                ),
                {"d": as_of, "m": method, "f": fp, "n": len(valued),
                 "u": len(values) - len(valued), "t": total, "s": json.dumps(summary)},
            ).scalar_one())  # fmt: skip
            raw = conn.connection.driver_connection
            prefix = f"{roll_id}\t"
            with raw.cursor().copy(
                "COPY valuation_roll_value (roll_id, khasra_id, value_rs, rate_id) FROM STDIN"
            ) as cp:
                for i in range(0, len(lines), 50_000):
                    cp.write("".join(prefix + line for line in lines[i : i + 50_000]))
            audit.append(conn, actor="landgov", action="publish valuation roll",
                         entity="valuation_roll", entity_id=str(roll_id),
                         details={"as_of": as_of.isoformat(), "method": method,
                                  "fingerprint": fp, "parcels": len(valued),
                                  "total_value_rs": total})  # fmt: skip
    except IntegrityError:
        # another run with the same inputs published first: that roll is this roll
        with engine.connect() as conn:
            again = _stored(conn, fp)
        if again is None:
            raise
        return again
    summary["seconds"]["total"] = round(time.perf_counter() - t0, 3)
    return Roll(roll_id, as_of, method, fp, len(valued), len(values) - len(valued), total,
                summary)  # fmt: skip


def current_roll(conn: Connection) -> Roll | None:
    """The roll readers see (the one published last), or None."""
    row = conn.execute(
        text("SELECT fingerprint FROM valuation_roll ORDER BY created_at DESC, id DESC LIMIT 1")
    ).scalar()
    if row is None:
        return None
    found = _stored(conn, str(row))
    return None if found is None else Roll(**{**found.__dict__, "reused": False})
