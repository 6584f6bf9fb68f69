"""Footprints → instance rasters: reading (any CRS, repairs, errors), burning, contact border."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pytest
from rasterio.crs import CRS
from rasterio.transform import from_origin
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from models.encroachment.errors import EncroachmentError
from models.encroachment.labels import (
    BadLabels,
    contact_border,
    label_image,
    rasterize_footprints,
    read_footprints,
)

UTM = CRS.from_epsg(32643)
X0, Y0 = 500_000.0, 3_300_100.0
GRID = from_origin(X0, Y0, 1.0, 1.0)  # 1 m pixels, 100 × 100 px
SHAPE = (100, 100)


def px_box(c0: int, r0: int, c1: int, r1: int) -> Polygon:
    """A box covering pixel columns c0..c1-1 and rows r0..r1-1 of GRID (in UTM metres)."""
    return box(X0 + c0, Y0 - r1, X0 + c1, Y0 - r0)


def write(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    gdf.to_file(path)
    return path


@pytest.fixture
def boxes() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["a", "b", "c", "outside"]},
        geometry=[
            px_box(10, 10, 20, 30),  # 10 × 20 = 200 px
            px_box(30, 10, 40, 15),  # 50 px
            px_box(90, 90, 110, 110),  # 10 × 10 inside, rest past the edge
            px_box(200, 200, 210, 210),  # off the grid
        ],
        crs=UTM,
    )


def test_rasterize_same_crs_gives_exact_areas_and_compact_ids(boxes, tmp_path):
    fp = read_footprints(write(boxes, tmp_path / "b.gpkg"))
    inst = rasterize_footprints(fp, UTM, GRID, SHAPE)
    assert inst.dtype == np.int32 and inst.shape == SHAPE
    assert set(np.unique(inst)) == {0, 1, 2, 3}  # the off-grid footprint gets no id
    assert np.count_nonzero(inst == 1) == 200
    assert np.count_nonzero(inst == 2) == 50
    assert np.count_nonzero(inst == 3) == 100
    assert (inst[10:30, 10:20] == 1).all() and inst[9, 10] == 0


def test_footprints_in_another_crs_land_on_the_same_pixels(boxes, tmp_path):
    utm = rasterize_footprints(read_footprints(write(boxes, tmp_path / "b.gpkg")), UTM, GRID, SHAPE)
    lonlat = write(boxes.to_crs(4326), tmp_path / "b.geojson")
    web = write(boxes.to_crs(3857), tmp_path / "b_3857.shp")
    for path in (lonlat, web):
        fp = read_footprints(path)
        assert fp.crs != UTM
        np.testing.assert_array_equal(rasterize_footprints(fp, UTM, GRID, SHAPE), utm)


def test_image_in_lonlat_grid(boxes):
    """An EPSG:4326 grid (degrees) covering the same ground gets the same buildings."""
    left, bottom, right, top = boxes.iloc[:3].to_crs(4326).total_bounds
    w, h = 200, 200
    grid = from_origin(
        left - 1e-5, top + 1e-5, (right - left + 2e-5) / w, (top - bottom + 2e-5) / h
    )
    inst = rasterize_footprints(boxes, CRS.from_epsg(4326), grid, (h, w))
    assert inst.max() == 3
    areas = np.bincount(inst.ravel())[1:]
    assert areas[0] > 3 * areas[1]  # 200 m² vs 50 m²


def test_overlap_later_footprint_wins():
    fp = gpd.GeoDataFrame(geometry=[px_box(0, 0, 10, 10), px_box(5, 0, 15, 10)], crs=UTM)
    inst = rasterize_footprints(fp, UTM, GRID, SHAPE)
    assert np.count_nonzero(inst == 1) == 50 and np.count_nonzero(inst == 2) == 100
    assert (inst[0:10, 5:15] == 2).all()


def test_nothing_on_grid_gives_zeros(boxes):
    inst = rasterize_footprints(boxes.iloc[[3]], UTM, GRID, SHAPE)
    assert inst.dtype == np.int32 and not inst.any()


def test_repairs_explodes_and_ignores_with_counts(tmp_path):
    bowtie = Polygon([(X0, Y0 - 10), (X0 + 10, Y0), (X0 + 10, Y0 - 10), (X0, Y0)])
    two = MultiPolygon([px_box(50, 50, 55, 55), px_box(60, 50, 65, 55)])
    gdf = gpd.GeoDataFrame(
        geometry=[bowtie, two, Point(X0, Y0), LineString([(X0, Y0), (X0 + 5, Y0)])], crs=UTM
    )
    path = tmp_path / "mixed.gpkg"
    gdf.to_file(path)
    fp = read_footprints(path)
    assert fp.attrs["footprints_report"] == {
        "features": 4,
        "repaired": 1,
        "ignored_empty": 0,
        "ignored_not_polygon": 2,
        "polygons": 4,  # bow-tie → 2 triangles, multipolygon → 2 boxes
    }
    assert fp.is_valid.all() and set(fp.geom_type) == {"Polygon"}
    assert rasterize_footprints(fp, UTM, GRID, SHAPE).max() == 4


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_shapefile_without_crs_is_refused_naming_the_file(boxes, tmp_path):
    path = tmp_path / "nocrs.shp"
    boxes.set_crs(None, allow_override=True).to_file(path)
    assert not path.with_suffix(".prj").exists()
    with pytest.raises(BadLabels, match=r"nocrs\.shp.*no CRS"):
        read_footprints(path)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (None, "not found"),
        ("this is not json", "cannot read"),
        ({"type": "FeatureCollection", "features": []}, "no features"),
        (
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {"type": "Point", "coordinates": [1, 2]},
                    }
                ],
            },
            "no polygon",
        ),
    ],
)
def test_unusable_files_raise_bad_labels(tmp_path, content, match):
    path = tmp_path / "labels.geojson"
    if content is not None:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(BadLabels, match=match) as err:
        read_footprints(path)
    assert "labels.geojson" in str(err.value)
    assert isinstance(err.value, EncroachmentError) and isinstance(err.value, ValueError)


def _border_reference(inst: np.ndarray, r: int) -> np.ndarray:
    """Slow, obvious definition: ≥ 2 distinct non-zero ids within Euclidean distance r."""
    h, w = inst.shape
    out = np.zeros((h, w), bool)
    for y in range(h):
        for x in range(w):
            ids = set()
            for dy in range(-r, r + 1):
                for dx in range(-r, r + 1):
                    yy, xx = y + dy, x + dx
                    if dy * dy + dx * dx <= r * r and 0 <= yy < h and 0 <= xx < w and inst[yy, xx]:
                        ids.add(int(inst[yy, xx]))
            out[y, x] = len(ids) >= 2
    return out


def test_contact_border_gaps_and_touching_edges():
    inst = np.zeros((20, 40), np.int32)
    inst[5:15, 2:10] = 1
    inst[5:15, 13:20] = 2  # 3 px gap to 1: bridged
    inst[5:15, 20:28] = 3  # touches 2
    inst[5:15, 34:38] = 4  # 6 px gap to 3: not bridged at width 2
    b = contact_border(inst, 2)
    assert b[10, 11] and not b[10, 10] and not b[10, 12]  # the middle of the 1–2 gap
    assert b[10, 18:22].all() and not b[10, 17] and not b[10, 22]  # 2 px either side of 2|3
    assert not b[:, 29:34].any() and not b[10, 5]
    assert not b[0:3].any()  # the rows above the buildings are > 2 px from them
    np.testing.assert_array_equal(b, _border_reference(inst, 2))
    assert not contact_border(inst, 0).any()
    assert not contact_border(np.where(inst == 1, 1, 0), 3).any()  # one building: no border


def test_contact_border_matches_reference_on_random_labels():
    rng = np.random.default_rng(3)
    inst = rng.integers(0, 4, (24, 24)).astype(np.int32)
    inst[rng.random((24, 24)) < 0.6] = 0
    for r in (1, 2, 3):
        np.testing.assert_array_equal(contact_border(inst, r), _border_reference(inst, r))


def test_label_image_on_a_working_image_like_object(boxes):
    image = SimpleNamespace(
        path=Path("/x/chip_07.tif"),
        array=np.zeros((3, *SHAPE), np.uint8),
        valid=np.ones(SHAPE, bool),
        crs=UTM,
        transform=GRID,
        source_resolution_m=1.0,
    )
    li = label_image(image, boxes.to_crs(4326), border_px=2)
    assert li.name == "chip_07" and li.image is image
    assert li.instances.max() == 3 and li.mask.dtype == np.uint8
    np.testing.assert_array_equal(li.mask, (li.instances > 0).astype(np.uint8))
    assert li.border.dtype == bool and not li.border.any()  # the three boxes are ≥ 10 px apart
