"""Loads a generated demo district into PostGIS: one transaction, COPY for every table.

The ids are the generator's (1, 2, ...), so the same seed gives the same rows in any
empty database; the id sequences are moved past them afterwards. One ``audit_log`` row
(action ``demo build``, details ``{seed, fingerprint}``) marks the database as holding
that seed's demo, which makes a second build a quick no-op. The demo only loads into a
database without land records: mixing it with other data would make both unreliable.

The load runs as the ``demo`` batch service (role ``svc_demo``, capability
``records.load_demo``): the transaction binds it first (:func:`landgov.security.bind`),
so the record tables' row-level security lets it write in every mouza and the audit
triggers and the marker row name it (``service:demo``). Loaded mutations carry no
``*_by_user``: they are history, not steps taken through the engine.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from landgov.errors import LandgovError
from landgov.progress import track
from landgov.security import Actor, authorize, bind
from landgov.storage.bulk import copy_rows

if TYPE_CHECKING:
    from landgov.demo.generate import Demo

AUDIT_ACTION = "demo build"
CAPABILITY = "records.load_demo"
"""What building the demo (records and accounts) needs: the ``svc_demo`` role."""
GENERATOR_VERSION = 3
"""Bumped when the same seed gives other rows (2: family relations, parents inherit;
3: sale prices from a land market, landgov.demo.market); a database holding an older
build is refused, not silently mixed with newer files."""
_LOCK_KEY = 0x1A4D_DE30  # serialises concurrent demo builds on one database
RECORD_TABLES = (
    "mouza",
    "khasra",
    "khewat",
    "party",
    "mutation",
    "officer",
    "state_land",
    "admin_unit",
    "jamabandi",
    "girdawari",
)


class DemoConflict(LandgovError):
    """The database holds data other than this seed's demo district."""


def demo_marker(conn: Connection, seed: int) -> dict[str, Any] | None:
    """The audit details of the build of ``seed`` in this database, if there was one."""
    rows = (
        conn.execute(
            text("SELECT details FROM audit_log WHERE action = :a ORDER BY id"), {"a": AUDIT_ACTION}
        )
        .scalars()
        .all()
    )
    for details in rows:
        if details.get("seed") == seed:
            return dict(details)
    return None


def check_current(marker: dict[str, Any], seed: int) -> None:
    """Refuses a demo built by an older generator: its rows differ from today's files.

    Raises:
        DemoConflict: the marker's generator version is not :data:`GENERATOR_VERSION`.
    """
    version = int(marker.get("generator", 1))
    if version != GENERATOR_VERSION:
        raise DemoConflict(
            f"the database holds the seed-{seed} demo built by an older landgov (generator "
            f"{version}, now {GENERATOR_VERSION}); its records differ from what this version "
            "generates, so nothing was changed. Load the demo into an empty database: "
            "`landgov db down`, remove $LANDGOV_HOME/pgdata and run `make demo` again, or "
            "point LANDGOV_DATABASE_URL at an empty database."
        )


def check_empty(conn: Connection, seed: int) -> None:
    seeds = sorted(
        {
            d.get("seed")
            for d in conn.execute(
                text("SELECT details FROM audit_log WHERE action = :a"), {"a": AUDIT_ACTION}
            )
            .scalars()
            .all()
        },
        key=str,
    )
    mouzas = conn.execute(text("SELECT count(*) FROM mouza")).scalar_one()
    if seeds:
        raise DemoConflict(
            f"the database already holds the demo district of seed {', '.join(map(str, seeds))}"
            f"; seed {seed} cannot be loaded beside it. Use an empty database "
            "(e.g. another LANDGOV_DATABASE_URL) or the same seed."
        )
    if mouzas:
        raise DemoConflict(
            f"the database already holds land records ({mouzas} mouza(s)) and no demo "
            "district; the demo loads only into an empty database, so nothing was changed. "
            "Use an empty database (e.g. another LANDGOV_DATABASE_URL)."
        )
    for table in RECORD_TABLES:
        if conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM {table})")).scalar_one():
            raise DemoConflict(
                f"the database already has rows in table '{table}'; the demo loads only "
                "into an empty database, so nothing was changed."
            )


def load(engine: Engine, demo: Demo, actor: Actor, progress: Any = None) -> bool:
    """Loads ``demo`` as ``actor`` unless this seed is already loaded; True when it loaded.

    Raises:
        AccessDenied: ``actor`` may not build the demo (rule ``role``).
        DemoConflict: the database holds other land records or another seed's demo.
    """
    seed = demo.world.seed
    with engine.begin() as conn:
        bind(conn, actor)
        authorize(conn, actor, CAPABILITY)
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        marker = demo_marker(conn, seed)
        if marker is not None:
            check_current(marker, seed)
            return False
        check_empty(conn, seed)
        for table in track(demo.tables, "Loading the demo district", progress):
            copy_rows(conn, table.name, table.columns, table.rows)
            if table.has_id:  # past the generator's ids (sql/020: forward only)
                conn.execute(text("SELECT landgov_advance_id_sequence(:t)"), {"t": table.name})
        conn.execute(
            text(
                "INSERT INTO audit_log (actor, action, entity, entity_id, details) "
                "VALUES (:actor, :action, 'demo', :entity_id, CAST(:details AS jsonb))"
            ),
            {
                "actor": actor.label,
                "action": AUDIT_ACTION,
                "entity_id": str(seed),
                "details": json.dumps(
                    {"seed": seed, "fingerprint": demo.fingerprint, "generator": GENERATOR_VERSION}
                ),
            },
        )
    return True


def database_counts(engine: Engine) -> dict[str, int]:
    """Counts of the main tables, for the report of a build that found the demo loaded."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM mouza), (SELECT count(*) FROM khasra),"
                " (SELECT count(*) FROM khasra WHERE retired_on IS NULL),"
                " (SELECT count(*) FROM khewat), (SELECT count(*) FROM party),"
                " (SELECT count(*) FROM officer), (SELECT count(*) FROM mutation),"
                " (SELECT count(*) FROM mutation_line), (SELECT count(*) FROM share),"
                " (SELECT count(*) FROM girdawari),"
                " (SELECT min(extract(year FROM entered_on))::int FROM mutation),"
                " (SELECT max(extract(year FROM entered_on))::int FROM mutation)"
            )
        ).one()
    keys = (
        "mouzas",
        "khasras",
        "live_khasras",
        "khewats",
        "parties",
        "officers",
        "mutations",
        "mutation_lines",
        "shares",
        "girdawari",
        "first_year",
        "last_year",
    )
    return {k: int(v or 0) for k, v in zip(keys, row, strict=True)}
