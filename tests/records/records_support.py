"""A small hand-made mouza for the mutation engine's tests, written with plain SQL.

Hierarchy: Punjab > Lahore > Sheikhupura district > Sheikhupura tehsil (and Muridke
tehsil, for an officer outside) > halqa Kot Rehmat > patwar circle Kot A. Mouza "Kot A"
(hadbast 17) in that circle. Settlement on 2002-01-01.

Khewats (each holding its own khasra, a ~100 m x 60 m rectangle; khewat 5 holds two):

====  ====================================  ===================================
 no   owners (ownership)                    khasra(s)
====  ====================================  ===================================
 1    ALI 1/2, BILAL 1/4, CHAND 1/4          1
 2    DEAD 1/1 (died 2020-06-01)             2
 3    ALI 1/1                                3
 4    ESA 1/2, FARAH 1/2                     4
 5    ESA 2/3, FARAH 1/3                     5, 6
====  ====================================  ===================================

The records are written with the owner's engine (the application role, which the tests'
``engine`` connects as, may write record tables only for a bound actor in its
jurisdiction). Officers act through real accounts and sessions
(:func:`officer`, ``security_support.officer_actor``): password and TOTP. The world's
office allows back-dating to before the settlement (``backdate_window_days`` set wide by
:func:`build`), so the engine's historical dates stay valid; the tests of the window set
it back with :func:`set_window` and use dates around the database's today.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

import shapely
from security_support import officer_actor, owner_engine, superuser_engine
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.domain import areas_m2
from landgov.records import mutations as mut
from landgov.security import Actor

SETTLED = date(2002, 1, 1)
MOUZA = "Kot A"

ALI, BILAL, CHAND, DEAD = "35401-1000001-1", "35401-1000002-1", "35401-1000003-1", "35401-1000004-1"
ESA, FARAH, GUL, HINA = "35401-1000005-1", "35401-1000006-2", "35401-1000007-1", "35401-1000008-2"
WIFE, SON, DAUGHTER = "35401-1000009-2", "35401-1000010-1", "35401-1000011-2"
PERSONS = {
    ALI: ("Ali", "male", None),
    BILAL: ("Bilal", "male", None),
    CHAND: ("Chand", "male", None),
    DEAD: ("Dilawar", "male", date(2020, 6, 1)),
    ESA: ("Esa", "male", None),
    FARAH: ("Farah", "female", None),
    GUL: ("Gul", "male", None),
    HINA: ("Hina", "female", None),
    WIFE: ("Wazira", "female", None),
    SON: ("Sultan", "male", None),
    DAUGHTER: ("Dua", "female", None),
}

TEHSILDAR = "35202-2000001-1"  # tehsildar of Sheikhupura tehsil from 2000
NAIB = "35202-2000002-1"  # naib tehsildar of Sheikhupura tehsil from 2000
OUTSIDER = "35202-2000003-1"  # tehsildar of Muridke tehsil
FORMER = "35202-2000004-1"  # tehsildar of Sheikhupura, posted 2000-2010 only
AC = "35202-2000005-1"  # assistant commissioner posted to the district
GIRDAWAR = "35202-2000006-1"  # girdawar of the halqa
PATWARI = "35202-2000007-1"  # patwari of the circle

OFFICERS = {
    TEHSILDAR: ("Tariq", "tehsildar", 4, date(2000, 1, 1), None),
    NAIB: ("Nasir", "naib_tehsildar", 4, date(2000, 1, 1), None),
    OUTSIDER: ("Omar", "tehsildar", 5, date(2000, 1, 1), None),
    FORMER: ("Fazal", "tehsildar", 4, date(2000, 1, 1), date(2010, 1, 1)),
    AC: ("Amna", "assistant_commissioner", 3, date(2000, 1, 1), None),
    GIRDAWAR: ("Ghulam", "girdawar", 6, date(2000, 1, 1), None),
    PATWARI: ("Pervaiz", "patwari", 7, date(2000, 1, 1), None),
}

KHEWATS: dict[int, dict[str, Fraction]] = {
    1: {ALI: Fraction(1, 2), BILAL: Fraction(1, 4), CHAND: Fraction(1, 4)},
    2: {DEAD: Fraction(1)},
    3: {ALI: Fraction(1)},
    4: {ESA: Fraction(1, 2), FARAH: Fraction(1, 2)},
    5: {ESA: Fraction(2, 3), FARAH: Fraction(1, 3)},
}
KHASRAS = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 5}  # khasra number -> khewat number
RECORD_SARSAI = 1441  # odd, so a split in halves must round
WIDE_WINDOW_DAYS = 20_000  # back to the 1970s: the tests' historical dates stay valid


def rectangle(i: int) -> Any:
    """Khasra ``i``: a 0.001° x 0.0006° rectangle (about 95 m x 67 m) near Sheikhupura."""
    x0, y0 = 73.98 + 0.0012 * i, 31.71
    return shapely.MultiPolygon([shapely.box(x0, y0, x0 + 0.001, y0 + 0.0006)])


def point_cli_at(engine: Engine, monkeypatch: Any, folder: Any) -> None:
    """Points the ``landgov`` command at ``engine``'s database: the application's URL,
    and the owner's and superuser's (so that :func:`owner_engine` and the account helpers
    still reach those roles once ``LANDGOV_DATABASE_URL`` is set), the session file
    (nobody signed in yet) and the audit checkpoints in ``folder``."""
    from landgov.storage import engine as engine_module

    urls = {
        "LANDGOV_OWNER_DATABASE_URL": owner_engine(engine),
        "LANDGOV_ADMIN_DATABASE_URL": superuser_engine(engine),
        "LANDGOV_DATABASE_URL": engine,
    }
    for name, eng in urls.items():
        monkeypatch.setenv(name, eng.url.render_as_string(hide_password=False))
    monkeypatch.setenv("LANDGOV_SESSION_FILE", str(folder / "session.json"))
    monkeypatch.setenv("LANDGOV_AUDIT_CHECKPOINTS", str(folder / "checkpoints.jsonl"))
    monkeypatch.setenv("LANDGOV_AUDIT_KEY", str(folder / "keys" / "audit-signing.key"))
    engine_module._engine_for.cache_clear()


def sign_in(engine: Engine, cnic: str) -> Actor:
    """``landgov login`` as the officer with ``cnic``: writes the session file the CLI
    reads (``LANDGOV_SESSION_FILE``, :func:`point_cli_at`)."""
    from landgov.cli._shell import save_session

    actor = officer(engine, cnic)
    save_session(actor.token, actor.username)
    return actor


@dataclass
class World:
    engine: Engine
    party: dict[str, int]
    khewat: dict[int, int]
    khasra: dict[int, int]
    officer: dict[str, int]
    mouza_id: int


def build(engine: Engine, *, khewats: dict[int, dict[str, Fraction]] | None = None) -> World:
    """Writes the hand-made mouza (or the given khewats, each with one khasra) with the
    owner's engine, and widens the back-dating window (module notes)."""
    khewats = KHEWATS if khewats is None else khewats
    khasras = KHASRAS if khewats is KHEWATS else {n: n for n in khewats}
    set_window(engine, WIDE_WINDOW_DAYS)
    with owner_engine(engine).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO admin_unit (id, level, name) VALUES (1, 'province', 'Punjab');"
                "INSERT INTO admin_unit (id, level, name, parent_id) VALUES"
                " (2, 'division', 'Lahore', 1), (3, 'district', 'Sheikhupura', 2),"
                " (4, 'tehsil', 'Sheikhupura', 3), (5, 'tehsil', 'Muridke', 3),"
                " (6, 'qanungo_halqa', 'Kot Rehmat', 4), (7, 'patwar_circle', 'Kot A', 6);"
                "SELECT setval('admin_unit_id_seq', 7);"
                "INSERT INTO mouza (id, tehsil_id, patwar_circle_id, name, hadbast_number)"
                " VALUES (1, 4, 7, 'Kot A', 17);"
                "INSERT INTO party (kind, custodian, name)"
                " VALUES ('state', 'board_of_revenue', 'Board of Revenue, Punjab');"
            )
        )
        for cnic, (name, gender, died) in PERSONS.items():
            conn.execute(
                text(
                    "INSERT INTO party (kind, cnic, name, gender, date_of_death)"
                    " VALUES ('person', :c, :n, :g, :d)"
                ),
                {"c": cnic, "n": name, "g": gender, "d": died},
            )
        for cnic, (name, designation, unit, start, end) in OFFICERS.items():
            oid = conn.execute(
                text(
                    "INSERT INTO officer (name, designation, cnic) VALUES (:n, :d, :c) RETURNING id"
                ),
                {"n": name, "d": designation, "c": cnic},
            ).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO officer_jurisdiction (officer_id, admin_unit_id, valid_from,"
                    " valid_to) VALUES (:o, :u, :f, :t)"
                ),
                {"o": oid, "u": unit, "f": start, "t": end},
            )
        for number in khewats:
            conn.execute(
                text("INSERT INTO khewat (mouza_id, number) VALUES (1, :n)"), {"n": number}
            )
        world = _ids(engine, conn)
        geoms = [rectangle(i) for i in khasras]
        for (number, khewat_no), geom, m2 in zip(
            khasras.items(), geoms, areas_m2(geoms), strict=True
        ):
            kid = conn.execute(
                text(
                    "INSERT INTO khasra (mouza_id, number, main_number, land_class,"
                    " record_area_sarsai, unit_system, geom_area_m2, geom, source, created_on)"
                    " VALUES (1, :n, :n, 'nehri', :a, 'standard', :m2,"
                    " ST_GeomFromText(:wkt, 4326), 'test', :on) RETURNING id"
                ),
                {"n": number, "a": RECORD_SARSAI, "m2": float(m2), "wkt": geom.wkt, "on": SETTLED},
            ).scalar_one()
            world.khasra[number] = int(kid)
            conn.execute(
                text(
                    "INSERT INTO khewat_khasra (khewat_id, khasra_id, mouza_id, area_sarsai,"
                    " valid_from) VALUES (:w, :k, 1, :a, :on)"
                ),
                {"w": world.khewat[khewat_no], "k": kid, "a": RECORD_SARSAI, "on": SETTLED},
            )
        for number, owners in khewats.items():
            for cnic, share in owners.items():
                conn.execute(
                    text(
                        "INSERT INTO share (khewat_id, party_id, numerator, denominator,"
                        " valid_from) VALUES (:w, :p, :n, :d, :on)"
                    ),
                    {
                        "w": world.khewat[number],
                        "p": world.party[cnic],
                        "n": share.numerator,
                        "d": share.denominator,
                        "on": SETTLED,
                    },
                )
    return world


