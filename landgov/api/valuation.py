"""Values and taxes for the tax office: a khasra's statutory and model value on a date
with the model's explanation, the transfer taxes of a sale, a mouza's under-declared
sales. No personal data: values are of land, sales are named by mouza and number.

Each answer comes from the functions the dashboard's Valuation page and ``landgov tax``
use (:mod:`landgov.valuation.rates`, :mod:`~landgov.valuation.roll`,
:mod:`~landgov.valuation.appraisal`, :mod:`~landgov.valuation.transfer`).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.engine import Connection

from landgov.api.auth import ValuationReader, state_of
from landgov.api.problems import Problem
from landgov.errors import NoRateInForce
from landgov.storage import features as store
from landgov.storage.lookup import resolve_mouza
from landgov.storage.read import database_today
from landgov.valuation.appraisal import AppraisalError, explain_roll_value
from landgov.valuation.rates import statutory_value
from landgov.valuation.roll import roll_on
from landgov.valuation.transfer import NotATransferForValue, transfer_tax, under_declared

router = APIRouter(prefix="/v1", tags=["Values and taxes"])

OnDate = Annotated[date | None, Query(alias="date", description="the date (default today)")]


def _on(conn: Connection, given: date | None) -> date:
    today = database_today(conn)
    if given is not None and given > today:
        raise Problem(
            "bad-request", f"date {given.isoformat()} is after today ({today.isoformat()})",
            errors=[{"in": "query", "name": "date", "reason": "a future date"}],
        )  # fmt: skip
    return given or today


def _model_value(conn: Connection, khasra_id: int, on: date) -> dict[str, Any]:
    roll = roll_on(conn, on, "model")
    if roll is None:
        return {"value_rs": None, "reason": f"no model roll valued on or before {on}"}
    head = {"roll": roll.id, "roll_as_of": roll.as_of.isoformat()}
    try:
        why, _, value = explain_roll_value(conn, khasra_id, roll.id)
    except AppraisalError as exc:
        return {**head, "value_rs": None, "reason": str(exc)}
    return {**head, "value_rs": value, "explanation": why.as_json()}


@router.get("/khasras/{khasra_id}/value", name="khasra_value", summary="A khasra's values")
def khasra_value(
    request: Request,
    client: ValuationReader,
    khasra_id: Annotated[int, Path(ge=1)],
    on: OnDate = None,
) -> dict[str, Any]:
    """The statutory (DC rate) value on the date, and the appraisal model's value in the
    model roll in force on the date with its explanation (base value per acre × one
    factor per feature)."""
    with state_of(request).engine.connect() as conn:
        day = _on(conn, on)
        feature = store.khasra_feature(conn, khasra_id, day)
        if feature is None:
            raise Problem("not-found", f"no khasra {khasra_id} on {day.isoformat()}")
        try:
            statutory: dict[str, Any] = statutory_value(conn, khasra_id, day).as_dict()
        except NoRateInForce as exc:
            statutory = {"value_rs": None, "reason": str(exc)}
        return {
            "khasra_id": khasra_id,
            "date": day.isoformat(),
            "khasra": json.loads(feature)["properties"],
            "statutory": statutory,
            "model": _model_value(conn, khasra_id, day),
        }


@router.get("/mutations/{mutation_id}/transfer-tax", name="transfer_tax", summary="Taxes of a sale")
def mutation_transfer_tax(
    request: Request,
    client: ValuationReader,
    mutation_id: Annotated[int, Path(ge=1)],
) -> dict[str, Any]:
    """Statutory value, taxable value (the higher of declared and statutory), each tax by
    its band, and the revenue at stake when declared below the statutory value."""
    with state_of(request).engine.connect() as conn:
        try:
            return transfer_tax(conn, mutation_id).as_dict()
        except (NotATransferForValue, NoRateInForce) as exc:
            raise Problem("cannot-value", str(exc)) from None


@router.get(
    "/mouzas/{mouza}/under-declared",
    name="under_declared",
    summary="Sales declared below their value",
)
def mouza_under_declared(
    request: Request,
    client: ValuationReader,
    mouza: Annotated[str, Path(description="mouza id, hadbast number or name")],
    as_of: Annotated[date | None, Query(description="sales valued by then (default today)")] = None,
) -> dict[str, Any]:
    """Sales declared below their statutory value (revenue at stake), and those declared
    far below the appraisal model's value."""
    with state_of(request).engine.connect() as conn:
        day = _on(conn, as_of)
        mouza_id = resolve_mouza(conn, mouza)
        return {"mouza_id": mouza_id, "as_of": day.isoformat(),
                **under_declared(conn, mouza_id, day).as_dict()}  # fmt: skip
