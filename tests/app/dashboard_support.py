"""Helpers shared by the dashboard tests (tests/app is on sys.path under pytest).

Records are seeded with the database owner's engine (the application role may write
record tables only for a bound actor, row-level security), and every page is reached the
way a person reaches it: through the sign-in form, with a real account's password and a
TOTP code of a step not used before (:func:`next_code`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import shapely
from browser_support import fresh_totp_code
from security_support import PASSWORD, owner_engine, staff_actor, totp_secret
from sqlalchemy import text
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from landgov.domain import UnitSystem, area_m2, m2_to_sarsai
from landgov.security import Actor

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "app" / "dashboard.py"


def database_url(engine: Engine) -> str:
    """The full URL of ``engine``'s database, password included, for LANDGOV_DATABASE_URL."""
    return engine.url.render_as_string(hide_password=False)


owner = owner_engine
"""The owner role's engine of ``engine``'s database (seeding, as a migration would)."""


def next_code(engine: Engine, username: str, secret: str | None = None) -> str:
    """A TOTP code of ``username`` (secret ``secret``, default the one security_support
    made) that the server accepts now and that was not used: the first step after the
    last one used that lies in the server's window (now ± 1 step), waiting for the clock
    when every such step is spent (a code works once)."""
    secret = secret or totp_secret(engine, username)
    assert secret is not None, f"{username}: make the account with security_support first"
    return fresh_totp_code(owner(engine), username, secret)