def _ids(engine: Engine, conn: Any) -> World:
    party = {str(c): int(i) for i, c in conn.execute(text("SELECT id, cnic FROM party"))}
    officer = {str(c): int(i) for i, c in conn.execute(text("SELECT id, cnic FROM officer"))}
    khewat = {int(n): int(i) for i, n in conn.execute(text("SELECT id, number FROM khewat"))}
    return World(engine, party, khewat, {}, officer, 1)


def set_window(engine: Engine, days: int) -> None:
    """Sets ``security_setting.backdate_window_days`` (as an administrator would)."""
    with owner_engine(engine).begin() as conn:
        conn.execute(
            text("UPDATE security_setting SET value = :d WHERE name = 'backdate_window_days'"),
            {"d": days},
        )


def db_today(engine: Engine) -> date:
    """The database's date, the one the date rules judge by."""
    with engine.connect() as conn:
        return conn.execute(text("SELECT current_date")).scalar_one()  # type: ignore[no-any-return]


def officer(engine: Engine, cnic: str) -> Actor:
    """The signed-in account of the officer with ``cnic`` (made on first use)."""
    return officer_actor(engine, cnic)


SALE_PRICE = 1_200_000
"""The declared price :func:`draft` gives a sale unless told (entry refuses a sale with
none); this world has no DC rates, so no sale of it is judged under-declared."""
_deed_serial = itertools.count(1)


