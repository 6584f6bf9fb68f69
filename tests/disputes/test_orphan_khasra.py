"""orphan_khasra means an orphan (issue 16): khasras imported without a khewat are
unassigned, not orphans; a khasra imported with its khewat_no is held by that khewat; a
khasra whose holding is lost (ended with no successor, deleted) is flagged, whether it
was held since the settlement or attached after an unassigned import. The demo's planted
orphans (never in any khewat) stay flagged."""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely
from case_support import officer, posted
from security_support import owner_engine, service_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.disputes.scan import scan
from landgov.io import import_parcels
from landgov.security import Actor
from landgov.storage.read import khewat_khasra_parts

NEW = ("9001", "9002", "9003")  # khasra numbers the demo does not use


def _planted(demo_dir: Path) -> dict[str, set[str]]:
    """Mouza name -> the khasra numbers of its planted orphans (ground_truth.csv)."""
    out: dict[str, set[str]] = {}
    with (demo_dir / "ground_truth.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["kind"] == "orphan_khasra":
                out.setdefault(row["mouza"], set()).add(row["khasra_no"])
    return out


def _setting(engine: Engine, demo_dir: Path) -> tuple[str, int, set[str], Actor]:
    """A mouza with planted orphans: its name, id, the planted numbers, and the tehsildar
    posted over it today (who may import into it)."""
    name, planted = sorted(_planted(demo_dir).items())[0]
    with engine.connect() as conn:
        mouza_id = conn.execute(
            text("SELECT id FROM mouza WHERE name = :n"), {"n": name}
        ).scalar_one()
        taken = conn.execute(
            text("SELECT count(*) FROM khasra WHERE mouza_id = :m AND number = ANY(:n)"),
            {"m": mouza_id, "n": list(NEW)},
        ).scalar_one()
    assert taken == 0 and planted
    return (
        name,
        mouza_id,
        planted,
        officer(engine, demo_dir, posted(engine, "tehsildar", "Sheikhupura")),
    )


def _parcels(path: Path, rows: list[dict[str, object]]) -> Path:
    """Parcels of 40 m x 30 m in a row, far from the demo district's (no other rule's
    business), in EPSG:4326."""
    geoms = [
        shapely.box(74.5 + i * 0.0005, 31.0, 74.5004 + i * 0.0005, 31.0003)
        for i in range(len(rows))
    ]
    gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs=4326)
    pyogrio.write_dataframe(gdf, path, layer="parcels", driver="GPKG")
    return path


