"""The dashboard's pure helpers: map rows, view fitting, owner rows, colours."""

from __future__ import annotations

import math
from datetime import date

import geopandas as gpd
import pandas as pd
import shapely

from app.shared import data, style
from app.views.parcels import data as parcels_data
from landgov.domain import LandClass


def _parcels() -> gpd.GeoDataFrame:
    holed = shapely.Polygon(
        [(74.0, 31.0), (74.01, 31.0), (74.01, 31.01), (74.0, 31.01)],
        [[(74.004, 31.004), (74.006, 31.004), (74.006, 31.006), (74.004, 31.006)]],
    )
    two_parts = shapely.MultiPolygon(
        [shapely.box(74.02, 31.0, 74.03, 31.01), shapely.box(74.04, 31.0, 74.05, 31.01)]
    )
    return gpd.GeoDataFrame(
        {
            "khasra_id": [1, 2],
            "khasra_no": ["7", "45//3/1"],
            "land_class": ["barani", "shamlat"],
            "record_area_sarsai": [1443, 200],
            "unit_system": ["standard", "urban"],
            "geom_area_m2": [4000.0, 500.0],
            "khewat_no": ["3,4", None],
            "geom": [shapely.MultiPolygon([holed]), two_parts],
        },
        geometry="geom",
        crs=4326,
    )


def test_parcel_polygons_explode_parts_and_keep_holes() -> None:
    rows = parcels_data.parcel_polygons(_parcels())
    assert rows["khasra_no"].tolist() == ["7", "45//3/1", "45//3/1"]
    first = rows.iloc[0]
    assert len(first["polygon"]) == 2  # exterior and one hole
    assert first["fill_color"] == [*style.LAND_CLASS_COLORS["barani"], style.FILL_ALPHA]
    assert first["area_kms"] == "8-0-3"
    assert first["khewat_no"] == "3,4"
    assert rows.iloc[1]["khewat_no"] == "—"
    assert rows.iloc[1]["land_class_label"] == "Shamlat (village common)"


def test_parcel_polygons_of_nothing() -> None:
    empty = _parcels().iloc[0:0]
    assert parcels_data.parcel_polygons(empty).empty


def test_fit_view_centres_and_zooms_to_the_bounds() -> None:
    village = data.fit_view((74.0, 31.0, 74.02, 31.015), width_px=800, height_px=560)
    assert math.isclose(village.longitude, 74.01)
    assert math.isclose(village.latitude, 31.0075)
    assert 14 < village.zoom < 16
    district = data.fit_view((73.5, 30.5, 74.5, 31.5))
    assert district.zoom < village.zoom - 4
    # the bounds fit: 512·2^z px per 2π radians, so the width in pixels stays < 800
    width_px = 512 * 2**village.zoom * math.radians(0.02) / (2 * math.pi)
    assert width_px < 800


def test_khasra_facts() -> None:
    facts = parcels_data.khasra_facts(_parcels(), "7")
    assert facts is not None
    assert facts.record_area_kms == "8-0-3"
    assert facts.khewat_numbers == "3,4"
    assert math.isclose(facts.record_area_m2, 1443 * 30.25 * 0.3048**2)
    assert parcels_data.khasra_facts(_parcels(), "999") is None
    assert parcels_data.khasra_facts(_parcels(), "45//3/1").khewat_numbers == ""  # type: ignore[union-attr]


def test_owner_table_masks_and_labels() -> None:
    owners = pd.DataFrame(
        {
            "khewat_no": [3, 3, 4],
            "name": ["Rashida Begum", "Board of Revenue", "Someone Else"],
            "guardian_relation": ["wife_of", None, None],
            "guardian_name": ["Akram", None, None],
            "cnic": ["35401-1234567-2", None, "35401-7654321-1"],
            "custodian": [None, "board_of_revenue", None],
            "date_of_death": [date(2021, 3, 4), None, None],
            "numerator": [6, 1, 1],
            "denominator": [8, 4, 1],
            "right_type": ["ownership", "mortgage_with_possession", "ownership"],
            "valid_from": [date(2019, 1, 1), date(2022, 5, 6), date(2019, 1, 1)],
        }
    )
    table = data.owner_table(owners, 3, khewat_area_sarsai=1441)
    assert table.columns.tolist() == data.OWNER_COLUMNS
    assert table["Name"].tolist() == ["Rashida Begum (died 2021-03-04)", "Board of Revenue"]
    assert table["Guardian"].tolist() == ["w/o Akram", ""]
    assert table["CNIC"].tolist() == ["35401-*******-2", "state: board of revenue"]
    assert table["Share of khewat"].tolist() == ["3/4", "1/4"]  # lowest terms, exact
    assert table["Right"].tolist() == ["ownership", "mortgage with possession"]
    # 3/4 of 1441 sarsai = 1080.75 -> 1081 = 6-0-1; 1/4 = 360.25 -> 360 = 2-0-0
    assert table["Area equivalent (K-M-S)"].tolist() == ["6-0-1", "2-0-0"]
    unknown_area = data.owner_table(owners, 4, khewat_area_sarsai=None)
    assert unknown_area["Area equivalent (K-M-S)"].tolist() == ["—"]


def test_every_land_class_has_a_distinct_colour_and_label() -> None:
    assert set(style.LAND_CLASS_COLORS) == set(LandClass)
    assert set(style.LAND_CLASS_LABELS) == set(LandClass)
    colours = list(style.LAND_CLASS_COLORS.values())
    assert len(set(colours)) == len(colours)
    for i, a in enumerate(colours):
        for b in colours[i + 1 :]:
            assert sum(abs(x - y) for x, y in zip(a, b, strict=True)) > 60, (a, b)
    html = style.legend_html({"barani": 12})
    assert "Barani (rain-fed) <small>(12)</small>" in html
    assert html.count("background:rgb(") == len(LandClass)
