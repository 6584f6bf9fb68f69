"""Crop type and yield per parcel for a mouza and season, from stored zonal series.

Reads the parcels' stored index series (``parcel_zonal``, filled by ``landgov imagery
batch``), runs the crop model serving the mouza (:mod:`landgov.jobs.model_choice`: the
stored choice, else the card that covers it) and then the yield model on the crop the model
sees (not the girdawari entry: a misreported crop would otherwise get the wrong yield
model), compares with the girdawari, and stores both as runs that replace an earlier run
with the same inputs. Parcels with too few clear observations get a reason instead of a
guess.

Two kinds of crop model serve: a *season* model (``tcnn``: the season's 5-day grid) and a
*year* model (``series-tcnn``: the calendar year of the girdawari year on the model's own
grid, its year label turned into the season's crop by :mod:`models.crops.seasons`). The
yield model needs its own indices; where they are not stored the yields are flagged, not
guessed.
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
    crop_model: tuple[str, str | None] | None = None,
    yield_model: tuple[str, str | None] = (YIELD_MODEL, None),
    force: bool = False,
    actor: Actor,
) -> tuple[CropYieldReport, pd.DataFrame | None]:
    """Predict and store crops and yields of ``mouza`` for ``season`` ("rabi 2025-26").

    ``crop_model`` (name, version) overrides the mouza's own choice
    (:func:`landgov.jobs.model_choice.choose_crop_model`). When both runs for these
    inputs are stored and the stored series has not changed
    since (no newer zonal rows), the stored report is returned with no table, unless
    ``force``. ``actor`` must hold ``models.write`` (the models or demo service); the
    storing transaction is bound to it and its audit row names it.

    Raises:
        AccessDenied: the actor may not store predictions.
        NoModelForMouza: no crop model is chosen for, or covers, the mouza.
    """
    from imagery.series import mouza_khasras
    from landgov.security import authorize, bind
    from landgov.storage import audit
    from landgov.storage import detections as store
    from landgov.storage.bulk import copy_rows
    from landgov.storage.lookup import resolve_mouza
    from models.features import features_from_datasets, parse_season
    from models.registry import load_model, read_card

    with engine.connect() as conn:
        authorize(conn, actor, "models.write")  # refuse before the work
    kind, year = parse_season(season)
    from datetime import date

    from landgov.domain.calendar import season_end
    from landgov.jobs.model_choice import choose_crop_model

    # the parcels as they stood at the season's end: later partitions had no crop then
    as_of = min(season_end(kind, year), date.today())
    with engine.connect() as conn:
        mouza_id = resolve_mouza(conn, mouza)
        parcels = mouza_khasras(conn, mouza_id, as_of)
    if crop_model is None:
        choice = choose_crop_model(engine, mouza_id, home=home)
        crop_model = (choice.name, choice.version)
    # cards only (no torch) until we know the stored runs are not up to date
    ccard = read_card(crop_model[0], crop_model[1], home=home)
    ycard = read_card(yield_model[0], yield_model[1], home=home)
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
        stored_crops, stored_yield = runs
        if (
            stored_crops
            and stored_yield
            and newest is not None
            and min(stored_crops["created_at"], stored_yield["created_at"]) > newest
        ):
            known = set(CropYieldReport.__dataclass_fields__)
            summary = {k: v for k, v in stored_crops["summary"].items() if k in known}
            return CropYieldReport(**(summary | {"reused": True})), None
    from landgov.storage.read import girdawari_crops
    from models.crops import build_crop_model, build_series_model, predict_crops
    from models.crops.seasons import predict_season_crops
    from models.crops.series_model import KIND as YEAR_MODEL
    from models.yields import build_yield_model, predict_yield

    ct, ccard = load_model(ccard.name, ccard.version, home=home)
    yt, ycard = load_model(ycard.name, ycard.version, home=home)
    ymodel = build_yield_model(ycard.hyperparameters, yt)
    ids = [int(k) for k in parcels["khasra_id"]]
    with engine.connect() as conn:
        gird = girdawari_crops(conn, ids, kind, year)
    gird["season"] = season
    if ccard.hyperparameters.get("kind") == YEAR_MODEL:
        smodel = build_series_model(ccard.hyperparameters, ct)
        series, unseen = _year_series(engine, parcels, smodel, year)
        if unseen:
            # nothing in the year: refuse only if nothing is stored at all (the rare path,
            # so the whole-series read is paid only here)
            _need(engine, parcels, unseen, mouza, mouza_id)
        crops = predict_season_crops(smodel, series, kind, gird).assign(season=season)
        yields = _yields(engine, parcels, ymodel, season, crops)
    else:
        cmodel = build_crop_model(ccard.hyperparameters, ct)
        indices = list(dict.fromkeys([*cmodel.indices, *ymodel.indices]))  # the models' order
        dsets = _need(engine, parcels, indices, mouza, mouza_id)
        x = features_from_datasets(dsets, [season])
        crops = predict_crops(cmodel, x, gird).assign(model_class=None)
        yields = predict_yield(ymodel, x, crops)
    table = crops.merge(yields[["khasra_id", "yield_t_ha", "lue_t_ha", "clamped", "flag"]],
                        on="khasra_id", how="left")  # fmt: skip

    def num(v: Any) -> float | None:
        return None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v)

    def txt(v: Any) -> str | None:
        return v if isinstance(v, str) and v else None

    # the cells of itertuples() are typed as any pandas scalar (NA included); these columns
    # hold no NA, and int() raises if one ever does
    def whole(v: Any) -> int:
        return int(v)

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
             "girdawari_probability", "disagrees", "clear_observations", "reason",
             "model_class"),
            ((crun, whole(r.khasra_id), kind, year, txt(r.crop), num(r.probability),
              txt(r.girdawari_crop), num(r.girdawari_probability), bool(r.disagrees),
              whole(r.n_valid), txt(r.reason), txt(r.model_class))
             for r in table.itertuples(index=False)),
        )  # fmt: skip
        copy_rows(
            conn, "yield_prediction",
            ("run_id", "khasra_id", "season", "year", "crop", "yield_t_ha", "lue_t_ha",
             "clamped", "flag"),
            ((yrun, whole(r.khasra_id), kind, year, txt(r.crop), num(r.yield_t_ha),
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


def _need(
    engine: Engine, parcels: pd.DataFrame, indices: list[str], mouza: int | str, mouza_id: int
) -> dict[str, Any]:
    """The stored series of ``indices``; refuses, naming the command, if one is missing."""
    from imagery.series import read_series

    dsets = {ix: read_series(engine, parcels, index=ix) for ix in indices}
    empty = [ix for ix, ds in dsets.items() if ds.sizes.get("time", 0) == 0]
    if empty:
        raise LandgovError(
            f"no stored {', '.join(empty)} series for mouza {mouza!r}: run"
            f" 'landgov imagery batch --mouza {mouza_id}"
            + "".join(f" --index {ix}" for ix in empty)
            + "'"
        )
    return dsets


def _year_series(
    engine: Engine, parcels: pd.DataFrame, model: Any, year: int
) -> tuple[Any, list[str]]:
    """The parcels' stored series of the calendar ``year`` on the year model's grid.

    The same mask as the season features (:data:`models.features.MIN_VALID_FRACTION`: a
    scene counts for a parcel only if at least half its pixels were clear), then the grid's
    own gap rule (:func:`models.crops.grid.to_grid`).

    Returns:
        The gridded series and the model's indices with no stored date in the year, so the
        caller can tell "not observed this year" (fields get reasons) from "never run"
        (refused) without reading the series a second time.
    """
    from datetime import timedelta

    from imagery.series import read_series
    from models.crops.grid import to_grid
    from models.features import MIN_VALID_FRACTION

    start = model.grid.origin(year)
    end = start + timedelta(days=model.grid.step_days * model.grid.n_steps - 1)
    long = None
    unseen: list[str] = []
    for ix in model.indices:
        ds = read_series(engine, parcels, index=ix, start=start, end=end)
        if ds.sizes.get("time", 0) == 0:
            unseen.append(ix)
        frame = pd.DataFrame({
            "field_id": np.repeat(ds["khasra_id"].to_numpy(), ds.sizes["time"]),
            "date": np.tile(ds["time"].to_numpy(), ds.sizes["parcel"]),
            ix: ds["mean"].to_numpy().ravel(),
        })  # fmt: skip
        clear = ds["valid_fraction"].to_numpy().ravel() >= MIN_VALID_FRACTION
        frame.loc[~clear, ix] = np.nan
        long = frame if long is None else long.merge(frame, on=["field_id", "date"], how="outer")
    ids = parcels["khasra_id"].astype(np.int64)
    assert long is not None
    grid = to_grid(long, pd.Series(year, index=ids.to_numpy()), model.indices, model.grid,
                   source="stored series")  # fmt: skip
    return grid, unseen


def _yields(
    engine: Engine, parcels: pd.DataFrame, ymodel: Any, season: str, crops: pd.DataFrame
) -> pd.DataFrame:
    """Yields of the crops a year model found, where the yield model's series are stored;
    otherwise every row is flagged with what is missing (never a guessed yield)."""
    from imagery.series import read_series
    from models.features import features_from_datasets
    from models.yields import predict_yield

    dsets = {ix: read_series(engine, parcels, index=ix) for ix in ymodel.indices}
    empty = [ix for ix, ds in dsets.items() if ds.sizes.get("time", 0) == 0]
    if empty:
        return pd.DataFrame({
            "khasra_id": crops["khasra_id"], "yield_t_ha": np.nan, "lue_t_ha": np.nan,
            "clamped": False,
            "flag": f"no yield: no stored {', '.join(empty)} series for the yield model",
        })  # fmt: skip
    x = features_from_datasets(dsets, [season])
    aligned = x.frame()[["khasra_id"]].merge(crops[["khasra_id", "crop"]], on="khasra_id",
                                             how="left")  # fmt: skip
    return predict_yield(ymodel, x, aligned)
