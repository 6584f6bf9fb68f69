"""Which crop model serves a mouza: the stored choice, else the card that covers it.

The synthetic-trained season model (``crop-type-tcnn``) knows the demo district's
simulated Sentinel-2; the real-trained year model (``crop-type-central-asia``) knows
surveyed fields of the Aral Sea Basin. Neither should silently serve the other's ground.
So, per mouza:

1. an explicit choice (``landgov models assign``, table ``mouza_model``) wins: an
   administrator (or the models service) says this pilot mouza's stored series are real
   Landsat NDVI, serve it with that model;
2. otherwise the model whose card's ``coverage`` box holds the mouza's parcels (where its
   imagery is read), the most local first (:func:`models.registry.covering`);
3. otherwise nothing: predicting refuses with the boxes it tried, rather than apply a
   model far from where it learnt.

An explicit choice outside the card's box is allowed (a model may be tried on new
ground), but said: :func:`assign_model` returns warnings and :func:`serving` shows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from landgov.errors import LandgovError

if TYPE_CHECKING:
    from landgov.security import Actor
    from landgov.storage.model_choice import Assignment
    from models.registry import ModelCard

CROP_TASK = "crop type"
"""Prefix of the card ``task`` of every crop-type model (season or year)."""


class NoModelForMouza(LandgovError):
    """No stored choice and no registered crop model covers the mouza."""


@dataclass(frozen=True)
class ModelChoice:
    """The crop model a mouza gets, and why."""

    mouza_id: int
    name: str
    version: str
    how: str
    """``assigned`` or ``coverage``."""
    detail: str
    extent: tuple[float, float, float, float] | None
    warnings: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {**self.__dict__, "extent": list(self.extent) if self.extent else None}


def _box(extent: tuple[float, float, float, float] | None) -> str:
    if extent is None:
        return "no mapped khasra"
    return "[" + ", ".join(f"{v:.4f}" for v in extent) + "]"


def choose_crop_model(engine: Engine, mouza_id: int, *, home: Path) -> ModelChoice:
    """The crop model serving ``mouza_id`` (see the module docstring).

    Raises:
        NoModelForMouza: nothing chosen and no card covers the mouza.
        ModelNotFound: the chosen model is no longer registered.
    """
    from landgov.storage import model_choice as store
    from models.registry import current_cards, read_card

    with engine.connect() as conn:
        chosen = store.assignments(conn, "crops").get(mouza_id)
        extent = store.mouza_extent(conn, mouza_id)
    # the registry is read only when no choice is stored (the common predict path)
    cards = (
        [read_card(chosen.model_name, chosen.model_version, home=home)]
        if chosen is not None
        else current_cards(CROP_TASK, home=home)
    )
    return _choose(mouza_id, chosen, extent, cards)


def _choose(
    mouza_id: int,
    chosen: Assignment | None,
    extent: tuple[float, float, float, float] | None,
    cards: Sequence[ModelCard],
) -> ModelChoice:
    """The rule itself, over what the callers read: with a stored choice, ``cards`` holds
    its card first; otherwise ``cards`` are the registered crop models to try."""
    from models.registry import covering, covers

    if chosen is not None:
        card = cards[0]
        warnings = [] if extent is not None and covers(card, extent) else [
            f"{card.name}'s card does not cover mouza {mouza_id} ({_box(extent)}):"
            " it serves here only because it was assigned"
        ]  # fmt: skip
        detail = f"assigned by {chosen.set_by} on {chosen.set_at:%Y-%m-%d}" + (
            f": {chosen.note}" if chosen.note else ""
        )
        return ModelChoice(mouza_id, card.name, card.version, "assigned", detail, extent,
                           warnings)  # fmt: skip
    found = covering(list(cards), extent) if extent is not None else []
    if not found:
        tried = (
            "; ".join(
                f"{c.name}:{c.version} {c.coverage.get('bbox_lonlat') or 'no coverage box'}"
                for c in cards
            )
            or "no crop model is registered"
        )
        raise NoModelForMouza(
            f"no crop model covers mouza {mouza_id} ({_box(extent)}); cards tried: {tried}."
            f" Choose one with 'landgov models assign MODEL --mouza {mouza_id}'"
        )
    card = found[0]
    box = card.coverage["bbox_lonlat"]
    return ModelChoice(mouza_id, card.name, card.version, "coverage",
                       f"its card covers the mouza (box {box})", extent)  # fmt: skip


def serving(engine: Engine, *, home: Path) -> list[dict[str, Any]]:
    """Per mouza: the crop model it gets and why, or why none (never raises per mouza).

    The registry, the stored choices and the mouzas' extents are read once for all
    mouzas (one grouped extent query), not per mouza.
    """
    from landgov.storage import model_choice as store
    from landgov.storage.lookup import NotFound, resolve_mouzas
    from models.registry import ModelNotFound, current_cards, read_card

    with engine.connect() as conn:
        try:
            mouzas = resolve_mouzas(conn, None)
        except NotFound:
            return []
        chosen = store.assignments(conn, "crops")
        extents = store.mouza_extents(conn, [mid for mid, _ in mouzas])
    cards = current_cards(CROP_TASK, home=home)
    out: list[dict[str, Any]] = []
    for mid, name in mouzas:
        row: dict[str, Any] = {"mouza_id": mid, "mouza": name}
        pick = chosen.get(mid)
        try:
            tried = cards if pick is None else [
                read_card(pick.model_name, pick.model_version, home=home)
            ]  # fmt: skip
            row |= _choose(mid, pick, extents.get(mid), tried).as_json()
        except (NoModelForMouza, ModelNotFound) as exc:
            row |= {"name": None, "version": None, "how": "none", "detail": str(exc)}
        out.append(row)
    return out


def assign_model(
    engine: Engine,
    *,
    mouza: int | str,
    model: str,
    note: str = "",
    actor: Actor,
    home: Path,
) -> tuple[ModelChoice, Any]:
    """Stores ``model`` (``NAME`` or ``NAME:VERSION``; without a version the newest serves)
    as the crop model of ``mouza``; returns the new choice and the replaced row (or None).

    Raises:
        AccessDenied: the actor may not choose models (``models.assign``).
        ModelNotFound: no such model or version.
        LandgovError: the model is not a crop-type model.
    """
    from landgov.security import authorize, bind
    from landgov.storage import audit
    from landgov.storage import model_choice as store
    from landgov.storage.lookup import resolve_mouza
    from models.registry import read_card

    name, _, version = model.partition(":")
    card = read_card(name, version or None, home=home)  # refuses an unknown model before any write
    if not card.task.startswith(CROP_TASK):
        raise LandgovError(f"model {name!r} is a {card.task!r} model, not a crop-type model")
    with engine.begin() as conn:
        bind(conn, actor)
        authorize(conn, actor, "models.assign")
        mouza_id = resolve_mouza(conn, mouza)
        before = store.upsert(conn, mouza_id=mouza_id, task="crops", model_name=name,
                              model_version=version or None, note=note,
                              set_by=actor.label)  # fmt: skip
        audit.append(conn, actor=actor.label, action="assign model", entity="mouza",
                     entity_id=str(mouza_id),
                     details={"task": "crops", "model": model, "note": note,
                              "replaced": before.as_json() if before else None})  # fmt: skip
    return choose_crop_model(engine, mouza_id, home=home), before


def unassign_model(engine: Engine, *, mouza: int | str, actor: Actor) -> Any:
    """Removes the mouza's stored choice (it falls back to coverage); returns the removed
    row or None when there was none (nothing is written then)."""
    from landgov.security import authorize, bind
    from landgov.storage import audit
    from landgov.storage import model_choice as store
    from landgov.storage.lookup import resolve_mouza

    with engine.begin() as conn:
        bind(conn, actor)
        authorize(conn, actor, "models.assign")
        mouza_id = resolve_mouza(conn, mouza)
        before = store.delete(conn, mouza_id=mouza_id, task="crops")
        if before is not None:
            audit.append(conn, actor=actor.label, action="unassign model", entity="mouza",
                         entity_id=str(mouza_id),
                         details={"task": "crops", "removed": before.as_json()})  # fmt: skip
    return before