def draft(
    mtype: str,
    lines: list[tuple[int, str | None, str | None, Fraction | str]],
    *,
    entered: date = date(2024, 1, 10),
    deed: date | None = None,
    right: str = "ownership",
    **kwargs: Any,
) -> mut.MutationDraft:
    """A draft in mouza Kot A; lines are (khewat no, from, to, share). A sale gets
    :data:`SALE_PRICE` unless ``consideration_rs`` is given; each deed its own number (a
    registered deed is entered once)."""
    if str(mtype) == "sale":
        kwargs.setdefault("consideration_rs", SALE_PRICE)
    return mut.MutationDraft(
        mouza=MOUZA,
        type=mtype,
        entered_on=entered,
        lines=[mut.DraftLine(k, a, b, Fraction(s), right) for k, a, b, s in lines],
        deed_number=None if deed is None else f"SKP-{deed.year}-{next(_deed_serial):05d}",
        deed_date=deed,
        **kwargs,
    )


def entered_and_verified(
    engine: Engine, d: mut.MutationDraft, *, verified: date | None = None
) -> int:
    """The patwari enters ``d`` and the girdawar verifies it (default: on the 12th)."""
    mid = mut.enter(engine, d, actor=officer(engine, PATWARI))
    mut.verify(
        engine,
        mid,
        actor=officer(engine, GIRDAWAR),
        on=verified or d.entered_on.replace(day=12),
    )
    return mid


def open_shares(engine: Engine, khewat_id: int) -> dict[tuple[int, str], Fraction]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT party_id, right_type, numerator, denominator FROM share"
                " WHERE khewat_id = :k AND valid_to IS NULL"
            ),
            {"k": khewat_id},
        ).all()
    out: dict[tuple[int, str], Fraction] = {}
    for pid, right, n, d in rows:
        out[(int(pid), str(right))] = out.get((int(pid), str(right)), Fraction(0)) + Fraction(n, d)
    return out


SNAPSHOT_TABLES = (
    "mutation",
    "mutation_line",
    "mutation_flag",
    "share",
    "khewat",
    "khasra",
    "khewat_khasra",
    "party",
    "mutation_price_acknowledgement",
    "audit_log",
)


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables a mutation can change, for "nothing written" checks."""
    out = {}
    with engine.connect() as conn:
        for table in SNAPSHOT_TABLES:
            cols = "*" if table != "khasra" else "id, number, retired_on, retired_by_mutation_id"
            out[table] = [
                tuple(r) for r in conn.execute(text(f"SELECT {cols} FROM {table} ORDER BY 1"))
            ]
    return out
