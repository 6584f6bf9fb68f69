"""The dashboard driven headlessly with Streamlit's AppTest (no browser, no map clicks)."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pandas as pd
from dashboard_support import DASHBOARD, TinyMouza, database_url
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from app import data
from landgov.config import Settings

PointAt = Callable[[str], None]


def run_app() -> AppTest:
    at = AppTest.from_file(str(DASHBOARD), default_timeout=60)
    return at.run()


def texts(at: AppTest) -> str:
    """Every piece of text the page shows, tables included, as one string."""
    parts: list[str] = []
    for kind in (
        "title",
        "header",
        "subheader",
        "markdown",
        "caption",
        "info",
        "warning",
        "error",
        "success",
    ):
        parts.extend(str(el.value) for el in at.get(kind))
    for frame in at.dataframe:
        parts.append(frame.value.to_csv(index=False))
    return "\n".join(parts)


def deck_specs(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(el.proto.json) for el in at.get("deck_gl_json_chart")]


def assert_no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_empty_database_shows_how_to_get_data(engine: Engine, point_app_at: PointAt) -> None:
    point_app_at(database_url(engine))
    at = run_app()
    assert_no_exception(at)
    assert any("run `landgov demo` or import parcels" in el.value for el in at.info)
    assert not at.get("deck_gl_json_chart")


def test_unreachable_database_is_a_clear_error(point_app_at: PointAt) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    point_app_at(f"postgresql://nobody:secret@127.0.0.1:{port}/landgov")
    at = run_app()
    assert_no_exception(at)
    assert at.error, "expected an error message"
    message = at.error[0].value
    assert "Cannot reach the landgov database" in message
    assert "secret" not in message  # the password stays hidden


def test_unmigrated_database_says_to_migrate(settings: Settings, point_app_at: PointAt) -> None:
    point_app_at(settings.url("postgres"))  # reachable, but without the landgov schema
    at = run_app()
    assert_no_exception(at)
    assert at.error and "landgov db migrate" in at.error[0].value


def test_tiny_mouza_map_and_khasra_panel(
    tiny_mouza: TinyMouza, engine: Engine, point_app_at: PointAt
) -> None:
    point_app_at(database_url(engine))
    at = run_app()
    assert_no_exception(at)

    mouza = at.sidebar.selectbox(key="mouza_id")
    assert mouza.format_func(mouza.value) == tiny_mouza.label

    (spec,) = deck_specs(at)
    parcels_layer = next(layer for layer in spec["layers"] if layer["id"] == "parcels")
    assert sorted(row["khasra_no"] for row in parcels_layer["data"]) == sorted(tiny_mouza.khasras)
    assert parcels_layer["pickable"] is True
    assert parcels_layer["lineWidthUnits"] == "pixels"  # thin outlines, not an accessor
    # no basemap: pydeck's sentinel, which Streamlit's frontend reads as "none"
    assert spec["mapStyle"] == "__MAP_STYLE__"
    raw = at.get("deck_gl_json_chart")[0].proto.json
    assert "cartocdn" not in raw and "mapbox" not in raw

    picker = at.selectbox(key=f"khasra_{tiny_mouza.mouza_id}")
    assert picker.options == ["11", "12", "45//12/1"]
    assert picker.value is None
    at = picker.select("11").run()
    assert_no_exception(at)

    page = texts(at)
    record = tiny_mouza.khasras["11"]
    assert "Khasra 11" in [el.value for el in at.subheader]
    assert f"**Record area:** {data.kms(record)} K-M-S" in page
    assert f"{tiny_mouza.geom_m2['11']:,.1f} m²" in page
    assert "Nehri (canal-irrigated)" in page
    assert f"**Khewat:** {tiny_mouza.khewat_number}\n" in page

    (owners,) = [frame.value for frame in at.dataframe]
    assert isinstance(owners, pd.DataFrame)
    by_name = owners.set_index("Name")
    assert by_name.loc["Ahmad Khan", "Share of khewat"] == "1/3"
    assert by_name.loc["Fatima Bibi", "Share of khewat"] == "2/3"
    assert by_name.loc["Ahmad Khan", "Guardian"] == "s/o Bashir Khan"
    assert by_name.loc["Fatima Bibi", "Guardian"] == "d/o Bashir Khan"
    assert by_name.loc["Ahmad Khan", "CNIC"] == tiny_mouza.masked[0]
    assert by_name.loc["Fatima Bibi", "CNIC"] == tiny_mouza.masked[1]
    assert by_name.loc["Ahmad Khan", "Right"] == "ownership"
    assert by_name.loc["Ahmad Khan", "Since"] == "2020-01-01"
    khewat_area = tiny_mouza.khasras["11"] + tiny_mouza.khasras["12"]
    assert by_name.loc["Fatima Bibi", "Area equivalent (K-M-S)"] == data.kms(
        round(Fraction(2, 3) * khewat_area)
    )
    assert f"**Khewat {tiny_mouza.khewat_number}** — holds {data.kms(khewat_area)}" in page
    assert not at.warning  # 1/3 + 2/3 is exactly the whole

    # the selection is outlined on the map
    (spec,) = deck_specs(at)
    selected = next(layer for layer in spec["layers"] if layer["id"] == "selected-khasra")
    assert [row["khasra_no"] for row in selected["data"]] == ["11"]

    # full CNICs never reach the page, in text or in the map's data
    everything = page + "".join(el.proto.json for el in at.get("deck_gl_json_chart"))
    for cnic in tiny_mouza.cnics:
        assert cnic not in everything


def test_khasra_outside_any_khewat(
    tiny_mouza: TinyMouza, engine: Engine, point_app_at: PointAt
) -> None:
    point_app_at(database_url(engine))
    at = run_app()
    at = at.selectbox(key=f"khasra_{tiny_mouza.mouza_id}").select("45//12/1").run()
    assert_no_exception(at)
    page = texts(at)
    assert "Khasra 45//12/1" in page
    assert "Abadi (settlement)" in page
    assert "none on this date" in page
    assert "No share in force for this khasra on this date." in page


def test_as_of_before_the_shares_shows_no_owner(
    tiny_mouza: TinyMouza, engine: Engine, point_app_at: PointAt
) -> None:
    point_app_at(database_url(engine))
    at = run_app()
    at.sidebar.date_input(key="as_of").set_value(pd.Timestamp("2019-06-30").date())
    at = at.selectbox(key=f"khasra_{tiny_mouza.mouza_id}").select("12").run()
    assert_no_exception(at)
    page = texts(at)
    assert "Khasra 12" in page
    assert "No share in force" in page
    assert "none on this date" in page


def test_demo_mouza_renders(demo_engine: Engine, point_app_at: PointAt) -> None:
    point_app_at(database_url(demo_engine))
    at = run_app()
    assert_no_exception(at)
    (spec,) = deck_specs(at)
    parcels_layer = next(layer for layer in spec["layers"] if layer["id"] == "parcels")
    numbers = [row["khasra_no"] for row in parcels_layer["data"]]
    assert len(set(numbers)) > 100

    picker = at.selectbox(
        key=next(w.key for w in at.selectbox if w.key and w.key.startswith("khasra_"))
    )
    assert len(picker.options) == len(set(numbers))
    at = picker.select(picker.options[0]).run()
    assert_no_exception(at)
    assert f"Khasra {picker.options[0]}" in [el.value for el in at.subheader]