def fill_sign_in(at: AppTest, username: str, password: str, code: str) -> AppTest:
    """Types into the sign-in form and submits it."""
    at.text_input(key="signin_username").input(username)
    at.text_input(key="signin_password").input(password)
    at.text_input(key="signin_code").input(code)
    at.button(key="signin_submit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def sign_in(engine: Engine, actor: Actor, *, timeout: float = 60) -> AppTest:
    """A new browser session of the dashboard, signed in as ``actor``'s account (made by
    security_support, so its password is :data:`security_support.PASSWORD`)."""
    at = AppTest.from_file(str(DASHBOARD), default_timeout=timeout).run()
    assert not at.exception, [e.value for e in at.exception]
    at = fill_sign_in(at, actor.username, PASSWORD, next_code(engine, actor.username))
    assert not at.error, [e.value for e in at.error]
    return at


def staff_app(
    engine: Engine, point_app_at: Callable[[str], None], role: str
) -> tuple[Actor, AppTest]:
    """The dashboard pointed at ``engine``'s database, signed in as a new account holding
    the staff ``role``: the account and the signed-in app session."""
    actor = staff_actor(engine, role)
    point_app_at(database_url(engine))
    return actor, sign_in(engine, actor)


@dataclass(frozen=True)
class Login:
    """What a person types to sign in: from the demo's accounts file."""

    username: str
    password: str
    totp_secret: str | None

    def code(self, engine: Engine) -> str:
        """A fresh code (any text when the account has no TOTP secret)."""
        if self.totp_secret is None:
            return ""
        return next_code(engine, self.username, self.totp_secret)


def browser_sign_in(page: Page, engine: Engine, login: Login) -> None:
    """Signs ``login`` in through the dashboard's form in a browser page, with a fresh
    code of its account (:func:`browser_support.sign_in`)."""
    from browser_support import sign_in as sign_in_page

    sign_in_page(page, login.username, login.password, login.code(engine))


def demo_login(engine: Engine, demo_dir: Path, role: str, unit: str | None = None) -> Login:
    """The demo account (``<demo_dir>/accounts.json``, written by ``landgov demo``) of a
    staff ``role``, or of the first officer of designation ``role`` posted today over the
    admin unit named ``unit``."""
    from landgov.demo.accounts import read_accounts

    accounts = read_accounts(demo_dir)
    assert accounts, f"no demo accounts file in {demo_dir}"
    if unit is None:
        (account,) = [a for a in accounts.values() if a.roles == (role,) and a.username
                      in ("admin", "analyst", "auditor")]  # fmt: skip
    else:
        with owner(engine).connect() as conn:
            username = conn.execute(
                text(
                    "SELECT u.username FROM app_user u JOIN officer o ON o.id = u.officer_id"
                    " JOIN officer_jurisdiction j ON j.officer_id = o.id"
                    " JOIN admin_unit a ON a.id = j.admin_unit_id"
                    " WHERE o.designation = :d AND a.name = :unit"
                    " AND j.valid_from <= current_date"
                    " AND (j.valid_to IS NULL OR j.valid_to > current_date)"
                    " ORDER BY o.id LIMIT 1"
                ),
                {"d": role, "unit": unit},
            ).scalar_one()
        account = accounts[username]
    return Login(account.username, account.password, account.totp_secret)


def sign_in_demo(engine: Engine, login: Login, *, timeout: float = 90) -> AppTest:
    """A new browser session of the dashboard on a demo database, signed in as ``login``."""
    at = AppTest.from_file(str(DASHBOARD), default_timeout=timeout).run()
    assert not at.exception, [e.value for e in at.exception]
    at = fill_sign_in(at, login.username, login.password, login.code(engine))
    assert not at.error, [e.value for e in at.error]
    return at


@dataclass(frozen=True)
class TinyMouza:
    mouza_id: int
    label: str
    khasras: dict[str, int]  # number -> record area in sarsai
    geom_m2: dict[str, float]
    khewat_number: int
    cnics: tuple[str, str]
    masked: tuple[str, str]


def _square(lon: float, lat: float, size: float = 0.0006) -> shapely.MultiPolygon:
    return shapely.MultiPolygon([shapely.box(lon, lat, lon + size, lat + size)])


def insert_tiny_mouza(engine: Engine) -> TinyMouza:
    """One mouza, 3 khasras, khewat 5 holding two of them, owned 1/3 and 2/3."""
    geoms = {
        "11": _square(74.3000, 31.5000),
        "12": _square(74.3006, 31.5000),
        "45//12/1": _square(74.3000, 31.5006, 0.0004),
    }
    areas = {no: area_m2(g) for no, g in geoms.items()}
    # the register area: the map area to the nearest sarsai, plus a little for realism
    record = {no: m2_to_sarsai(a, UnitSystem.STANDARD) + 3 for no, a in areas.items()}
    parts = {"11": (None, 11, "{}"), "12": (None, 12, "{}"), "45//12/1": (45, 12, "{1}")}
    land = {"11": "nehri", "12": "chahi", "45//12/1": "abadi"}
    cnics = ("35202-1234567-1", "35202-7654321-2")
    with owner(engine).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO admin_unit (id, level, name) VALUES (1, 'province', 'Punjab');"
                "INSERT INTO admin_unit (id, level, name, parent_id) VALUES"
                " (2, 'district', 'Lahore', 1), (3, 'tehsil', 'Raiwind', 2);"
                "INSERT INTO mouza (id, tehsil_id, name, hadbast_number)"
                " VALUES (1, 3, 'Kot Test', 7);"
                "INSERT INTO khewat (id, mouza_id, number) VALUES (1, 1, 5);"
            )
        )
        for kid, (no, geom) in enumerate(geoms.items(), start=1):
            murabba, main, tatima = parts[no]
            conn.execute(
                text(
                    "INSERT INTO khasra (id, mouza_id, number, murabba, main_number, tatima,"
                    " land_class, record_area_sarsai, unit_system, geom_area_m2, geom, source)"
                    " VALUES (:id, 1, :no, :murabba, :main, CAST(:tatima AS integer[]), :lc,"
                    " :rec, 'standard', :m2, ST_GeomFromText(:wkt, 4326), 'test')"
                ),
                {
                    "id": kid,
                    "no": no,
                    "murabba": murabba,
                    "main": main,
                    "tatima": tatima,
                    "lc": land[no],
                    "rec": record[no],
                    "m2": areas[no],
                    "wkt": geom.wkt,
                },
            )
        conn.execute(
            text(
                "INSERT INTO khewat_khasra (khewat_id, khasra_id, mouza_id, area_sarsai,"
                " valid_from) VALUES (1, 1, 1, :a1, '2020-01-01'), (1, 2, 1, :a2, '2020-01-01')"
            ),
            {"a1": record["11"], "a2": record["12"]},
        )
        conn.execute(
            text(
                "INSERT INTO party (id, kind, cnic, name, guardian_relation, guardian_name,"
                " gender) VALUES"
                " (1, 'person', :c1, 'Ahmad Khan', 'son_of', 'Bashir Khan', 'male'),"
                " (2, 'person', :c2, 'Fatima Bibi', 'daughter_of', 'Bashir Khan', 'female')"
            ),
            {"c1": cnics[0], "c2": cnics[1]},
        )
        conn.execute(
            text(
                "INSERT INTO share (khewat_id, party_id, numerator, denominator, valid_from)"
                " VALUES (1, 1, 1, 3, '2020-01-01'), (1, 2, 2, 3, '2020-01-01')"
            )
        )
    return TinyMouza(
        mouza_id=1,
        label="Kot Test (hadbast 7, Raiwind)",
        khasras=record,
        geom_m2=areas,
        khewat_number=5,
        cnics=cnics,
        masked=("35202-*******-1", "35202-*******-2"),
    )


