"""The dashboard driven headlessly with Streamlit's AppTest (no browser, no map clicks).

Every page is behind sign-in: these tests sign in through the form with real accounts
(password and a fresh TOTP code), as a person does.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from datetime import date
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from dashboard_support import (
    DASHBOARD,
    TinyMouza,
    database_url,
    demo_login,
    fill_sign_in,
    owner,
    sign_in_demo,
    staff_app,
)
from map_support import inline_files, layer, layer_data  # noqa: F401  # inline_files: a fixture
from security_support import PASSWORD, staff_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from app.shared import data
from landgov.config import Settings
from landgov.security.sessions import FAILED

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


def parcel_layer(spec: dict[str, Any]) -> dict[str, Any]:
    """The map's parcel layer (id ``parcels-<mouza>-<picks>``), its rows read back from
    the file it loads."""
    (found,) = [la for la in spec["layers"] if str(la["id"]).startswith("parcels-")]
    return {**found, "data": layer_data(found)}


def assert_no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def pages(at: AppTest) -> set[str]:
    """The titles of the pages the navigation offers in this session."""
    return {str(info.get("page_name")) for info in at._registered_pages.values()}


def access_rows(engine: Engine) -> list[tuple[str, str, str, str]]:
    with owner(engine).connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text("SELECT actor, action, subject_kind, subject FROM access_log ORDER BY id")
            ).all()
        ]


# --- before sign-in -----------------------------------------------------------------------


def test_an_anonymous_visitor_sees_only_the_sign_in_page(
    tiny_mouza: TinyMouza, engine: Engine, point_app_at: PointAt
) -> None:
    point_app_at(database_url(engine))
    at = run_app()
    assert_no_exception(at)
    assert [el.value for el in at.title] == ["Sign in to landgov"]
    for key in ("signin_username", "signin_password", "signin_code"):
        assert at.text_input(key=key).value == ""
    assert at.text_input(key="signin_password").proto.type == 1  # PASSWORD: dots, not text
    assert not at.get("deck_gl_json_chart") and not at.dataframe
    assert not [w for w in at.sidebar.selectbox if w.key == "mouza_id"]
    assert tiny_mouza.label.split(" (")[0] not in str(at._tree)  # no mouza name at all
    assert pages(at) == {"Sign in", "Farmer sign-in"}
    (link,) = at.get("page_link")
    assert link.proto.label == "Farmer sign-in"
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/parcels/view.py")
    # the farmer's own sign-in needs no staff account
    at.switch_page("views/farmer/view.py").run()
    assert_no_exception(at)
    assert "Farmer" in [el.value for el in at.title]
    assert not at.get("deck_gl_json_chart")


def test_a_wrong_password_or_code_shows_only_the_generic_failure(
    engine: Engine, point_app_at: PointAt
) -> None:
    analyst = staff_actor(engine, "revenue_analyst")
    point_app_at(database_url(engine))
    expected = FAILED[0].upper() + FAILED[1:] + "."
    at = fill_sign_in(run_app(), analyst.username, "not the password", "000000")
    assert [el.value for el in at.error] == [expected]
    at = fill_sign_in(at, "nobody.here", PASSWORD, "000000")
    assert [el.value for el in at.error] == [expected]  # an unknown account reads the same
    at = fill_sign_in(at, analyst.username, PASSWORD, "")  # the account has a TOTP secret
    assert [el.value for el in at.error] == [expected]
    assert [el.value for el in at.title] == ["Sign in to landgov"]
    with owner(engine).connect() as conn:
        tries = conn.execute(
            text(
                "SELECT username, channel, ok FROM login_attempt WHERE channel = 'dashboard'"
                " ORDER BY id"
            )
        ).all()
    assert [tuple(t) for t in tries] == [
        (analyst.username, "dashboard", False),
        ("nobody.here", "dashboard", False),
        (analyst.username, "dashboard", False),
    ]


def test_sign_in_shows_who_then_sign_out_ends_the_session(
    tiny_mouza: TinyMouza, engine: Engine, point_app_at: PointAt
) -> None:
    analyst, at = staff_app(engine, point_app_at, "revenue_analyst")
    assert_no_exception(at)
    assert [el.value for el in at.title] == ["Mouza map and record of rights"]
    sidebar = "".join(el.value for el in at.sidebar.markdown)
    assert analyst.full_name in sidebar and "revenue analyst" in sidebar
    assert pages(at) == {"Parcels", "Valuation"}  # no Mutations, no Disputes, no Farmer
    with owner(engine).connect() as conn:
        open_sessions = conn.execute(
            text(
                "SELECT count(*) FROM user_session s JOIN app_user u ON u.id = s.user_id"
                " WHERE u.username = :u AND s.channel = 'dashboard' AND s.revoked_at IS NULL"
            ),
            {"u": analyst.username},
        ).scalar_one()
    assert open_sessions == 1

    at.sidebar.button(key="sign_out").click().run()
    assert_no_exception(at)
    assert [el.value for el in at.title] == ["Sign in to landgov"]
    assert "You have signed out." in [el.value for el in at.info]
    assert "_landgov_token" not in at.session_state
    with owner(engine).connect() as conn:
        revoked = conn.execute(
            text(
                "SELECT bool_and(s.revoked_at IS NOT NULL) FROM user_session s"
                " JOIN app_user u ON u.id = s.user_id WHERE u.username = :u"
                " AND s.channel = 'dashboard'"
            ),
            {"u": analyst.username},
        ).scalar_one()
    assert revoked


def test_an_expired_session_returns_to_the_sign_in_page(
    tiny_mouza: TinyMouza, engine: Engine, point_app_at: PointAt
) -> None:
    _, at = staff_app(engine, point_app_at, "revenue_analyst")
    assert [el.value for el in at.title] == ["Mouza map and record of rights"]
    with owner(engine).begin() as conn:  # the idle time ran out
        conn.execute(
            text(
                "UPDATE user_session SET idle_expires_at = clock_timestamp() - interval '1 s'"
                " WHERE channel = 'dashboard' AND revoked_at IS NULL"
            )
        )
    at.run()
    assert_no_exception(at)
    assert [el.value for el in at.title] == ["Sign in to landgov"]
    assert any("your session has ended" in el.value for el in at.info)
    assert not at.get("deck_gl_json_chart")


def test_a_page_run_without_a_permitted_actor_is_refused(
    tiny_mouza: TinyMouza, engine: Engine
) -> None:
    """Reached anyway (not through the navigation), a page refuses and names the rule."""
    from app.shared.context import Context
    from landgov.storage import read

    analyst = staff_actor(engine, "revenue_analyst")
    with engine.connect() as conn:
        (mouza,) = read.list_mouzas(conn)
    url = database_url(engine)
    page = AppTest.from_file(
        str(DASHBOARD.parent / "views" / "mutations" / "view.py"), default_timeout=30
    )
    page.session_state["_landgov_context"] = Context(url, mouza, date.today(), analyst)
    page.run()
    assert_no_exception(page)
    (error,) = [el.value for el in page.error]
    assert "rule `role`" in error and "may not enter mutations" in error
    assert not page.title  # nothing of the page was drawn

    anonymous = AppTest.from_file(str(DASHBOARD.parent / "views" / "parcels" / "view.py"))
    anonymous.session_state["_landgov_context"] = Context(url, None, date.today(), None)
    anonymous.run()
    assert "rule `signed_in`" in anonymous.error[0].value
    assert not anonymous.get("deck_gl_json_chart")


# --- signed in ------------------------------------------------------------------------------


def test_empty_database_shows_how_to_get_data(engine: Engine, point_app_at: PointAt) -> None:
    _, at = staff_app(engine, point_app_at, "revenue_analyst")
    assert_no_exception(at)
    assert any("run `landgov demo` or import parcels" in el.value for el in at.info)
    assert not at.get("deck_gl_json_chart")


def test_unreachable_database_is_a_clear_error(point_app_at: PointAt) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    point_app_at(f"postgresql://nobody:secret@127.0.0.1:{port}/landgov")
    at = run_app()  # the sign-in page itself needs no database
    assert_no_exception(at)
    at = fill_sign_in(at, "someone", "a password", "123456")
    assert at.error, "expected an error message"
    message = at.error[0].value
    assert "Cannot reach the landgov database" in message
    assert "secret" not in message  # the password stays hidden


def test_unmigrated_database_says_to_migrate(settings: Settings, point_app_at: PointAt) -> None:
    point_app_at(settings.url("postgres"))  # reachable, but without the landgov schema
    at = fill_sign_in(run_app(), "someone", "a password", "123456")
    assert at.error and "landgov db migrate" in at.error[0].value


@pytest.mark.usefixtures("inline_files")
def test_tiny_mouza_map_and_khasra_panel(
    tiny_mouza: TinyMouza, engine: Engine, point_app_at: PointAt
) -> None:
    analyst, at = staff_app(engine, point_app_at, "revenue_analyst")
    assert_no_exception(at)

    mouza = at.sidebar.selectbox(key="mouza_id")
    assert mouza.format_func(mouza.value) == tiny_mouza.label

    (spec,) = deck_specs(at)
    parcels_layer = parcel_layer(spec)
    assert sorted(row["khasra_no"] for row in parcels_layer["data"]) == sorted(tiny_mouza.khasras)
    assert parcels_layer["pickable"] is True
    assert parcels_layer["stroked"] is False  # the edges are a layer of their own
    edges = layer(spec, "parcel-edges")
    assert (edges["@@type"], edges["widthUnits"], edges["getWidth"]) == ("LineLayer", "pixels", 1)
    segments = layer_data(edges)  # a file, like the parcels: each edge once
    ends = {frozenset((tuple(e["s"]), tuple(e["t"]))) for e in segments}
    assert len(ends) == len(segments)
    rings = [ring for row in parcels_layer["data"] for ring in row["polygon"]]
    assert ends == {frozenset((tuple(a), tuple(b))) for r in rings for a, b in pairwise(r)}
    # the fill goes to the fill sub-layer: Streamlit fades a picked layer's getFillColor
    assert "getFillColor" not in parcels_layer
    assert parcels_layer["_subLayerProps"]["fill"]["getFillColor"] == "@@=fill_color"
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
    assert {row["khasra_no"] for row in selected["data"]} == {"11"}  # its edges
    assert selected["getWidth"] == 4 and selected["@@type"] == "LineLayer"

    # full CNICs never reach an analyst's page, in text or in the map's data
    everything = page + "".join(el.proto.json for el in at.get("deck_gl_json_chart"))
    for cnic in tiny_mouza.cnics:
        assert cnic not in everything
    # showing the owners is one access-log row: who read whom
    reads = access_rows(engine)
    assert reads == [(analyst.label, "owners", "khasra", "Kot Test khasra 11")]
    at.run()  # a rerun shows the same list again: not another row
    assert access_rows(engine) == reads
    with owner(engine).connect() as conn:
        details = conn.execute(text("SELECT details FROM access_log")).scalar_one()
    assert details["parties"] == [1, 2] and details["unmasked"] is False


def test_khasra_outside_any_khewat(
    tiny_mouza: TinyMouza, engine: Engine, point_app_at: PointAt
) -> None:
    _, at = staff_app(engine, point_app_at, "auditor")
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
    _, at = staff_app(engine, point_app_at, "auditor")
    at.sidebar.date_input(key="as_of").set_value(pd.Timestamp("2019-06-30").date())
    at = at.selectbox(key=f"khasra_{tiny_mouza.mouza_id}").select("12").run()
    assert_no_exception(at)
    page = texts(at)
    assert "Khasra 12" in page
    assert "No share in force" in page
    assert "none on this date" in page


def test_an_administrator_sees_the_map_but_no_owners_and_no_forms(
    tiny_mouza: TinyMouza, engine: Engine, point_app_at: PointAt
) -> None:
    _, at = staff_app(engine, point_app_at, "administrator")
    assert pages(at) == {"Parcels"}  # nothing that changes the record
    at = at.selectbox(key=f"khasra_{tiny_mouza.mouza_id}").select("11").run()
    assert_no_exception(at)
    assert not at.dataframe  # no owner list
    assert any("may not read owners" in el.value for el in at.caption)
    assert not at.get("download_button")  # no fard
    assert access_rows(engine) == []
    for cnic in tiny_mouza.cnics:
        assert cnic not in str(at._tree)


@pytest.mark.usefixtures("inline_files")
def test_demo_mouza_renders(demo_engine: Engine, demo_dir: Path, point_app_at: PointAt) -> None:
    point_app_at(database_url(demo_engine))
    at = sign_in_demo(demo_engine, demo_login(demo_engine, demo_dir, "revenue_analyst"))
    assert_no_exception(at)
    (spec,) = deck_specs(at)
    parcels_layer = parcel_layer(spec)
    numbers = [row["khasra_no"] for row in parcels_layer["data"]]
    assert len(set(numbers)) > 100

    picker = at.selectbox(
        key=next(w.key for w in at.selectbox if w.key and w.key.startswith("khasra_"))
    )
    assert len(picker.options) == len(set(numbers))
    at = picker.select(picker.options[0]).run()
    assert_no_exception(at)
    assert f"Khasra {picker.options[0]}" in [el.value for el in at.subheader]


# --- the map's other layers, its legend, and the kept selection ---------------------------


def _state_land_and_boundary(engine: Engine) -> None:
    """The tiny mouza's boundary; a canal right-of-way of the mouza, a road's of no mouza
    that crosses it, and a forest of no mouza far away (not drawn)."""
    with owner(engine).begin() as conn:
        conn.execute(
            text(
                "UPDATE mouza SET boundary = ST_Multi(ST_MakeEnvelope("
                " 74.2998, 31.4998, 74.3013, 31.5011, 4326)) WHERE id = 1;"
                "INSERT INTO state_land (mouza_id, category, custodian, name, geom) VALUES"
                " (1, 'canal_row', 'irrigation', 'Test distributary',"
                "  ST_Multi(ST_MakeEnvelope(74.2998, 31.5005, 74.3013, 31.50062, 4326))),"
                " (NULL, 'road_row', 'highways', 'Test road',"
                "  ST_Multi(ST_MakeEnvelope(74.3011, 31.49, 74.3012, 31.51, 4326))),"
                " (NULL, 'forest', 'forest', 'Far plantation',"
                "  ST_Multi(ST_MakeEnvelope(75.0, 32.0, 75.01, 32.01, 4326)))"
            )
        )


@pytest.mark.usefixtures("inline_files")
def test_the_map_draws_state_land_the_boundary_numbers_and_a_matching_legend(
    tiny_mouza: TinyMouza, engine: Engine, point_app_at: PointAt
) -> None:
    from app.shared import maplayers

    _state_land_and_boundary(engine)
    _, at = staff_app(engine, point_app_at, "revenue_analyst")
    assert_no_exception(at)
    (spec,) = deck_specs(at)
    ids = [la["id"] for la in spec["layers"]]
    # under the parcels nothing (no imagery here); over them their edges, state land,
    # boundary, numbers
    assert ids == [
        f"parcels-{tiny_mouza.mouza_id}-0",
        "parcel-edges",
        "state-land",
        "state-land-outline",
        "mouza-boundary-halo",
        "mouza-boundary-line",
        "khasra-numbers",
    ]
    drawn = layer(spec, "state-land")["data"]
    assert sorted(row["category"] for row in drawn) == ["canal_row", "road_row"]
    assert all(not la.get("pickable", False) for la in spec["layers"][1:])
    # every outline as straight segments (deck.gl's paths cost seconds without a GPU)
    assert {la["@@type"] for la in spec["layers"]} == {"PolygonLayer", "LineLayer", "TileLayer"}
    assert not any(la.get("stroked") for la in spec["layers"])
    edges = layer(spec, "state-land-outline")["data"]
    colours = {tuple(e["line_color"]) for e in edges}
    assert colours == {(*maplayers.STATE_LAND[c].rgb, 255) for c in ("canal_row", "road_row")}
    boundary = layer(spec, "mouza-boundary-line")["data"]
    assert len(boundary) == 4  # the envelope's four sides
    assert (
        layer(spec, "mouza-boundary-halo")["getWidth"]
        > layer(spec, "mouza-boundary-line")["getWidth"]
    )

    numbers = layer(spec, "khasra-numbers")
    assert (numbers["minZoom"], numbers["maxZoom"], numbers["zoomOffset"]) == (0, 0, -17)
    assert numbers["pointType"] == "text" and numbers["getText"] == "@@=properties.khasra_no"
    points = layer_data(numbers)["features"]
    assert sorted(f["properties"]["khasra_no"] for f in points) == sorted(tiny_mouza.khasras)
    for feature in points:  # each number inside its own parcel
        lon, lat = feature["geometry"]["coordinates"]
        assert 74.2999 < lon < 74.3013 and 31.4999 < lat < 31.5011

    legend = "\n".join(str(el.value) for el in at.sidebar.markdown)
    for label in ("Canal right-of-way", "Road right-of-way", "Mouza boundary", "Khasra numbers"):
        assert label in legend
    assert maplayers.STATE_LAND["forest"].label not in legend  # not on this map
    assert "Selected:" not in legend
    at = at.selectbox(key=f"khasra_{tiny_mouza.mouza_id}").select("12").run()
    legend = "\n".join(str(el.value) for el in at.sidebar.markdown)
    assert "Selected: khasra 12" in legend


def test_a_selected_khasra_is_kept_for_every_page(
    tiny_mouza: TinyMouza, engine: Engine, point_app_at: PointAt
) -> None:
    """The selection lives under one session key (:data:`app.shared.selection.KEY`): a
    khasra picked on the map is there for the other pages, and one another page selects
    is open when the Parcels page is shown again."""
    from app.shared import selection

    _, at = staff_app(engine, point_app_at, "revenue_analyst")
    picker = f"khasra_{tiny_mouza.mouza_id}"
    at = at.selectbox(key=picker).select("11").run()
    assert_no_exception(at)
    kept = at.session_state[selection.KEY]
    assert kept == selection.SelectedKhasra(tiny_mouza.mouza_id, 1, "11")

    at.switch_page("views/valuation/view.py").run()
    assert at.session_state[selection.KEY] == kept  # still there on another page
    # ... where a map selects another khasra of the mouza
    at.session_state[selection.KEY] = selection.SelectedKhasra(tiny_mouza.mouza_id, 2, "12")
    at.switch_page("views/parcels/view.py").run()
    assert_no_exception(at)
    assert at.selectbox(key=picker).value == "12"
    assert "Khasra 12" in [el.value for el in at.subheader]

    at = at.selectbox(key=picker).set_value(None).run()  # emptied: nothing selected
    assert selection.KEY not in at.session_state
