"""``imagery.ingest``: scenes from Sentinel-2, Landsat and orthophoto files, and refusals."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pystac
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


# --- orthophotos as users hold them: JPEG/PNG with sidecars, 16-bit, any CRS ----------


def _aux_xml(path: Path, crs: str, res: float) -> Path:
    """A ``.aux.xml`` with the CRS and geotransform (what QGIS/GDAL write beside a JPEG)."""
    from xml.sax.saxutils import escape

    from catalog_support import origin
    from rasterio.crs import CRS

    x, y = origin(crs)
    aux = path.with_name(path.name + ".aux.xml")
    aux.write_text(
        f"<PAMDataset><SRS>{escape(CRS.from_string(crs).to_wkt())}</SRS>"
        f"<GeoTransform>{x!r}, {res!r}, 0, {y!r}, 0, {-res!r}</GeoTransform></PAMDataset>"
    )
    return aux


def _world_file(path: Path, crs: str, res: float, suffix: str) -> Path:
    """A world file (centre of the top-left pixel) plus an ESRI ``.prj``."""
    from catalog_support import origin
    from pyproj import CRS

    x, y = origin(crs)
    wld = path.with_suffix(suffix)
    wld.write_text(f"{res}\n0\n0\n{-res}\n{x + res / 2}\n{y - res / 2}\n")
    path.with_suffix(".prj").write_text(CRS.from_string(crs).to_wkt("WKT1_ESRI"))
    return wld


def _ingest_one(engine: Engine, path: Path, home: Path, **kw: object) -> pystac.Item:
    actor = service_actor(engine, "imagery")
    [sid] = ingest(engine, [path], home=home, kind="orthophoto", actor=actor, **kw).ingested  # type: ignore[arg-type]
    item = get_item(engine, sid)
    assert item is not None and item.properties["landgov:sensor"] == "orthophoto"
    return item


def test_orthophoto_rgb_jpeg_with_aux_xml(engine: Engine, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    src = write_raster(tmp_path / "mouza.jpg", count=3, size=32, dtype="uint8",
                       georef=False, driver="JPEG")  # fmt: skip
    _aux_xml(src, "EPSG:32643", 0.25)
    home = tmp_path / "home"
    when = datetime(2025, 2, 3, 4, 5, 6, tzinfo=UTC)
    item = _ingest_one(engine, src, home, acquired=when)
    assert sorted(item.assets) == ["blue", "green", "red"]
    assert item.properties["proj:code"] == "EPSG:32643" and item.datetime == when
    assert shape(item.geometry).buffer(0.0005).contains(Point(LON, LAT))
    assert item.assets["red"].extra_fields["gsd"] == 0.25
    cog_path = asset_path(home, item.assets["green"].href)
    with rasterio.open(cog_path) as cog, rasterio.open(src) as s:
        assert cog.crs.to_epsg() == 32643 and cog.transform == s.transform
        assert (cog.read(1) == s.read(2)).all()


def test_orthophoto_rgba_png_with_world_file_and_prj(engine: Engine, tmp_path: Path) -> None:
    import numpy as np

    data = np.random.default_rng(1).integers(0, 255, (4, 24, 24)).astype("uint8")
    data[3] = 255
    data[3, :6] = 0  # transparent top rows
    src = write_raster(tmp_path / "ortho.png", count=4, size=24, dtype="uint8", data=data,
                       georef=False, driver="PNG")  # fmt: skip
    _world_file(src, "EPSG:32643", 0.5, ".pgw")
    home = tmp_path / "home"
    item = _ingest_one(engine, src, home)
    assert sorted(item.assets) == ["blue", "green", "red"]  # the alpha is no band
    assert item.properties["proj:code"] == "EPSG:32643"  # from the .prj: GDAL ignores it
    assert shape(item.geometry).buffer(0.0005).contains(Point(LON, LAT))
    with rasterio.open(asset_path(home, item.assets["blue"].href)) as cog:
        assert (cog.read(1) == data[2]).all() and cog.nodata is None
        mask = cog.dataset_mask()  # the alpha, kept as the COG's internal mask
        assert not mask[:6].any() and mask[6:].all()
    # a corrected world file is new content, not "already catalogued"
    _world_file(src, "EPSG:32643", 0.4, ".pgw")
    report = ingest(engine, [src], home=home, kind="orthophoto",
                    actor=service_actor(engine, "imagery"))  # fmt: skip
    assert report.ingested and report.ingested[0] != item.id


def test_orthophoto_16bit_rgbn_is_stored_as_it_comes(engine: Engine, tmp_path: Path) -> None:
    import numpy as np

    data = np.random.default_rng(2).integers(0, 4000, (4, 20, 20)).astype("uint16")
    src = write_raster(tmp_path / "rgbn16.tif", count=4, res=0.3, dtype="uint16", data=data)
    home = tmp_path / "home"
    item = _ingest_one(engine, src, home)
    assert sorted(item.assets) == ["blue", "green", "nir", "red"]
    assert item.assets["nir"].extra_fields["raster:bands"][0]["data_type"] == "uint16"
    with rasterio.open(asset_path(home, item.assets["nir"].href)) as cog:
        assert cog.dtypes[0] == "uint16" and (cog.read(1) == data[3]).all()  # no stretch


def test_orthophoto_in_lonlat_and_in_utm(engine: Engine, tmp_path: Path) -> None:
    home = tmp_path / "home"
    ll = write_raster(tmp_path / "ll.tif", count=3, size=40, res=2e-6, crs="EPSG:4326",
                      dtype="uint8")  # fmt: skip
    item = _ingest_one(engine, ll, home)
    assert item.properties["proj:code"] == "EPSG:4326"
    footprint = shape(item.geometry)
    assert footprint.bounds == pytest.approx((LON, LAT - 40 * 2e-6, LON + 40 * 2e-6, LAT))
    # 2e-6° is 0.19 m east-west and 0.22 m north-south at 31.7°N: measured, not "None"
    assert item.assets["red"].extra_fields["gsd"] == pytest.approx(0.205, abs=0.005)
    utm = write_raster(tmp_path / "utm.tif", count=3, size=40, res=0.5, crs="EPSG:32643",
                       dtype="uint8")  # fmt: skip
    item = _ingest_one(engine, utm, home)
    assert item.properties["proj:code"] == "EPSG:32643"
    assert item.assets["red"].extra_fields["gsd"] == 0.5
    lon0, _, lon1, lat1 = shape(item.geometry).bounds  # north-up in UTM: turned in lon/lat
    assert lon0 == pytest.approx(LON, abs=1e-6) and lat1 == pytest.approx(LAT, abs=1e-5)
    assert (lon1 - lon0) * 111_320 * 0.8508 == pytest.approx(20.0, abs=0.2)  # 40 × 0.5 m


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (
            lambda d: write_raster(
                d / "photo.jpg", count=3, dtype="uint8", georef=False, driver="JPEG"
            ),
            "missing georeferencing (no geotransform): add a world file (.jgw/.pgw/.tfw/.wld)"
            " plus a .prj, or a .aux.xml with the CRS",
        ),
        (
            lambda d: write_raster(d / "two.tif", count=2, dtype="uint8"),
            "an orthophoto needs red, green and blue bands (nir optional); this file has"
            " 2 band(s) (band1, band2): no red, green, blue",
        ),
    ],
    ids=["ungeoreferenced-jpeg", "two-bands"],
)
def test_orthophoto_refusals_register_nothing(
    engine: Engine, tmp_path: Path, make: Callable[[Path], Path], reason: str
) -> None:
    home = tmp_path / "home"
    ingest(engine, landsat_scene(tmp_path / "ls"), home=home,
           actor=service_actor(engine, "imagery"))  # fmt: skip
    before, data = counts(engine), files_under(home)
    bad = make(tmp_path)
    with pytest.raises(ImportRejected) as exc:
        ingest(engine, [bad], home=home, kind="orthophoto",
               actor=service_actor(engine, "imagery"))  # fmt: skip
    assert str(bad) in str(exc.value) and reason in str(exc.value)
    assert counts(engine) == before and files_under(home) == data


def test_cli_ingests_a_jpeg_orthophoto_with_its_date(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from catalog_support import use_db
    from typer.testing import CliRunner

    from landgov.cli.main import app

    home = tmp_path / "home"
    use_db(engine, home, monkeypatch)
    src = write_raster(tmp_path / "mouza 7.jpg", count=3, size=16, dtype="uint8",
                       georef=False, driver="JPEG")  # fmt: skip
    _aux_xml(src, "EPSG:32643", 0.5)
    runner = CliRunner()
    bad = runner.invoke(app, ["imagery", "ingest", "--kind", "orthophoto", "--date", "March",
                              str(src)])  # fmt: skip
    assert bad.exit_code != 0 and "not a date" in bad.output
    result = runner.invoke(app, ["imagery", "ingest", "--kind", "orthophoto", "--date",
                                 "2024-03-01", str(src)])  # fmt: skip
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        sid, when = conn.execute(text("SELECT id, datetime FROM imagery_scene")).one()
    assert sid.startswith("ortho_mouza_7_") and sid in result.output
    assert when.isoformat() == "2024-03-01T00:00:00+00:00"