@dataclass(frozen=True)
class TinyHistory:
    """The tiny mouza with officers and four mutations on khewat 5 (see insert_tiny_history)."""

    mouza: TinyMouza
    buyer_cnic: str
    officers: dict[str, str]  # designation -> CNIC
    officer_names: dict[str, str]  # designation -> name


def insert_tiny_history(engine: Engine) -> TinyHistory:
    """The tiny mouza, three officers of its tehsil, and a history of khewat 5.

    - settlement (2020-01-01): Ahmad Khan 1/3, Fatima Bibi 2/3 of khewat 5 (khasras 11, 12);
    - mutation 1, sale, sanctioned 2021-03-01: Ahmad Khan -> Bilal Ahmad 1/6
      (so Ahmad 1/6, Fatima 2/3, Bilal 1/6 from then);
    - mutation 2, gift, rejected 2022-02-01: Fatima Bibi -> Bilal Ahmad 1/3;
    - mutation 3, partition, sanctioned 2023-05-01: khasra 12 is cut into 12/1 (to the
      new khewat 6, Fatima Bibi 1/1) and 12/2 (stays in khewat 5);
    - mutation 4, sale, entered 2024-06-01 and pending: Ahmad Khan -> Bilal Ahmad 1/12.
    """
    mouza = insert_tiny_mouza(engine)
    buyer = "35202-1111111-3"
    officers = {
        "tehsildar": ("Tariq Mehmood", "35202-5555555-5"),
        "girdawar": ("Nasir Ali", "35202-6666666-7"),
        "patwari": ("Shafqat Hussain", "35202-7777777-9"),
    }
    with owner(engine).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO party (id, kind, cnic, name, guardian_relation, guardian_name,"
                " gender) VALUES (3, 'person', :c, 'Bilal Ahmad', 'son_of', 'Rashid Ahmad',"
                " 'male')"
            ),
            {"c": buyer},
        )
        for oid, (designation, (name, cnic)) in enumerate(officers.items(), start=1):
            conn.execute(
                text("INSERT INTO officer (id, name, designation, cnic) VALUES (:i, :n, :d, :c)"),
                {"i": oid, "n": name, "d": designation, "c": cnic},
            )
            conn.execute(
                text(
                    "INSERT INTO officer_jurisdiction (officer_id, admin_unit_id, valid_from)"
                    " VALUES (:i, 3, '2000-01-01')"
                ),
                {"i": oid},
            )
        conn.execute(
            text(
                "INSERT INTO mutation (id, mouza_id, number, type, status, entered_on,"
                " verified_on, decided_on, rejection_reason, officer_id, deed_number,"
                " deed_date, consideration_rs, remarks) VALUES"
                " (1, 1, 1, 'sale', 'sanctioned', '2021-02-01', '2021-02-05', '2021-03-01',"
                "  NULL, 1, 'D-101', '2021-01-28', 1500000, NULL),"
                " (2, 1, 2, 'gift', 'rejected', '2022-01-10', NULL, '2022-02-01',"
                "  'Donor did not appear', 1, NULL, NULL, NULL, NULL),"
                " (3, 1, 3, 'partition', 'sanctioned', '2023-04-01', '2023-04-03', '2023-05-01',"
                "  NULL, 1, NULL, NULL, NULL, 'Taqseem of khasra 12'),"
                " (4, 1, 4, 'sale', 'entered', '2024-06-01', NULL, NULL,"
                "  NULL, NULL, 'D-404', '2024-05-30', 300000, NULL);"
                "SELECT setval('mutation_id_seq', 4);"
                "INSERT INTO khewat (id, mouza_id, number) VALUES (2, 1, 6);"
                "SELECT setval('khewat_id_seq', 2);"
                "INSERT INTO mutation_line (mutation_id, line_no, khewat_id,"
                " transferor_party_id, transferee_party_id, numerator, denominator) VALUES"
                " (1, 1, 1, 1, 3, 1, 6), (2, 1, 1, 2, 3, 1, 3), (3, 1, 2, NULL, 2, 1, 1),"
                " (4, 1, 1, 1, 3, 1, 12);"
                # mutation 1: Ahmad 1/3 -> 1/6, Bilal 1/6
                "UPDATE share SET valid_to = '2021-03-01', ended_by_mutation_id = 1"
                " WHERE khewat_id = 1 AND party_id = 1;"
                "INSERT INTO share (khewat_id, party_id, numerator, denominator, valid_from,"
                " created_by_mutation_id) VALUES (1, 1, 1, 6, '2021-03-01', 1),"
                " (1, 3, 1, 6, '2021-03-01', 1), (2, 2, 1, 1, '2023-05-01', 3);"
            )
        )
        # mutation 3: khasra 12 (id 2) retired, cut into 12/1 (khewat 6) and 12/2 (khewat 5)
        parent = conn.execute(
            text("SELECT record_area_sarsai, geom_area_m2 FROM khasra WHERE id = 2")
        ).one()
        half = parent.record_area_sarsai // 2
        conn.execute(
            text(
                "UPDATE khasra SET retired_on = '2023-05-01', retired_by_mutation_id = 3"
                " WHERE id = 2;"
                "UPDATE khewat_khasra SET valid_to = '2023-05-01'"
                " WHERE khewat_id = 1 AND khasra_id = 2;"
                "SELECT setval('khasra_id_seq', 5);"
            )
        )
        conn.execute(
            text(
                "INSERT INTO khasra (id, mouza_id, number, main_number, tatima,"
                " parent_khasra_id, land_class, record_area_sarsai, unit_system, geom_area_m2,"
                " geom, source, created_on, created_by_mutation_id) VALUES"
                " (4, 1, '12/1', 12, '{1}', 2, 'chahi', :a1, 'standard', :m2 / 2,"
                "  ST_Multi(ST_Intersection((SELECT geom FROM khasra WHERE id = 2),"
                "  ST_MakeEnvelope(0, 0, 74.3009, 90, 4326))),"
                "  'test', '2023-05-01', 3),"
                " (5, 1, '12/2', 12, '{2}', 2, 'chahi', :a2, 'standard', :m2 / 2,"
                "  ST_Multi(ST_Intersection((SELECT geom FROM khasra WHERE id = 2),"
                "  ST_MakeEnvelope(74.3009, 0, 180, 90, 4326))),"
                "  'test', '2023-05-01', 3)"
            ),
            {
                "a1": half,
                "a2": parent.record_area_sarsai - half,
                "m2": parent.geom_area_m2,
            },
        )
        conn.execute(
            text(
                "INSERT INTO khewat_khasra (khewat_id, khasra_id, mouza_id, area_sarsai,"
                " valid_from) VALUES (2, 4, 1, :a1, '2023-05-01'), (1, 5, 1, :a2, '2023-05-01')"
            ),
            {"a1": half, "a2": parent.record_area_sarsai - half},
        )
        conn.execute(text("SELECT setval('party_id_seq', 3); SELECT setval('officer_id_seq', 3)"))
    return TinyHistory(
        mouza=mouza,
        buyer_cnic=buyer,
        officers={d: c for d, (_, c) in officers.items()},
        officer_names={d: n for d, (n, _) in officers.items()},
    )


def open_shares(engine: Engine, khewat_no: int) -> dict[str, Fraction]:
    """Each party's open ownership share of a khewat of the tiny mouza, by name."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT p.name, s.numerator, s.denominator FROM share s"
                " JOIN khewat w ON w.id = s.khewat_id JOIN party p ON p.id = s.party_id"
                " WHERE w.number = :n AND s.valid_to IS NULL AND s.right_type = 'ownership'"
            ),
            {"n": khewat_no},
        ).all()
    held: dict[str, Fraction] = {}
    for name, num, den in rows:
        held[name] = held.get(name, Fraction(0)) + Fraction(num, den)
    return held
