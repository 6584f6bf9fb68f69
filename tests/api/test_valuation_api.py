"""Values and taxes for the tax office (issue 20, point 4): each answer equals what the
dashboard's and the CLI's functions give for the same khasra, sale or mouza."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from api_support import ApiDemo, bearer, problem
from fastapi.testclient import TestClient
from sqlalchemy import text

from landgov.demo.model import AS_OF
from landgov.valuation.appraisal import explain_roll_value
from landgov.valuation.rates import statutory_value
from landgov.valuation.roll import roll_on
from landgov.valuation.transfer import transfer_tax, under_declared


@pytest.fixture
def tax_office(api: TestClient, api_demo: ApiDemo) -> dict[str, str]:
    client, secret = api_demo.new_client(("valuation:read",), prefix="tax-office")
    return bearer(api, client.name, secret)


def test_a_khasras_statutory_and_model_values_with_the_explanation(
    api: TestClient, api_demo: ApiDemo, tax_office: dict[str, str]
) -> None:
    with api_demo.engine.connect() as conn:
        roll = roll_on(conn, AS_OF, "model")
        assert roll is not None
        kid = conn.execute(
            text(
                "SELECT khasra_id FROM valuation_roll_value WHERE roll_id = :r"
                " AND model_id IS NOT NULL ORDER BY khasra_id LIMIT 1"
            ),
            {"r": roll.id},
        ).scalar_one()
        dc = statutory_value(conn, kid, AS_OF)
        why, _, value = explain_roll_value(conn, kid, roll.id)
    r = api.get(f"/v1/khasras/{kid}/value?date={AS_OF}", headers=tax_office)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["statutory"]["value_rs"] == dc.rupees and body["statutory"]["rate_id"] == dc.rate.id
    assert body["model"]["value_rs"] == value and body["model"]["roll"] == roll.id
    explanation = body["model"]["explanation"]
    assert explanation == why.as_json()
    assert explanation["value_rs"] == pytest.approx(value, rel=0.01)
    assert body["khasra"]["khasra"] and body["date"] == AS_OF.isoformat()


def test_before_any_roll_the_model_value_says_why_not(
    api: TestClient, tax_office: dict[str, str]
) -> None:
    body = api.get("/v1/khasras/1/value?date=2015-06-30", headers=tax_office).json()
    assert body["model"]["value_rs"] is None and "no model roll" in body["model"]["reason"]


def test_bad_value_queries(api: TestClient, api_demo: ApiDemo, tax_office: dict[str, str]) -> None:
    tomorrow = api_demo.today + timedelta(days=1)
    future = problem(api.get(f"/v1/khasras/1/value?date={tomorrow}", headers=tax_office),
                     400, "bad-request")  # fmt: skip
    assert future["errors"][0]["name"] == "date"
    problem(api.get("/v1/khasras/1/value?date=2020-02-30", headers=tax_office), 400, "bad-request")
    problem(api.get("/v1/khasras/0/value", headers=tax_office), 400, "bad-request")
    problem(api.get("/v1/khasras/99999999/value", headers=tax_office), 404, "not-found")


def test_the_transfer_taxes_of_a_sale_and_a_refusal_for_a_gift(
    api: TestClient, api_demo: ApiDemo, tax_office: dict[str, str]
) -> None:
    with api_demo.engine.connect() as conn:
        sale = conn.execute(
            text(
                "SELECT id FROM mutation WHERE type = 'sale' AND status = 'sanctioned'"
                " AND consideration_rs IS NOT NULL AND coalesce(deed_date, entered_on) >= :d"
                " ORDER BY id LIMIT 1"
            ),
            {"d": date(2025, 7, 1)},  # the demo's tax rules are in force from then
        ).scalar_one()
        other = conn.execute(
            text("SELECT id FROM mutation WHERE type <> 'sale' ORDER BY id LIMIT 1")
        ).scalar_one()
        expected = transfer_tax(conn, sale).as_dict()
    r = api.get(f"/v1/mutations/{sale}/transfer-tax", headers=tax_office)
    assert r.status_code == 200 and r.json() == expected
    assert expected["taxes"] and expected["taxable_rs"] >= expected["statutory_rs"]
    problem(api.get(f"/v1/mutations/{other}/transfer-tax", headers=tax_office), 422,
            "cannot-value")  # fmt: skip
    problem(api.get("/v1/mutations/99999999/transfer-tax", headers=tax_office), 404, "not-found")


def test_a_mouzas_under_declared_sales(
    api: TestClient, api_demo: ApiDemo, tax_office: dict[str, str]
) -> None:
    mouza = api_demo.mouza_ids[0]
    with api_demo.engine.connect() as conn:
        expected = under_declared(conn, mouza, AS_OF).as_dict()
        hadbast = conn.execute(
            text("SELECT hadbast_number FROM mouza WHERE id = :m"), {"m": mouza}
        ).scalar_one()
    r = api.get(f"/v1/mouzas/{mouza}/under-declared?as_of={AS_OF}", headers=tax_office)
    assert r.status_code == 200, r.text
    body = r.json()
    assert {k: v for k, v in body.items() if k not in ("mouza_id", "as_of")} == expected
    assert body["count"] > 0 and body["sales"][0]["declared_rs"] < body["sales"][0]["statutory_rs"]
    # the mouza by its hadbast number gives the same list
    again = api.get(f"/v1/mouzas/{hadbast}/under-declared?as_of={AS_OF}", headers=tax_office)
    assert again.json() == body
    problem(api.get("/v1/mouzas/Nowhere/under-declared", headers=tax_office), 404, "not-found")
