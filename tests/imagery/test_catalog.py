"""``imagery.catalog`` searches and the ``landgov imagery ingest/list/show`` commands."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from catalog_support import LANDSAT_ID, LAT, LON, counts, landsat_scene, s2_scene, use_db
from security_support import service_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from imagery.catalog import asset_path, get_item, search
from imagery.ingest import ingest
from landgov.cli import app
from landgov.errors import AccessDenied, LandgovError

runner = CliRunner()
JAN15 = "S2_T43RCQ_20250115T054211_L2A"
FEB14 = "S2_T43RCQ_20250214T054211_L2A"


@pytest.fixture
def catalogued(engine: Engine, tmp_path: Path) -> Engine:
    home = tmp_path / "home"
    ingest(engine, s2_scene(tmp_path / "a"), home=home, actor=service_actor(engine, "imagery"))
    ingest(
        engine,
        s2_scene(tmp_path / "b", stamp="20250214T054211"),
        home=home,
        actor=service_actor(engine, "imagery"),
    )
    ingest(engine, landsat_scene(tmp_path / "c"), home=home, actor=service_actor(engine, "imagery"))
    return engine


def _ids(items: list) -> list[str]:
    return [i.id for i in items]


def test_search_by_everything(catalogued: Engine) -> None:
    assert _ids(search(catalogued)) == [LANDSAT_ID, JAN15, FEB14]
    near = (LON - 0.01, LAT - 0.01, LON + 0.01, LAT + 0.01)
    assert len(search(catalogued, bbox_or_geometry=near)) == 3
    assert search(catalogued, bbox_or_geometry=(70.0, 25.0, 70.1, 25.1)) == []
    point = {"type": "Point", "coordinates": [LON + 0.001, LAT - 0.001]}
    assert len(search(catalogued, bbox_or_geometry=point)) == 3
    assert _ids(search(catalogued, start=date(2025, 1, 15), end=date(2025, 1, 31))) == [JAN15]
    assert _ids(search(catalogued, end="2025-01-12T00:00:00Z")) == [LANDSAT_ID]
    assert _ids(search(catalogued, sensor="sentinel-2")) == [JAN15, FEB14]
    assert _ids(search(catalogued, sensor="landsat")) == [LANDSAT_ID]
    assert _ids(search(catalogued, sensor="landsat-8")) == []
    assert _ids(search(catalogued, sensor="sentinel-2", max_cloud=10)) == []
    assert _ids(search(catalogued, sensor="sentinel-2", max_cloud=25)) == [JAN15, FEB14]


def test_get_item_and_asset_path(catalogued: Engine, tmp_path: Path) -> None:
    assert get_item(catalogued, "nope") is None
    item = get_item(catalogued, JAN15)
    assert item is not None
    assert asset_path(tmp_path / "home", item.assets["B04"].href).is_file()
    with pytest.raises(LandgovError, match="outside"):
        asset_path(tmp_path / "home", "../../etc/passwd")


def test_cli_ingest_list_show(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_db(engine, tmp_path / "home", monkeypatch)
    files = [str(p) for p in s2_scene(tmp_path / "in")]
    result = runner.invoke(app, ["imagery", "ingest", *files])
    assert result.exit_code == 0, result.output
    assert JAN15 in result.output
    assert (tmp_path / "home" / "imagery" / "sentinel-2-l2a" / JAN15 / "B04.tif").is_file()
    with engine.connect() as conn:  # the job ran as the imagery service, not as a name typed
        actors = (
            conn.execute(text("SELECT actor FROM audit_log WHERE action = 'ingest imagery'"))
            .scalars()
            .all()
        )
    assert actors == ["service:imagery"]

    again = runner.invoke(app, ["imagery", "ingest", *files])
    assert again.exit_code == 0 and "already catalogued" in again.output

    listed = runner.invoke(app, ["imagery", "list", "--sensor", "sentinel-2", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [i["id"] for i in json.loads(listed.output)] == [JAN15]
    table = runner.invoke(app, ["imagery", "list"])
    assert table.exit_code == 0 and "1 scene(s)" in table.output

    shown = runner.invoke(app, ["imagery", "show", JAN15])
    assert shown.exit_code == 0 and json.loads(shown.output)["properties"]["eo:cloud_cover"] == 25
    missing = runner.invoke(app, ["imagery", "show", "nope"])
    assert missing.exit_code == 1 and "no scene 'nope'" in missing.output


def test_cli_ingest_needs_the_imagery_service_or_a_session(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_db(engine, tmp_path / "home", monkeypatch, service=False)
    files = [str(p) for p in s2_scene(tmp_path / "in")]
    result = runner.invoke(app, ["imagery", "ingest", *files])
    assert result.exit_code == 1
    assert "runs as the 'imagery' service" in result.output and "Traceback" not in result.output
    assert counts(engine) == (0, 0, 0)
    assert not (tmp_path / "home" / "imagery").exists()
    # a person without imagery.write is refused even with a key elsewhere: ingest checks too
    from security_support import staff_actor

    with pytest.raises(AccessDenied, match="may not ingest and process imagery"):
        ingest(engine, [Path(f) for f in files], home=tmp_path / "home",
               actor=staff_actor(engine, "revenue_analyst"))  # fmt: skip
    assert counts(engine) == (0, 0, 0)


def test_cli_rejects_bad_file_cleanly(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_db(engine, tmp_path / "home", monkeypatch)
    bad = tmp_path / "T43RCQ_20250115T054211_B04_10m.tif"
    bad.write_bytes(b"garbage")
    result = runner.invoke(app, ["imagery", "ingest", str(bad)])
    assert result.exit_code == 1
    assert "rejected, nothing imported" in result.output and "Traceback" not in result.output
    assert counts(engine) == (0, 0, 0)
