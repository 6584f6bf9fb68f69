"""What a mouza map draws besides its khasras (landgov.storage.read): the mouza's boundary
and its state land, read as the dashboard's application role reads them."""

from __future__ import annotations

import pytest
from security_support import owner_engine
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.storage import read


@pytest.fixture
def mapped(engine: Engine) -> Engine:
    """Kot Test (id 1) with a boundary, Chak Do (id 2) without one. State land: Kot
    Test's canal right-of-way; a road right-of-way of no mouza crossing Kot Test; a
    forest of no mouza far off; Chak Do's shamlat."""
    with owner_engine(engine).begin() as conn:
        conn.execute(text(
            "INSERT INTO admin_unit (id, level, name, parent_id) VALUES"
            " (1, 'province', 'Punjab', NULL), (2, 'district', 'Sheikhupura', 1),"
            " (3, 'tehsil', 'Sheikhupura', 2);"
            "INSERT INTO mouza (id, tehsil_id, name, hadbast_number, boundary) VALUES"
            " (1, 3, 'Kot Test', 17, ST_Multi(ST_MakeEnvelope(74, 31, 74.01, 31.01, 4326))),"
            " (2, 3, 'Chak Do', 18, NULL);"
            "INSERT INTO state_land (id, mouza_id, category, custodian, name, geom) VALUES"
            " (10, 1, 'canal_row', 'irrigation', 'Distributary',"
            "  ST_Multi(ST_MakeEnvelope(74, 31.004, 74.01, 31.0042, 4326))),"
            " (11, NULL, 'road_row', 'highways', 'Link road',"
            "  ST_Multi(ST_MakeEnvelope(74.005, 30.9, 74.0052, 31.1, 4326))),"
            " (12, NULL, 'forest', 'forest', 'Far rakh',"
            "  ST_Multi(ST_MakeEnvelope(75, 32, 75.01, 32.01, 4326))),"
            " (13, 2, 'shamlat', 'village_proprietary_body', 'Shamlat deh',"
            "  ST_Multi(ST_MakeEnvelope(74.02, 31, 74.03, 31.01, 4326)))"
        ))  # fmt: skip
    return engine


def test_a_mouzas_boundary(mapped: Engine) -> None:
    with mapped.connect() as conn:
        (boundary,) = read.mouza_boundary(conn, 1)
        assert boundary.bounds == pytest.approx((74, 31, 74.01, 31.01))
        assert read.mouza_boundary(conn, 2).empty  # none recorded
        assert read.mouza_boundary(conn, 99).empty


def test_a_mouzas_state_land_includes_what_of_no_mouza_crosses_it(mapped: Engine) -> None:
    with mapped.connect() as conn:
        kot = read.mouza_state_land(conn, 1)
        chak = read.mouza_state_land(conn, 2)
    assert list(kot["state_land_id"]) == [10, 11]  # not the far forest, not Chak Do's
    assert list(kot["category"]) == ["canal_row", "road_row"]
    assert list(kot["custodian"]) == ["irrigation", "highways"]
    assert kot.geometry.name == "geom" and str(kot.crs) == "EPSG:4326"
    # no boundary: only the mouza's own rows (nothing of no mouza can be placed in it)
    assert list(chak["state_land_id"]) == [13]
