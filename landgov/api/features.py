"""Parcels for GIS: OGC API - Features - Part 1: Core (OGC 17-069r4), GeoJSON.

Collections: ``khasras`` (the record of a date: the khasras live then, with their khewat
numbers as of that date; never owners), ``mouzas`` (boundaries) and ``state-land``.

- ``bbox`` is ``minLon,minLat,maxLon,maxLat`` in WGS 84 (CRS84), the only CRS served;
- ``datetime`` (khasras) is a date or date-time (RFC 3339) or a period ``start/end``
  (``..`` open). Without it the collection is the record **as of today**: a GIS layer of
  parcels is the current map, and the retired parents of partitioned khasras would
  overlap their children. This is the one reading of the standard's ``datetime`` that
  differs from "no temporal filter", and the collection's description says so;
- ``limit`` (1-1000, default 100; a larger one is served as 1000) and ``offset`` page
  through the results; ``next``/``prev`` links carry them;
- an unknown query parameter is answered 400 (Requirement /req/core/query-param-unknown).

The landing page, conformance declaration and collection descriptions carry no record
and need no credentials, as OGC clients read them before asking for data; features need
the ``parcels:read`` scope.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from landgov.api.auth import ParcelsReader, state_of
from landgov.api.problems import Problem
from landgov.records.fard_pdf import PKT
from landgov.storage import features as store
from landgov.storage.read import database_today

router = APIRouter(prefix="/v1", tags=["Parcels (OGC API - Features)"])

GEOJSON: Final = "application/geo+json"
CRS84: Final = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE: Final = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
)
MAX_LIMIT: Final = 1000
DEFAULT_LIMIT: Final = 100


class GeoJSONResponse(JSONResponse):
    media_type = GEOJSON


COLLECTIONS: Final[dict[str, dict[str, str]]] = {
    "khasras": {
        "title": "Khasras (parcels)",
        "description": (
            "Parcels of the record of rights as of a date (datetime; default today): number, "
            "mouza, land class, recorded area (kanal-marla-sarsai), the khewats holding it. "
            "No owners."
        ),
    },
    "mouzas": {
        "title": "Mouza boundaries",
        "description": "Revenue villages: name (English, Urdu), hadbast number, tehsil.",
    },
    "state-land": {
        "title": "State land",
        "description": (
            "Notified state land: shamlat, forest, auqaf, evacuee property, canal and road "
            "rights of way, with custodian department and notification."
        ),
    },
}

_ALLOWED: Final = {
    "khasras": {"bbox", "datetime", "limit", "offset", "mouza", "f"},
    "mouzas": {"bbox", "datetime", "limit", "offset", "f"},
    "state-land": {"bbox", "datetime", "limit", "offset", "f"},
}


def _link(href: str, rel: str, type_: str, title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


def _url(request: Request, name: str, **params: Any) -> str:
    return str(request.url_for(name, **params))


def _bad(name: str, reason: str, where: str = "query") -> Problem:
    return Problem(
        "bad-request", f"{name}: {reason}", errors=[{"in": where, "name": name, "reason": reason}]
    )


# --- parameters ----------------------------------------------------------------------------


def parse_bbox(value: str | None) -> store.BBox | None:
    """``minLon,minLat,maxLon,maxLat`` (or six numbers with heights, which are ignored).

    Raises:
        Problem: ``bad-request`` naming ``bbox`` and what is wrong.
    """
    if value is None:
        return None
    parts = value.split(",")
    if len(parts) not in (4, 6):
        raise _bad("bbox", f"{value!r}: give four numbers minLon,minLat,maxLon,maxLat")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise _bad("bbox", f"{value!r}: not numbers") from None
    if not all(math.isfinite(n) for n in numbers):
        raise _bad("bbox", f"{value!r}: not finite numbers")
    x0, y0, x1, y1 = (numbers[0], numbers[1], numbers[3], numbers[4]) if len(numbers) == 6 \
        else numbers  # fmt: skip
    if not (-180 <= x0 <= 180 and -180 <= x1 <= 180 and -90 <= y0 <= 90 and -90 <= y1 <= 90):
        raise _bad("bbox", f"{value!r}: longitudes -180..180, latitudes -90..90 (CRS84)")
    if y0 > y1:
        raise _bad("bbox", f"{value!r}: the minimum latitude is above the maximum")
    if x0 > x1:
        raise _bad("bbox", f"{value!r}: boxes across the antimeridian are not served")
    return (x0, y0, x1, y1)


_DATE_ONLY: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _instant(value: str) -> date:
    value = value.strip()
    if _DATE_ONLY.fullmatch(value):
        return date.fromisoformat(value)
    moment = datetime.fromisoformat(value.replace("z", "Z"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(PKT).date()  # the record's dates are Pakistan's calendar days


def parse_datetime(value: str | None, today: date) -> tuple[date | None, date]:
    """(start, end) of ``datetime``: an instant gives (d, d); ``a/b`` a period (``..`` or
    empty: open); none: (today, today).

    Raises:
        Problem: ``bad-request`` naming ``datetime``.
    """
    if value is None:
        return today, today
    try:
        if "/" not in value:
            day = _instant(value)
            return day, day
        left, right = value.split("/", 1)
        start = None if left.strip() in ("", "..") else _instant(left)
        end = today if right.strip() in ("", "..") else _instant(right)
    except ValueError:
        raise _bad(
            "datetime",
            f"{value!r}: give a date (2026-01-31), an RFC 3339 date-time or a period "
            "start/end with '..' for an open end",
        ) from None
    if start is not None and start > end:
        raise _bad("datetime", f"{value!r}: the period ends before it starts")
    return start, end


def _check_params(request: Request, collection: str) -> None:
    unknown = sorted(set(request.query_params) - _ALLOWED[collection])
    if unknown:
        raise Problem(
            "bad-request",
            f"unknown query parameter(s) {', '.join(unknown)} for {collection}; known: "
            + ", ".join(sorted(_ALLOWED[collection])),
            errors=[{"in": "query", "name": u, "reason": "unknown parameter"} for u in unknown],
        )
    f = request.query_params.get("f")
    if f is not None and f not in ("json", "geojson"):
        raise _bad("f", f"{f!r}: only json is served")


def _collection_id(collection_id: str) -> str:
    if collection_id not in COLLECTIONS:
        raise Problem(
            "not-found",
            f"no collection {collection_id!r}: the collections are {', '.join(COLLECTIONS)}",
        )
    return collection_id


# --- landing page, conformance, collections ----------------------------------------------


@router.get("/", name="landing_page", summary="Landing page (OGC API)")
def landing_page(request: Request) -> dict[str, Any]:
    json_ = "application/json"
    return {
        "title": "landgov API",
        "description": (
            "Land records of the revenue department for other agencies: parcels (OGC API - "
            "Features), fard verification, values and taxes, holdings by CNIC."
        ),
        "links": [
            _link(_url(request, "landing_page"), "self", json_, "this document"),
            _link(_url(request, "openapi"), "service-desc",
                  "application/vnd.oai.openapi+json;version=3.1", "the API definition"),
            _link(_url(request, "swagger_ui"), "service-doc", "text/html", "the API's docs"),
            _link(_url(request, "conformance"), "conformance", json_, "conformance classes"),
            _link(_url(request, "collections"), "data", json_, "the feature collections"),
        ],
    }  # fmt: skip


@router.get("/conformance", name="conformance", summary="Conformance classes")
def conformance() -> dict[str, Any]:
    return {"conformsTo": list(CONFORMANCE)}


def _collection(request: Request, cid: str, extents: store.Extents) -> dict[str, Any]:
    box = {"khasras": extents.khasras, "mouzas": extents.mouzas,
           "state-land": extents.state_land}[cid]  # fmt: skip
    extent: dict[str, Any] = {"spatial": {"bbox": [list(box)] if box else [], "crs": CRS84}}
    if cid == "khasras":
        first = extents.first_khasra_created
        extent["temporal"] = {
            "interval": [[first.isoformat() if first else None, None]],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }
    return {
        "id": cid,
        **COLLECTIONS[cid],
        "itemType": "feature",
        "crs": [CRS84],
        "extent": extent,
        "links": [
            _link(_url(request, "collection", collection_id=cid), "self", "application/json"),
            _link(_url(request, "items", collection_id=cid), "items", GEOJSON, "the features"),
        ],
    }


@router.get("/collections", name="collections", summary="The feature collections")
def collections(request: Request) -> dict[str, Any]:
    with state_of(request).engine.connect() as conn:
        extents = store.extents(conn)
    return {
        "links": [_link(_url(request, "collections"), "self", "application/json")],
        "collections": [_collection(request, cid, extents) for cid in COLLECTIONS],
    }


@router.get("/collections/{collection_id}", name="collection", summary="One collection")
def collection(request: Request, collection_id: str) -> dict[str, Any]:
    cid = _collection_id(collection_id)
    with state_of(request).engine.connect() as conn:
        extents = store.extents(conn)
    return _collection(request, cid, extents)


# --- features -----------------------------------------------------------------------------

Limit = Annotated[int, Query(ge=1, description=f"features a page, 1-{MAX_LIMIT} (larger: max)")]
Offset = Annotated[int, Query(ge=0, description="features to skip (paging)")]


@router.get(
    "/collections/{collection_id}/items",
    name="items",
    summary="Features of a collection",
    response_class=GeoJSONResponse,
)
def items(
    request: Request,
    collection_id: str,
    client: ParcelsReader,
    bbox: Annotated[str | None, Query(description="minLon,minLat,maxLon,maxLat (CRS84)")] = None,
    datetime_: Annotated[
        str | None, Query(alias="datetime", description="date, date-time or start/end")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
    mouza: Annotated[str | None, Query(description="khasras: a mouza id, hadbast or name")] = None,
    f: Annotated[str | None, Query(description="json (the only format)")] = None,
) -> Response:
    cid = _collection_id(collection_id)
    _check_params(request, cid)
    box = parse_bbox(bbox)
    served = min(limit, MAX_LIMIT)
    engine = state_of(request).engine
    with engine.connect() as conn:
        if cid == "khasras":
            today = database_today(conn)
            start, end = parse_datetime(datetime_, today)
            mouza_id = None
            if mouza is not None:
                from landgov.storage.lookup import resolve_mouza

                mouza_id = resolve_mouza(conn, mouza)
            page = store.khasra_features(
                conn, start=start, end=end, bbox=box, mouza_id=mouza_id, limit=served,
                offset=offset,
            )  # fmt: skip
        else:
            if datetime_ is not None:
                parse_datetime(datetime_, date.today())  # checked; these have no time
            read = store.mouza_features if cid == "mouzas" else store.state_land_features
            page = read(conn, bbox=box, limit=served, offset=offset)
    return Response(_collection_page(request, cid, page, served, offset), media_type=GEOJSON)


def _collection_page(
    request: Request, cid: str, page: store.FeaturePage, limit: int, offset: int
) -> bytes:
    """The FeatureCollection as bytes: the features' text as storage made it, the members
    around them dumped here (no feature is parsed and dumped again)."""
    base = _url(request, "items", collection_id=cid)
    kept = {k: v for k, v in request.query_params.items() if k not in ("limit", "offset")}

    def at(where: int) -> str:
        return f"{base}?{urlencode({**kept, 'limit': limit, 'offset': where})}"

    links = [
        _link(at(offset), "self", GEOJSON, "this page"),
        _link(_url(request, "collection", collection_id=cid), "collection", "application/json"),
    ]
    if offset + len(page.raw) < page.matched:
        links.append(_link(at(offset + limit), "next", GEOJSON, "the next page"))
    if offset > 0:
        links.append(_link(at(max(0, offset - limit)), "prev", GEOJSON, "the previous page"))
    rest = json.dumps({
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "numberMatched": page.matched,
        "numberReturned": len(page.raw),
        "links": links,
    })  # fmt: skip
    body = '{"type":"FeatureCollection","features":[' + ",".join(page.raw) + "]," + rest[1:]
    return body.encode("utf-8")


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    name="item",
    summary="One feature",
    response_class=GeoJSONResponse,
)
def item(
    request: Request,
    collection_id: str,
    feature_id: str,
    client: ParcelsReader,
    datetime_: Annotated[
        str | None, Query(alias="datetime", description="khasras: the record's date")
    ] = None,
) -> Response:
    cid = _collection_id(collection_id)
    unknown = sorted(set(request.query_params) - {"datetime", "f"})
    if unknown:
        raise _bad(unknown[0], "unknown parameter")
    if not feature_id.isdigit() or len(feature_id) > 18:
        raise Problem("not-found", f"no feature {feature_id!r} in {cid}: ids are numbers")
    fid = int(feature_id)
    with state_of(request).engine.connect() as conn:
        if cid == "khasras":
            today = database_today(conn)
            _, end = parse_datetime(datetime_, today)
            feature = store.khasra_feature(conn, fid, end)
        else:
            read = store.mouza_features if cid == "mouzas" else store.state_land_features
            found = read(conn, one=fid, limit=1).raw
            feature = found[0] if found else None
    if feature is None:
        raise Problem("not-found", f"no feature {fid} in {cid}")
    links = json.dumps([
        _link(_url(request, "item", collection_id=cid, feature_id=fid), "self", GEOJSON),
        _link(_url(request, "collection", collection_id=cid), "collection", "application/json"),
    ])  # fmt: skip
    return Response((feature[:-1] + ',"links":' + links + "}").encode(), media_type=GEOJSON)
