"""Synthetic 0.5 m orthophotos with buildings at two dates."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.features import rasterize
from security_support import service_actor
from shapely import wkb
from sqlalchemy import text

from landgov.demo import imagery_ortho as so

SIZE = 200


@pytest.fixture(scope="module")
def ortho(demo_engine, tmp_path_factory):
    return so.synthesize_orthophotos(demo_engine, tmp_path_factory.mktemp("ortho"), size_m=SIZE)


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _read(path: Path) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read()


def test_deterministic(demo_engine, ortho, tmp_path):
    so.synthesize_orthophotos(demo_engine, tmp_path, size_m=SIZE)
    assert _digest(tmp_path) == _digest(ortho.new_structures.parent)
    assert len(list(tmp_path.glob("*.tif"))) == 5


def test_masks_align_and_new_is_difference(ortho):
    with rasterio.open(ortho.images[0]) as src:
        grid = (src.transform, src.shape, src.crs)
        assert src.count == 4 and src.descriptions == so.BAND_NAMES
        assert src.res == (0.5, 0.5) and src.shape == (SIZE * 2, SIZE * 2)
    for p in [*ortho.images, *ortho.building_masks, ortho.new_structures]:
        with rasterio.open(p) as src:
            assert (src.transform, src.shape, src.crs) == grid
    b1, b2 = (_read(p)[0].astype(bool) for p in ortho.building_masks)
    new = _read(ortho.new_structures)[0].astype(bool)
    assert np.array_equal(new, b2 & ~b1)
    assert new.any() and b1.any()


def test_new_structure_in_right_of_way(demo_engine, ortho):
    with demo_engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT ST_AsBinary(ST_Transform(geom, 32643)) AS g FROM state_land"
                " WHERE category IN ('canal_row', 'road_row')"
            )
        ).all()
    polys = [wkb.loads(bytes(r.g)) for r in rows]
    new = [s for s in ortho.structures if s.date_built > ortho.dates[0]]
    inside = [s for s in new if any(p.contains(s.geom) for p in polys)]
    assert inside
    with open(ortho.structures_csv) as fh:
        table = {int(r["id"]): r for r in csv.DictReader(fh)}
    for s in inside:
        assert table[s.id]["on_state_land"] == "true"
        assert table[s.id]["state_land_category"] in so.ROW_CATEGORIES


def test_nir_lower_on_buildings_than_fields(demo_engine, ortho):
    with demo_engine.connect() as conn:
        fields = conn.execute(
            text(
                "SELECT ST_AsBinary(ST_Transform(geom, 32643)) AS g FROM khasra"
                " WHERE land_class IN ('nehri', 'chahi')"
            )
        ).all()
    img = _read(ortho.images[-1])
    built = _read(ortho.building_masks[-1])[0].astype(bool)
    field = rasterize(
        [(wkb.loads(bytes(r.g)), 1) for r in fields],
        out_shape=built.shape,
        transform=ortho.transform,
        fill=0,
        dtype="uint8",
    ).astype(bool)
    field &= ~built
    assert field.sum() > 1000
    nir = img[3].astype(float)
    assert nir[built].mean() < nir[field].mean()


def test_ingest_as_orthophotos(engine, ortho, tmp_path):
    from imagery.ingest import ingest

    report = ingest(
        engine,
        ortho.images,
        home=tmp_path,
        kind="orthophoto",
        actor=service_actor(engine, "imagery"),
    )
    assert len(report.ingested) == 2
    with engine.connect() as conn:
        sensors = conn.execute(text("SELECT sensor FROM imagery_scene")).scalars().all()
    assert sensors == ["orthophoto", "orthophoto"]


def test_right_of_way_structures_on_verges_aligned_and_off_the_carriageway():
    from shapely import box as sbox

    road = sbox(0, 90, 400, 110)  # a 20 m right-of-way along x
    carriageway = road.buffer(-6.0)
    verge = road.difference(carriageway)
    placer = so._Placer(0.0, 200.0, 400)
    got = so._place_row(np.random.default_rng(1), placer, verge, carriageway, 6, 0.0)
    assert len(got) == 6
    for g in got:
        assert road.contains(g) and not g.intersects(carriageway)
        assert abs(so._axis_angle(g)) % 180 < 10 or abs(so._axis_angle(g)) % 180 > 170
        assert 3.5 * 4 - 1e-9 <= g.area <= 6 * 12 + 1e-9
    assert not any(a.intersects(b) for i, a in enumerate(got) for b in got[i + 1 :])


def test_window_takes_in_a_road_and_a_canal_on_either_side_of_the_abadi():
    from shapely import box as sbox

    abadi = [(1, "abadi", sbox(0, 0, 200, 200))]
    state = [
        (1, "road_row", sbox(-1000, 500, 1000, 520)),  # 300 m north of the abadi
        (2, "canal_row", sbox(-1000, -560, 1000, -520)),  # 520 m south
    ]
    left, top = so._window(abadi, state, 1200.0)
    win = sbox(left, top - 1200, left + 1200, top)
    assert win.intersects(state[0][2]) and win.intersects(state[1][2])
    assert win.contains(abadi[0][2])
