"""``imagery.ingest``: scenes from Sentinel-2, Landsat and orthophoto files, and refusals."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import rasterio
from catalog_support import (
    LANDSAT_ID,
    LAT,
    LON,
    counts,
    files_under,
    landsat_scene,
    s2_scene,
    write_raster,
)
from security_support import service_actor
from shapely.geometry import Point, shape
from sqlalchemy import text
from sqlalchemy.engine import Engine

from imagery.catalog import asset_path, get_item
from imagery.ingest import ingest
from landgov.errors import ImportRejected

S2_ID = "S2_T43RCQ_20250115T054211_L2A"


def _is_cog(path: Path) -> bool:
    with rasterio.open(path) as src:
        layout = src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT")
        return src.driver == "GTiff" and (
            layout == "COG" or (src.profile.get("tiled") and src.overviews(1) is not None)
        )


def test_sentinel2_band_set_is_one_scene(engine: Engine, tmp_path: Path) -> None:
    home = tmp_path / "home"
    report = ingest(
        engine, s2_scene(tmp_path / "in"), home=home, actor=service_actor(engine, "imagery")
    )
    assert report.ingested == [S2_ID]
    item = get_item(engine, S2_ID)
    assert item is not None
    assert sorted(item.assets) == sorted(["B02", "B03", "B04", "B08", "B8A", "B11", "SCL"])
    assert item.properties["eo:cloud_cover"] == 25.0
    assert item.properties["proj:code"] == "EPSG:32643"
    assert item.datetime is not None and item.datetime.isoformat() == "2025-01-15T05:42:11+00:00"
    assert shape(item.geometry).buffer(0.01).contains(Point(LON, LAT))
    for asset in item.assets.values():
        path = asset_path(home, asset.href)
        assert path.is_file() and _is_cog(path)
        assert path.is_relative_to(home / "imagery" / "sentinel-2-l2a" / S2_ID)
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT band, resolution_m FROM imagery_asset")).all())
        sensor, n_audit = conn.execute(
            text(
                "SELECT sensor, (SELECT count(*) FROM audit_log WHERE entity_id = s.id)"
                " FROM imagery_scene s"
            )
        ).one()
    assert rows["B04"] == 10 and rows["B11"] == 20 and rows["SCL"] == 20
    assert sensor == "sentinel-2" and n_audit == 1
    assert [p.name for p in (home / "imagery").iterdir()] == ["sentinel-2-l2a"]  # no temp left


def test_reingest_is_a_noop(engine: Engine, tmp_path: Path) -> None:
    home = tmp_path / "home"
    files = s2_scene(tmp_path / "in")
    ingest(engine, files, home=home, actor=service_actor(engine, "imagery"))
    before, data = counts(engine), files_under(home)
    report = ingest(
        engine, list(reversed(files)), home=home, actor=service_actor(engine, "imagery")
    )
    assert report.ingested == [] and report.skipped == [(S2_ID, "already catalogued")]
    assert "already catalogued" in report.summary()
    assert counts(engine) == before and files_under(home) == data


def test_landsat_scene(engine: Engine, tmp_path: Path) -> None:
    report = ingest(
        engine,
        landsat_scene(tmp_path / "in"),
        home=tmp_path / "h",
        actor=service_actor(engine, "imagery"),
    )
    assert report.ingested == [LANDSAT_ID]
    item = get_item(engine, LANDSAT_ID)
    assert item is not None and item.properties["landgov:sensor"] == "landsat-9"
    assert sorted(item.assets) == ["QA_PIXEL", "SR_B2", "SR_B3", "SR_B4", "SR_B5"]
    assert item.assets["SR_B4"].extra_fields["gsd"] == 30


def test_orthophoto_rgbn_by_descriptions(engine: Engine, tmp_path: Path) -> None:
    src = write_raster(
        tmp_path / "mouza_7.tif", count=4, res=0.5, dtype="uint8",
        descriptions=["Red", "Green", "Blue", "NIR"],
    )  # fmt: skip
    home = tmp_path / "home"
    [sid] = ingest(engine, [src], home=home, actor=service_actor(engine, "imagery")).ingested
    item = get_item(engine, sid)
    assert item is not None and item.properties["landgov:sensor"] == "orthophoto"
    assert sorted(item.assets) == ["blue", "green", "nir", "red"]
    with rasterio.open(asset_path(home, item.assets["nir"].href)) as nir, rasterio.open(src) as s:
        assert nir.count == 1 and (nir.read(1) == s.read(4)).all()
    assert item.assets["red"].extra_fields["gsd"] == 0.5


def test_orthophoto_by_kind_in_web_mercator(engine: Engine, tmp_path: Path) -> None:
    src = write_raster(tmp_path / "ortho.tif", count=3, res=1.0, crs="EPSG:3857", dtype="uint8")
    [sid] = ingest(
        engine,
        [src],
        home=tmp_path / "h",
        kind="orthophoto",
        actor=service_actor(engine, "imagery"),
    ).ingested
    item = get_item(engine, sid)
    assert item is not None and sorted(item.assets) == ["blue", "green", "red"]
    assert item.properties["proj:code"] == "EPSG:3857"
    assert shape(item.geometry).buffer(0.01).contains(Point(LON, LAT))


def test_plain_geotiff_is_other(engine: Engine, tmp_path: Path) -> None:
    src = write_raster(tmp_path / "dem.tif", dtype="float32", crs="EPSG:4326", res=0.0001)
    [sid] = ingest(
        engine, [src], home=tmp_path / "h", actor=service_actor(engine, "imagery")
    ).ingested
    item = get_item(engine, sid)
    assert item is not None and item.properties["landgov:sensor"] == "other"


def _corrupt(tmp: Path) -> Path:
    p = tmp / "T43RCQ_20250115T054211_B05_20m.tif"
    tmp.mkdir(parents=True, exist_ok=True)
    p.write_bytes(b"this is not a tiff at all" * 10)
    return p


def _truncated(tmp: Path) -> Path:
    p = write_raster(tmp / "T43RCQ_20250115T054211_B05_20m.tif", size=200, res=20.0)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    return p


def _no_georef(tmp: Path) -> Path:
    return write_raster(tmp / "T43RCQ_20250115T054211_B05_20m.tif", georef=False)


def _unknown_band(tmp: Path) -> Path:
    return write_raster(tmp / "T43RCQ_20250115T054211_B99_10m.tif")


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_corrupt, "not a readable raster"),
        (_truncated, "truncated"),
        (_no_georef, "missing georeferencing"),
        (_unknown_band, "unknown band 'B99'"),
    ],
)
def test_bad_file_rejects_everything(
    engine: Engine, tmp_path: Path, make: Callable[[Path], Path], reason: str
) -> None:
    home = tmp_path / "home"
    ingest(
        engine, landsat_scene(tmp_path / "ls"), home=home, actor=service_actor(engine, "imagery")
    )  # something already
    before, data = counts(engine), files_under(home)
    bad = make(tmp_path / "in")
    files = [*s2_scene(tmp_path / "in"), bad]
    with pytest.raises(ImportRejected) as exc:
        ingest(engine, files, home=home, actor=service_actor(engine, "imagery"))
    assert str(bad) in str(exc.value) and reason in str(exc.value)
    assert counts(engine) == before and files_under(home) == data


def test_orthophoto_unknown_description(engine: Engine, tmp_path: Path) -> None:
    src = write_raster(
        tmp_path / "o.tif", count=3, dtype="uint8", descriptions=["red", "green", "thermal"]
    )
    with pytest.raises(ImportRejected, match="unknown band 'thermal'"):
        ingest(
            engine,
            [src],
            home=tmp_path / "h",
            kind="orthophoto",
            actor=service_actor(engine, "imagery"),
        )
    assert counts(engine) == (0, 0, 0)


def test_failed_transaction_removes_cogs(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import imagery.ingest as mod

    def boom(*args: object, **kwargs: object) -> int:
        raise RuntimeError("audit down")

    monkeypatch.setattr(mod.audit, "append", boom)
    home = tmp_path / "home"
    with pytest.raises(RuntimeError):
        ingest(engine, s2_scene(tmp_path / "in"), home=home, actor=service_actor(engine, "imagery"))
    assert counts(engine) == (0, 0, 0)
    assert files_under(home / "imagery") == []


def test_changed_content_refused_unless_replace(engine: Engine, tmp_path: Path) -> None:
    import numpy as np

    home = tmp_path / "home"
    first = s2_scene(tmp_path / "a")
    ingest(engine, first, home=home, kind="sentinel-2", actor=service_actor(engine, "imagery"))
    b04 = next(p for p in first if "_B04_" in p.name)
    write_raster(b04, data=np.full((1, 20, 20), 2222, dtype="uint16"))  # regenerated band
    before = counts(engine)
    with pytest.raises(ImportRejected, match="different content"):
        ingest(engine, first, home=home, kind="sentinel-2", actor=service_actor(engine, "imagery"))
    assert counts(engine) == before
    report = ingest(
        engine,
        first,
        home=home,
        kind="sentinel-2",
        replace=True,
        actor=service_actor(engine, "imagery"),
    )
    assert report.ingested == [S2_ID] and report.replaced == [S2_ID]
    assert "replacing older content" in report.summary()
    scenes, assets_, audits = counts(engine)
    assert (scenes, assets_) == before[:2] and audits == before[2] + 1
    with engine.connect() as conn:
        action = conn.execute(
            text("SELECT action FROM audit_log ORDER BY seq DESC LIMIT 1")
        ).scalar_one()
    assert action == "replace imagery"
    item = get_item(engine, S2_ID)
    assert item is not None
    with rasterio.open(asset_path(home, item.assets["B04"].href)) as src:
        assert int(src.read(1)[0, 0]) == 2222


def test_regenerated_orthophoto_replaces_the_old_scene(engine: Engine, tmp_path: Path) -> None:
    import numpy as np

    def ortho(value: int) -> Path:
        data = np.full((4, 20, 20), value, dtype="uint8")
        return write_raster(tmp_path / "ortho_2026-03-01.tif", count=4, res=0.5,
                            dtype="uint8", data=data,
                            descriptions=["red", "green", "blue", "nir"])  # fmt: skip

    home = tmp_path / "home"
    [old] = ingest(engine, [ortho(10)], home=home, actor=service_actor(engine, "imagery")).ingested
    # without replace a regenerated file is a second scene (its id carries its digest)
    report = ingest(
        engine, [ortho(20)], home=home, replace=True, actor=service_actor(engine, "imagery")
    )
    [new] = report.ingested
    assert new != old and report.replaced == [old]
    with engine.connect() as conn:
        ids = conn.execute(text("SELECT id FROM imagery_scene")).scalars().all()
    assert ids == [new]
    assert not list((home / "imagery").glob(f"*/{old}")) and get_item(engine, old) is None
    again = ingest(
        engine, [ortho(20)], home=home, replace=True, actor=service_actor(engine, "imagery")
    )
    assert again.ingested == [] and again.replaced == []
