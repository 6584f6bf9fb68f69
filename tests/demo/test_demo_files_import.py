"""The demo's files go through the real importers: the two sides agree on the formats."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyogrio
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.io import import_mutations, import_parcels

# the records the files refer to but do not carry (parties, officers, khewats, mouzas)
REFERENCED = {
    "admin_unit": "SELECT * FROM admin_unit ORDER BY id",
    "mouza": "SELECT id, tehsil_id, patwar_circle_id, name, name_ur, hadbast_number,"
    " unit_system FROM mouza",
    "officer": "SELECT * FROM officer",
    "party": "SELECT * FROM party",
    "khewat": "SELECT * FROM khewat",
}


def test_demo_files_import_into_an_empty_database(
    demo_engine: Engine, demo_dir: Path, engine: Engine
) -> None:
    with demo_engine.connect() as src, engine.begin() as dst:
        for table, sql in REFERENCED.items():
            pd.read_sql_query(text(sql), src).to_sql(table, dst, if_exists="append", index=False)
        mouzas = dict(src.execute(text("SELECT name, id FROM mouza")).all())
        demo_mutations = src.execute(text("SELECT count(*) FROM mutation")).scalar_one()

    imported = 0
    for gpkg in sorted(demo_dir.glob("parcels_*.gpkg")):
        features = pyogrio.read_info(gpkg)["features"]
        name = next(n for n in mouzas if gpkg.stem.endswith(n.lower().replace(" ", "-")))
        report = import_parcels(engine, gpkg, mouza=name)
        assert report.counts["khasra"] == features
        imported += features
    assert len(list(demo_dir.glob("parcels_*.gpkg"))) == len(mouzas) == 3

    report = import_mutations(engine, demo_dir / "mutations.csv")
    assert report.counts["mutation"] == demo_mutations
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM khasra")).scalar_one() == imported
