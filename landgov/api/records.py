"""Fard verification for banks and holdings by CNIC for authorised agencies.

Both read personal data, so both write an access-log row naming the client
(:func:`landgov.records.fard.client_verify_fard`,
:func:`landgov.records.rights.client_read_person`).

Why the holdings query is a POST: a CNIC in a URL ends up in proxies' and servers' logs
and in browser histories; in a request body it does not.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Request
from pydantic import BaseModel, Field

from landgov.api.auth import FardReader, HoldingsReader, state_of
from landgov.records.fard import FardVerification, client_verify_fard
from landgov.records.rights import client_read_person, mask_cnics
from landgov.storage.read import database_today

router = APIRouter(prefix="/v1", tags=["Records"])

Status = Literal["valid", "superseded", "altered", "unknown"]


class FardCheck(BaseModel):
    """What a bank learns from a fard's code."""

    code: str = Field(description="the code as asked (short or full)")
    status: Status = Field(
        description="valid: the record of the fard's date and today's holding both say what "
        "the fard says; superseded: the holding changed since (a later mutation) or the "
        "record of its date was changed after issue; altered: the register entry no longer "
        "matches its code; unknown: no fard was issued with this code"
    )
    full_code: str | None = None
    short_code: str | None = None
    subject_kind: str | None = Field(default=None, description="khewat or person")
    subject: str | None = Field(default=None, description="what the fard is of, as printed")
    as_of: date | None = Field(default=None, description="the date of the record the fard shows")
    issued_at: str | None = None
    issued_by: str | None = None
    checked_on: date | None = Field(default=None, description="today, as checked")
    changed_since_issue: bool | None = Field(
        default=None, description="whether today's holding differs from the printed one"
    )
    changes_since_issue: list[str] = Field(
        default_factory=list, description="how today's holding differs from the printed one"
    )
    differences: list[str] = Field(
        default_factory=list,
        description="how the record of the fard's date differs from what was printed",
    )
    issued: dict[str, Any] | None = Field(
        default=None,
        description="the holding as the fard printed it: khasras, holders and exact shares "
        "(co-owners' CNICs masked as on the fard; a person fard shows its person's CNIC)",
    )


def _as_printed(found: FardVerification) -> dict[str, Any]:
    """The register's snapshot with the CNICs the printed fard masks masked."""
    issued = dict(found.issued)
    shown: dict[str, Any] = mask_cnics(issued)
    if found.subject_kind == "person" and isinstance(issued.get("person"), dict):
        shown["person"] = dict(issued["person"])  # the fard prints its person's CNIC
    return shown


def _check(code: str, found: FardVerification | None) -> FardCheck:
    if found is None:
        return FardCheck(code=code, status="unknown")
    status: Status = (
        "altered"
        if not found.register_intact
        else "valid"
        if found.matches and not found.changed_since
        else "superseded"
    )
    return FardCheck(
        code=code,
        status=status,
        full_code=found.code,
        short_code=found.short_code,
        subject_kind=found.subject_kind,
        subject=mask_cnics(found.subject_label)
        if found.subject_kind == "khewat"
        else found.subject_label,
        as_of=found.as_of,
        issued_at=found.issued_at.isoformat(),
        issued_by=found.issued_by,
        checked_on=found.checked_on,
        changed_since_issue=bool(found.changed_since),
        changes_since_issue=[str(mask_cnics(d)) for d in found.changed_since],
        differences=[str(mask_cnics(d)) for d in found.differences],
        issued=_as_printed(found),
    )


@router.get(
    "/fard/{code}",
    name="verify_fard",
    summary="Verify a fard by its code",
    response_model=FardCheck,
)
def verify_fard(
    request: Request,
    client: FardReader,
    code: Annotated[str, Path(description="ABCD-EFGH-IJKL or the full 64 hex digits")],
) -> FardCheck:
    found = client_verify_fard(
        state_of(request).engine, client=client, code=code,
        request_id=getattr(request.state, "request_id", None),
    )  # fmt: skip
    return _check(code, found)


class HoldingsQuery(BaseModel):
    cnic: str = Field(description="the person's CNIC, 13 digits with or without dashes")
    as_of: date | None = Field(default=None, description="the record's date (default: today)")


@router.post("/holdings", name="holdings", summary="A person's record of rights by CNIC")
def holdings(
    request: Request,
    client: HoldingsReader,
    query: Annotated[HoldingsQuery, Body()],
) -> dict[str, Any]:
    engine = state_of(request).engine
    on = query.as_of
    if on is None:
        with engine.connect() as conn:
            on = database_today(conn)
    held = client_read_person(
        engine, client=client, cnic=query.cnic, as_of=on,
        request_id=getattr(request.state, "request_id", None),
    )  # fmt: skip
    return held.snapshot()
