"""Crop type and yield per parcel for a mouza and season, from stored zonal series.

Reads the parcels' stored index series (``parcel_zonal``, filled by ``landgov imagery
batch``), builds season features, runs the registered crop model and then the yield model
on the crop the model sees (not the girdawari entry: a misreported crop would otherwise get
the wrong yield model), compares with the girdawari, and stores both as runs that replace
an earlier run with the same inputs. Parcels with too few clear observations get a reason
instead of a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, text

from landgov.errors import LandgovError

if TYPE_CHECKING:
    from landgov.security import Actor

CROP_MODEL = "crop-type-tcnn"
YIELD_MODEL = "yield-ridge"


@dataclass
class CropYieldReport:
    mouza_id: int
    season: str
    crop_run_id: int
    yield_run_id: int
    parcels: int
    disagreements: int
    no_imagery: int
    flagged_yields: int
    models: dict[str, str] = field(default_factory=dict)
    reused: bool = False

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def predict_mouza(
    engine: Engine,
    *,
    mouza: int | str,
    season: str,
    home: Any,
    crop_model: tuple[str, str | None] = (CROP_MODEL, None),
    yield_model: tuple[str, str | None] = (YIELD_MODEL, None),
    force: bool = False,
    actor: Actor,
) -> tuple[CropYieldReport, pd.DataFrame | None]:
    """Predict and store crops and yields of ``mouza`` for ``season`` ("rabi 2025-26").

    When both runs for these inputs are stored and the stored series has not changed
    since (no newer zonal rows), the stored report is returned with no table, unless
    ``force``. ``actor`` must hold ``models.write`` (the models or demo service); the
    storing transaction is bound to it and its audit row names it.

    Raises:
        AccessDenied: the actor may not store predictions.
    """
    from imagery.series import mouza_khasras, read_series, resolve_mouza
    from landgov.security import authorize, bind
    from landgov.storage import audit
    from landgov.storage import detections as store
    from landgov.storage.bulk import copy_rows
    from models.features import features_from_datasets, parse_season
    from models.registry import load_model, read_card

    with engine.connect() as conn:
        authorize(conn, actor, "models.write")  # refuse before the work
    kind, year = parse_season(season)
    # cards only (no torch) until we know the stored runs are not up to date
    ccard = read_card(crop_model[0], crop_model[1], home=home)
    ycard = read_card(yield_model[0], yield_model[1], home=home)
    from datetime import date

    from imagery.synthetic import season_window

    # the parcels as they stood at the season's end: later partitions had no crop then
    as_of = min(season_window(kind, year)[1], date.today())
    with engine.connect() as conn:
        mouza_id = resolve_mouza(conn, mouza)
        parcels = mouza_khasras(conn, mouza_id, as_of)
    if parcels.empty:
        raise LandgovError(f"mouza {mouza!r} has no live khasras")
    key = f"mouza={mouza_id};season={season}"
    ckey = f"{key};model={ccard.name}:{ccard.version}"
    ykey = f"{key};model={ycard.name}:{ycard.version};crops={ccard.version}"
    if not force:
        with engine.connect() as conn:
            runs = [store.find_run(conn, k, r) for k, r in (("crops", ckey), ("yield", ykey))]
            newest = conn.execute(
                text("SELECT max(computed_at) FROM parcel_zonal WHERE khasra_id = ANY(:ids)"),
                {"ids": [int(k) for k in parcels["khasra_id"]]},
            ).scalar_one()
        crun, yrun = runs
        if (
            crun
            and yrun
            and newest is not None
            and min(crun["created_at"], yrun["created_at"]) > newest
        ):
            known = set(CropYieldReport.__dataclass_fields__)
            summary = {k: v for k, v in crun["summary"].items() if k in known}
            return CropYieldReport(**(summary | {"reused": True})), None
    from models.crops import build_crop_model, predict_crops
    from models.yields import build_yield_model, predict_yield

    ct, ccard = load_model(ccard.name, ccard.version, home=home)
    yt, ycard = load_model(ycard.name, ycard.version, home=home)
    cmodel = build_crop_model(ccard.hyperparameters, ct)
    ymodel = build_yield_model(ycard.hyperparameters, yt)
    indices = list(dict.fromkeys([*cmodel.indices, *ymodel.indices]))  # the models' order
    dsets = {ix: read_series(engine, parcels, index=ix) for ix in indices}
    empty = [ix for ix, ds in dsets.items() if ds.sizes.get("time", 0) == 0]
    if empty:
        raise LandgovError(
            f"no stored {', '.join(empty)} series for mouza {mouza!r}: run"
            f" 'landgov imagery batch --mouza {mouza_id}"
            + "".join(f" --index {ix}" for ix in empty)
            + "'"
        )
    x = features_from_datasets(dsets, [season])
    from landgov.storage.read import girdawari_crops

    ids = [int(k) for k in x.frame()["khasra_id"]]
    with engine.connect() as conn:
        gird = girdawari_crops(conn, ids, kind, year)
    gird["season"] = season
    crops = predict_crops(cmodel, x, gird)
    yields = predict_yield(ymodel, x, crops)
    table = crops.merge(yields[["khasra_id", "yield_t_ha", "lue_t_ha", "clamped", "flag"]],
                        on="khasra_id", how="left")  # fmt: skip

    def num(v: Any) -> float | None:
        return None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v)

    def txt(v: Any) -> str | None:
        return v if isinstance(v, str) and v else None

    with engine.begin() as conn:
        bind(conn, actor)
        authorize(conn, actor, "models.write")
        crun = store.replace_run(
            conn, kind="crops", mouza_id=mouza_id,
            run_key=ckey, model_name=ccard.name,
            model_version=ccard.version, params={"season": season},
        )  # fmt: skip
        yrun = store.replace_run(
            conn, kind="yield", mouza_id=mouza_id,
            run_key=ykey, model_name=ycard.name, model_version=ycard.version,
            params={"season": season, "crop_model": f"{ccard.name}:{ccard.version}"},
        )  # fmt: skip
        copy_rows(
            conn, "crop_prediction",
            ("run_id", "khasra_id", "season", "year", "crop", "probability", "girdawari_crop",
             "girdawari_probability", "disagrees", "clear_observations", "reason"),
            ((crun, int(r.khasra_id), kind, year, txt(r.crop), num(r.probability),
              txt(r.girdawari_crop), num(r.girdawari_probability), bool(r.disagrees),
              int(r.n_valid), txt(r.reason)) for r in table.itertuples(index=False)),
        )  # fmt: skip
        copy_rows(
            conn, "yield_prediction",
            ("run_id", "khasra_id", "season", "year", "crop", "yield_t_ha", "lue_t_ha",
             "clamped", "flag"),
            ((yrun, int(r.khasra_id), kind, year, txt(r.crop), num(r.yield_t_ha),
              num(r.lue_t_ha), bool(r.clamped), txt(r.flag))
             for r in table.itertuples(index=False)),
        )  # fmt: skip
        report = CropYieldReport(
            mouza_id, season, crun, yrun, len(table), int(table["disagrees"].sum()),
            int(table["crop"].isna().sum()), int(table["flag"].map(bool).sum()),
            {"crops": f"{ccard.name}:{ccard.version}", "yield": f"{ycard.name}:{ycard.version}"},
        )  # fmt: skip
        store.set_summary(conn, crun, report.as_json())
        store.set_summary(conn, yrun, report.as_json())
        audit.append(conn, actor=actor.label, action="predict crops and yields",
                     entity="detection_run", entity_id=str(crun),
                     details={"mouza_id": mouza_id, "season": season, "yield_run": yrun,
                              "parcels": report.parcels, "models": report.models})  # fmt: skip
    return report, table
