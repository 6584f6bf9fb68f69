"""The demo's files go through the real importers: the two sides agree on the formats,
and an imported register gets the same officer checks as the demo's own records."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pyogrio
from security_support import officer_actor, owner_engine, service_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.disputes.scan import scan
from landgov.io import import_mutations, import_parcels

# the records the files refer to but do not carry (parties, officers, khewats, mouzas)
REFERENCED = {
    "admin_unit": "SELECT * FROM admin_unit ORDER BY id",
    "mouza": "SELECT id, tehsil_id, patwar_circle_id, name, name_ur, hadbast_number,"
    " unit_system FROM mouza",
    "officer": "SELECT * FROM officer",
    "officer_jurisdiction": "SELECT * FROM officer_jurisdiction",
    "party": "SELECT * FROM party",
    "khewat": "SELECT * FROM khewat",
}


def test_demo_files_import_into_an_empty_database(
    demo_engine: Engine, demo_dir: Path, engine: Engine
) -> None:
    # the reference rows are seeded with the owner role (row-level security refuses the
    # application role's khewats without a bound officer)
    with demo_engine.connect() as src, owner_engine(engine).begin() as dst:
        for table, sql in REFERENCED.items():
            pd.read_sql_query(text(sql), src).to_sql(table, dst, if_exists="append", index=False)
        mouzas = dict(src.execute(text("SELECT name, id FROM mouza")).all())
        demo_mutations = src.execute(text("SELECT count(*) FROM mutation")).scalar_one()
        tehsildar = src.execute(
            text(
                "SELECT o.cnic FROM officer o JOIN officer_jurisdiction j ON j.officer_id = o.id"
                " JOIN admin_unit a ON a.id = j.admin_unit_id WHERE o.designation = 'tehsildar'"
                " AND a.name = 'Sheikhupura' AND j.valid_to IS NULL"
            )
        ).scalar_one()
    # the tehsildar posted over the three mouzas today imports them
    actor = officer_actor(engine, tehsildar)

    imported = 0
    for gpkg in sorted(demo_dir.glob("parcels_*.gpkg")):
        features = pyogrio.read_info(gpkg)["features"]
        name = next(n for n in mouzas if gpkg.stem.endswith(n.lower().replace(" ", "-")))
        report = import_parcels(engine, gpkg, mouza=name, actor=actor)
        assert report.counts["khasra"] == features
        imported += features
    assert len(list(demo_dir.glob("parcels_*.gpkg"))) == len(mouzas) == 3

    report = import_mutations(engine, demo_dir / "mutations.csv", actor=actor)
    assert report.counts["mutation"] == demo_mutations
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM khasra")).scalar_one() == imported

    # the imported register is checked like the demo's own records: its planted sanctions
    # by an officer of another tehsil are found, and no other decision fails the checks
    found = scan(engine, actor=service_actor(engine, "disputes")).found
    with (demo_dir / "ground_truth.csv").open(encoding="utf-8", newline="") as fh:
        planted = [r for r in csv.DictReader(fh) if r["kind"] == "officer_outside_jurisdiction"]
    assert found["officer_outside_jurisdiction"] == len(planted) > 0
    assert found["imported_decision_unchecked"] == 0
    assert found["backdated_action"] == 0  # imported history: no step taken here
