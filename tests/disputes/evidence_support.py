"""A planted encroachment with its image chips, for the tests of how a case shows its
evidence (tests/disputes and tests/app import it)."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from PIL import Image, ImageDraw
from shapely.geometry import box
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.storage import detections as store

SEEN_ON = date(2026, 3, 1)


@dataclass(frozen=True)
class Planted:
    encroachment_id: int
    state_land_id: int
    before_chip: str  # relative to the home, as the detection job stores them
    after_chip: str


def _chip(path: Path, roof: bool) -> None:
    """A 64 px field, with a grey roof in the middle when ``roof``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", (64, 64), (70, 120, 50))
    if roof:
        ImageDraw.Draw(image).rectangle((20, 20, 44, 44), fill=(150, 150, 160))
    image.save(path)


@contextmanager
def planted_encroachment(engine: Engine, home: Path, mouza_id: int = 1) -> Iterator[Planted]:
    """A detection run that found one new structure (about 17 m²) on the mouza's road
    right-of-way, its before/after chips written under ``home`` (removed afterwards).
    Scan afterwards to turn it into a flag and a case."""
    folder = Path("detections") / "encroachment" / f"test-{secrets.token_hex(4)}"
    before, after = folder / "chips" / "case_before.png", folder / "chips" / "case_after.png"
    _chip(home / before, roof=False)
    _chip(home / after, roof=True)
    try:
        with engine.begin() as conn:
            run = store.replace_run(conn, kind="encroachment", mouza_id=mouza_id,
                                    run_key=f"evidence-{folder.name}", model_name="u",
                                    model_version="v1", params={})  # fmt: skip
            road = conn.execute(
                text(
                    "SELECT id, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom))"
                    " FROM state_land WHERE mouza_id = :m AND category = 'road_row'"
                    " ORDER BY id LIMIT 1"
                ),
                {"m": mouza_id},
            ).one()
            x, y = float(road[1]), float(road[2])
            square = box(x - 2e-5, y - 2e-5, x + 2e-5, y + 2e-5)
            (case,) = store.write_encroachment_cases(
                conn, run, mouza_id, [store.Candidate(square.wkb, 0.95)], seen_on=SEEN_ON,
                before_scene_id=None, after_scene_id=None,
            )  # fmt: skip
            store.set_case_chips(conn, int(case["id"]), str(before), str(after))
        yield Planted(int(case["id"]), int(road[0]), str(before), str(after))
    finally:
        shutil.rmtree(home / folder, ignore_errors=True)