def _orphans(engine: Engine, mouza_id: int) -> dict[str, dict[str, object]]:
    """The scan's orphan_khasra flags of the mouza: khasra number -> evidence."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT k.number, f.evidence FROM dispute_flag f"
                " JOIN khasra k ON k.id = f.khasra_id"
                " WHERE f.rule_id = 'orphan_khasra' AND f.mouza_id = :m"
            ),
            {"m": mouza_id},
        ).all()
    return {r.number: r.evidence for r in rows}


def _scan(engine: Engine, mouza: str) -> None:
    scan(engine, actor=service_actor(engine, "disputes"), mouza=mouza)


def test_khasras_imported_without_khewat_no_are_not_orphans(
    demo_copy: Engine, demo_dir: Path, tmp_path: Path
) -> None:
    """A map-only file (no khewat_no column): its khasras are unassigned and the scan
    flags none of them, while the planted orphans of the same mouza are still found."""
    name, mouza_id, planted, tehsildar = _setting(demo_copy, demo_dir)
    with demo_copy.connect() as conn:  # the demo loads its khasras with their holdings
        unassigned = "SELECT count(*) FROM khasra WHERE unassigned_since IS NOT NULL"
        assert conn.execute(text(unassigned)).scalar_one() == 0
    rows: list[dict[str, object]] = [{"khasra_no": n, "land_class": "nehri"} for n in NEW]
    report = import_parcels(demo_copy, _parcels(tmp_path / "map.gpkg", rows), mouza=name,
                            actor=tehsildar)  # fmt: skip

    _scan(demo_copy, name)

    found = _orphans(demo_copy, mouza_id)
    assert set(found) == planted  # none of NEW
    assert (report.details["attached"], report.details["unassigned"]) == (0, 3)
    assert all(e["never_held"] and e["last_khewat_no"] is None for e in found.values())


def test_khewat_no_holds_the_khasra_and_a_lost_holding_is_an_orphan(
    demo_copy: Engine, demo_dir: Path, tmp_path: Path
) -> None:
    """9001 imported with khewat_no is held by that khewat (as the record of rights reads
    it); 9002 and 9003 are imported unassigned. Nothing new is flagged. Then direct edits
    lose holdings: 9001's period ends with no successor; 9002 is attached by a direct
    insert, which ends its unassigned state, and the row is deleted again; a khasra held
    since the settlement has its period ended. Each is now an orphan; 9003, still
    unassigned, is not."""
    name, mouza_id, planted, tehsildar = _setting(demo_copy, demo_dir)
    with demo_copy.connect() as conn:
        today = conn.execute(text("SELECT current_date")).scalar_one()
        # a khewat with an owner today, and a khasra it alone holds since the settlement
        khewat_id, khewat_no, settled = conn.execute(
            text(
                "SELECT w.id, w.number, k.number FROM khewat w"
                " JOIN khewat_khasra kk ON kk.khewat_id = w.id AND kk.valid_to IS NULL"
                " JOIN khasra k ON k.id = kk.khasra_id AND k.retired_on IS NULL"
                " WHERE w.mouza_id = :m AND EXISTS (SELECT 1 FROM share s"
                "  WHERE s.khewat_id = w.id AND s.right_type = 'ownership'"
                "  AND s.valid_to IS NULL)"
                " AND kk.valid_from < DATE '2026-01-01'"
                " AND (SELECT count(*) FROM khewat_khasra o WHERE o.khasra_id = k.id) = 1"
                " ORDER BY w.number, k.id LIMIT 1"
            ),
            {"m": mouza_id},
        ).one()
    rows: list[dict[str, object]] = [
        {"khasra_no": "9001", "land_class": "nehri", "khewat_no": khewat_no},
        {"khasra_no": "9002", "land_class": "chahi", "assignment": "unassigned"},
        {"khasra_no": "9003", "land_class": "chahi", "assignment": "unassigned"},
    ]
    report = import_parcels(demo_copy, _parcels(tmp_path / "survey.gpkg", rows), mouza=name,
                            actor=tehsildar)  # fmt: skip
    assert report.counts == {"khasra": 3, "khewat_khasra": 1}
    with demo_copy.connect() as conn:
        held = {p.khasra_no: p for p in khewat_khasra_parts(conn, [khewat_id], today)}
    assert held["9001"].valid_from == today
    assert held["9001"].area_sarsai == held["9001"].record_area_sarsai
    assert "9002" not in held and "9003" not in held

    _scan(demo_copy, name)
    assert set(_orphans(demo_copy, mouza_id)) == planted

    with owner_engine(demo_copy).begin() as conn:
        conn.execute(
            text(
                "UPDATE khewat_khasra SET valid_to = current_date + 1 WHERE khasra_id ="
                " (SELECT id FROM khasra WHERE mouza_id = :m AND number = '9001')"
            ),
            {"m": mouza_id},
        )
        conn.execute(
            text(
                "INSERT INTO khewat_khasra (khewat_id, khasra_id, mouza_id, area_sarsai,"
                " valid_from) SELECT :w, id, mouza_id, record_area_sarsai, current_date"
                " FROM khasra WHERE mouza_id = :m AND number = '9002'"
            ),
            {"w": khewat_id, "m": mouza_id},
        )
        conn.execute(
            text(
                "DELETE FROM khewat_khasra WHERE khasra_id ="
                " (SELECT id FROM khasra WHERE mouza_id = :m AND number = '9002')"
            ),
            {"m": mouza_id},
        )
        conn.execute(
            text(
                "UPDATE khewat_khasra SET valid_to = '2026-01-01' WHERE valid_to IS NULL"
                " AND khasra_id = (SELECT id FROM khasra WHERE mouza_id = :m AND number = :n)"
            ),
            {"m": mouza_id, "n": settled},
        )
        states = dict(
            conn.execute(
                text(
                    "SELECT number, unassigned_since IS NOT NULL FROM khasra"
                    " WHERE mouza_id = :m AND number = ANY(:n)"
                ),
                {"m": mouza_id, "n": list(NEW)},
            ).all()
        )
    assert states == {"9001": False, "9002": False, "9003": True}

    _scan(demo_copy, name)

    found = _orphans(demo_copy, mouza_id)
    assert set(found) == planted | {"9001", "9002", settled}
    assert found["9001"]["last_khewat_no"] == khewat_no and not found["9001"]["never_held"]
    assert found["9001"]["held_until"] is not None
    assert found[settled]["last_khewat_no"] == khewat_no
    assert found[settled]["held_until"] == "2026-01-01"
    assert found["9002"]["never_held"]  # the row that held it was deleted
