"""Crop type per parcel and season from Sentinel-2 index time series.

Two models are compared by measurement (``docs/models_crops_yield.md``):

* ``tcnn`` — a small temporal CNN: 1-D convolutions over the 37-step season grid of
  :mod:`models.features` (channels = indices + an ``is_rabi`` channel), global average and
  max pooling, one linear layer. Convolutions share weights along time, so a crop whose
  sowing shifts by a week looks the same to them; pooling makes the head position-tolerant.
  Saved as tensors (safetensors) + JSON hyperparameters via :func:`hyperparameters` /
  :func:`build_crop_model`: this is the production model.
* ``hgb`` — the gradient-boosting peer (scikit-learn ``HistGradientBoostingClassifier``) on
  the summary features. Kept for comparison only: it has no tensor serialiser.

Classes are the union of both seasons' girdawari crops; for each row only the classes
possible in its season are allowed (wheat cannot be a kharif crop): the network's logits
for the others are masked to −∞ before the softmax, the peer's probabilities are
zeroed and renormalised.

Training labels are the girdawari entries (what exists in real life; ~3 % are wrong);
rows with too few clear observations are dropped from training and refused at prediction.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import torch
from torch import nn

from landgov.errors import LandgovError
from models.features import N_STEPS, SeasonFeatures

SEASON_CLASSES: Final = {
    "rabi": ("fallow", "fodder", "orchard", "sugarcane", "wheat"),
    "kharif": ("cotton", "fallow", "fodder", "orchard", "rice", "sugarcane"),
}
"""Girdawari crops of each season (sugarcane and orchards stand through both)."""
MIN_VALID_OBS: Final = 6
"""Clear observations needed (worst index) to classify a parcel-season: six over six
months leaves no gap much longer than a month, shorter than any crop's green-up."""

_NONE: Final = np.array(None, dtype=object)
"""``None`` as a 0-d object array: what ``np.where`` makes of a bare ``None`` anyway, in the
form numpy's stubs accept as an array."""


class CropModelError(LandgovError, ValueError):
    """Bad input to a crop model (unknown classes, mismatched features, unsaveable model)."""


@dataclass
class CropConfig:
    """Training settings. ``tiny()`` trains in about a second for CI."""

    kind: str = "tcnn"
    hidden: int = 32
    layers: int = 3
    kernel: int = 5
    dropout: float = 0.1
    epochs: int = 60
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-4
    noise: float = 0.02
    """Gaussian noise (in standardised units) added to training inputs: augmentation."""
    drop_max: float = 0.8
    """Observation-dropout augmentation: half of the training rows lose a random share
    (up to ``drop_max``) of their grid points, re-filled by linear interpolation, so the
    network also sees the flat, coarse curves of a cloudy season (0 disables)."""
    min_valid: int = MIN_VALID_OBS
    hgb_max_iter: int = 200
    hgb_learning_rate: float = 0.1

    @classmethod
    def tiny(cls, kind: str = "tcnn") -> CropConfig:
        return cls(kind=kind, hidden=16, layers=2, epochs=20, batch_size=16, lr=1e-2,
                   hgb_max_iter=30)  # fmt: skip


def _allowed(classes: Sequence[str], is_rabi: np.ndarray) -> np.ndarray:
    """[N, C] bool: class possible in the row's season."""
    rabi = np.array([c in SEASON_CLASSES["rabi"] for c in classes])
    kharif = np.array([c in SEASON_CLASSES["kharif"] for c in classes])
    return np.where(np.asarray(is_rabi, bool)[:, None], rabi[None, :], kharif[None, :])


class TemporalCNN(nn.Module):
    """Conv1d(k)→BatchNorm→ReLU blocks over time, avg+max pooling, linear classifier."""

    def __init__(
        self, n_in: int, n_classes: int, *, hidden: int, layers: int, kernel: int, dropout: float
    ) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        c = n_in
        for _ in range(layers):
            blocks += [
                nn.Conv1d(c, hidden, kernel, padding=kernel // 2),
                nn.BatchNorm1d(hidden),
                nn.ReLU(),
            ]
            c = hidden
        self.body = nn.Sequential(*blocks)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(2 * hidden, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h: torch.Tensor = self.body(x)
        logits: torch.Tensor = self.head(
            self.drop(torch.cat([h.mean(dim=2), h.amax(dim=2)], dim=1))
        )
        return logits


@dataclass
class CNNCropModel:
    """A trained temporal CNN with the settings needed to rebuild and apply it."""

    net: TemporalCNN
    classes: list[str]
    indices: list[str]
    mean: np.ndarray
    std: np.ndarray
    config: CropConfig
    kind: str = "tcnn"

    def proba(self, x: SeasonFeatures) -> np.ndarray:
        _check_indices(self.indices, x)
        inp = torch.from_numpy(_net_input(x, self.mean, self.std))
        allowed = torch.from_numpy(_allowed(self.classes, x.is_rabi))
        self.net.eval()
        out = []
        with torch.no_grad():
            for s in range(0, len(x), 8192):
                logits = self.net(inp[s : s + 8192]).masked_fill(~allowed[s : s + 8192], -1e9)
                out.append(torch.softmax(logits, dim=1))
        return torch.cat(out).numpy() if out else np.zeros((0, len(self.classes)))


@dataclass
class GBCropModel:
    """The gradient-boosting peer (summary features); not saveable as tensors."""

    clf: Any
    classes: list[str]
    indices: list[str]
    config: CropConfig
    kind: str = "hgb"
    feature_names: list[str] = field(default_factory=list)

    def proba(self, x: SeasonFeatures) -> np.ndarray:
        _check_indices(self.indices, x)
        p = np.zeros((len(x), len(self.classes)))
        if len(x):
            pk = self.clf.predict_proba(x.summary)
            for j, c in enumerate(self.clf.classes_):
                p[:, self.classes.index(c)] = pk[:, j]
        p *= _allowed(self.classes, x.is_rabi)
        scaled: np.ndarray = p / np.maximum(p.sum(axis=1, keepdims=True), 1e-12)
        return scaled


CropModel = CNNCropModel | GBCropModel


def _check_indices(indices: Sequence[str], x: SeasonFeatures) -> None:
    if list(x.indices) != list(indices):
        raise CropModelError(
            f"model was trained on indices {list(indices)}, features have {list(x.indices)}"
        )


def _net_input(x: SeasonFeatures, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """[N, I+1, T] float32: standardised series plus a constant is_rabi channel."""
    s = (x.series - mean[None, :, None]) / std[None, :, None]
    season = np.broadcast_to(x.is_rabi[:, None, None], (len(x), 1, s.shape[2]))
    return np.concatenate([s, season], axis=1).astype(np.float32)


def _label_codes(classes: Sequence[str], y: Collection[str]) -> np.ndarray:
    lookup = {c: i for i, c in enumerate(classes)}
    bad = sorted({str(v) for v in y if v not in lookup})
    if bad:
        raise CropModelError(f"unknown crop labels {bad}; known: {list(classes)}")
    return np.array([lookup[v] for v in y], dtype=np.int64)


def train_crop_model(
    x: SeasonFeatures, y: npt.ArrayLike, *, config: CropConfig | None = None, seed: int = 0
) -> tuple[CropModel, dict[str, Any]]:
    """Train a crop classifier on rows with enough clear observations.

    Deterministic for a seed: the network's initial weights, dropout and batch order come
    from seeded generators, and CPU kernels are deterministic.

    Args:
        x: features (rows = parcel-seasons).
        y: training labels per row (the girdawari crop).
        config: :class:`CropConfig`; ``kind`` picks ``"tcnn"`` or ``"hgb"``.
        seed: random seed.

    Returns:
        (model, report) — report: rows used/refused, class counts, training accuracy.
    """
    config = config or CropConfig()
    labels = np.asarray(y, dtype=object)
    if len(labels) != len(x):
        raise CropModelError(f"{len(x)} feature rows but {len(labels)} labels")
    classes = sorted(set(SEASON_CLASSES["rabi"]) | set(SEASON_CLASSES["kharif"]))
    codes = _label_codes(classes, labels)
    use = x.min_valid() >= config.min_valid
    if use.sum() < 2:
        raise CropModelError("fewer than two training rows with enough clear observations")
    xs, cs = x.subset(use), codes[use]
    report: dict[str, Any] = {
        "kind": config.kind,
        "rows": int(use.sum()),
        "refused_rows": int((~use).sum()),
        "class_counts": {
            classes[k]: int(v) for k, v in zip(*np.unique(cs, return_counts=True), strict=True)
        },
        "seed": seed,
    }
    if config.kind == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier

        clf = HistGradientBoostingClassifier(
            max_iter=config.hgb_max_iter, learning_rate=config.hgb_learning_rate,
            random_state=seed, early_stopping=False,
        )  # fmt: skip
        clf.fit(xs.summary, np.array(classes, dtype=object)[cs])
        model: CropModel = GBCropModel(clf, classes, list(x.indices), config,
                                       feature_names=list(x.summary_names))  # fmt: skip
    elif config.kind == "tcnn":
        model = _train_cnn(xs, cs, classes, config, seed, report)
    else:
        raise CropModelError(f"unknown crop model kind {config.kind!r} (use 'tcnn' or 'hgb')")
    pred = predict_proba(model, xs).argmax(axis=1)
    report["train_accuracy"] = float((pred == cs).mean())
    return model, report


def _drop_observations(xb: torch.Tensor, gen: torch.Generator, drop_max: float) -> torch.Tensor:
    """Remove random time steps of half the rows and re-fill them linearly in time (nearest
    value at the ends), the same gap filling :mod:`models.features` applies to clouds."""
    n, c, t = xb.shape
    share = torch.rand(n, 1, generator=gen) * drop_max
    share[torch.rand(n, generator=gen) < 0.5] = 0.0
    keep = torch.rand(n, t, generator=gen) >= share
    keep[torch.arange(n), torch.randint(0, t, (n,), generator=gen)] = True  # at least one
    pos = torch.arange(t).expand(n, t)
    prev = torch.where(keep, pos, -1).cummax(dim=1).values
    nxt = torch.where(keep, pos, t).flip(1).cummin(dim=1).values.flip(1)
    prev_ok, next_ok = prev >= 0, nxt < t
    p_i, n_i = torch.where(prev_ok, prev, nxt), torch.where(next_ok, nxt, prev)
    span = (n_i - p_i).clamp_min(1).float()
    w = torch.where(n_i > p_i, (pos - p_i).float() / span, torch.zeros(n, t))
    a = xb.gather(2, p_i[:, None, :].expand(n, c, t))
    b = xb.gather(2, n_i[:, None, :].expand(n, c, t))
    return a + (b - a) * w[:, None, :]


def _train_cnn(
    x: SeasonFeatures,
    codes: np.ndarray,
    classes: list[str],
    config: CropConfig,
    seed: int,
    report: dict[str, Any],
) -> CNNCropModel:
    mean = x.series.mean(axis=(0, 2)).astype(np.float64)
    std = np.maximum(x.series.std(axis=(0, 2)), 1e-3).astype(np.float64)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = TemporalCNN(
        len(x.indices) + 1, len(classes), hidden=config.hidden, layers=config.layers,
        kernel=config.kernel, dropout=config.dropout,
    )  # fmt: skip
    inp = torch.from_numpy(_net_input(x, mean, std))
    target = torch.from_numpy(codes)
    allowed = torch.from_numpy(_allowed(classes, x.is_rabi))
    # inverse-sqrt class frequency: rare crops (cotton) count more, without overfitting them
    counts = np.bincount(codes, minlength=len(classes)).astype(np.float64)
    weight = torch.tensor(np.where(counts > 0, 1.0 / np.sqrt(np.maximum(counts, 1)), 0.0),
                          dtype=torch.float32)  # fmt: skip
    weight = weight / weight[counts > 0].mean()
    loss_fn = nn.CrossEntropyLoss(weight=weight)
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(config.epochs, 1))
    n = len(x)
    losses = []
    for _ in range(config.epochs):
        net.train()
        perm = torch.randperm(n, generator=gen)
        total = 0.0
        for s in range(0, n, config.batch_size):
            idx = perm[s : s + config.batch_size]
            if idx.numel() < 2:  # BatchNorm needs two samples
                continue
            xb = inp[idx]
            if config.drop_max > 0:
                xb = _drop_observations(xb, gen, config.drop_max)
            if config.noise:
                noise = torch.randn(xb.shape, generator=gen) * config.noise
                noise[:, -1] = 0.0  # the season channel stays exact
                xb = xb + noise
            logits = net(xb).masked_fill(~allowed[idx], -1e9)
            loss = loss_fn(logits, target[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * idx.numel()
        sched.step()
        losses.append(total / n)
    report["final_loss"] = losses[-1] if losses else None
    report["epochs"] = config.epochs
    return CNNCropModel(net.eval(), classes, list(x.indices), mean, std, config)


def predict_proba(model: CropModel, x: SeasonFeatures) -> np.ndarray:
    """Class probabilities ``[N, C]`` (columns = ``model.classes``), season-masked."""
    return model.proba(x)


def predict_crops(
    model: CropModel,
    x: SeasonFeatures,
    girdawari: pd.DataFrame | Sequence[str] | None = None,
    *,
    min_valid: int | None = None,
) -> pd.DataFrame:
    """Crop per parcel-season, with disagreement flags against the girdawari.

    Args:
        model: a trained or rebuilt crop model.
        x: features.
        girdawari: the recorded crop per row — a sequence aligned with ``x`` or a DataFrame
            with khasra_id, season, girdawari_crop; None for no comparison.
        min_valid: clear observations needed (default: the model's training setting); rows
            below get crop None, probability NaN and ``reason``.

    Returns:
        DataFrame(khasra_id, season, crop, probability, girdawari_crop, disagrees,
        girdawari_probability, n_valid, reason). ``disagrees`` is True where the model's
        crop differs from the girdawari entry; ``probability`` is the model's probability
        of its crop, ``girdawari_probability`` that of the recorded crop (low = suspect).
    """
    need = model.config.min_valid if min_valid is None else min_valid
    p = predict_proba(model, x)
    out = x.frame()
    k = p.argmax(axis=1) if len(x) else np.zeros(0, dtype=int)
    ok = x.min_valid() >= need
    out["crop"] = np.where(ok, np.array(model.classes, dtype=object)[k], _NONE)
    out["probability"] = np.where(ok, p[np.arange(len(x)), k], np.nan)
    if girdawari is None:
        out["girdawari_crop"] = None
    elif isinstance(girdawari, pd.DataFrame):
        g = girdawari[["khasra_id", "season", "girdawari_crop"]].drop_duplicates(
            ["khasra_id", "season"]
        )
        out = out.merge(g, on=["khasra_id", "season"], how="left")
    else:
        if len(girdawari) != len(x):
            raise CropModelError(f"{len(x)} feature rows but {len(girdawari)} girdawari entries")
        out["girdawari_crop"] = list(girdawari)
    gcrop = out["girdawari_crop"].to_numpy(dtype=object)
    known = np.array([isinstance(g, str) and g in model.classes for g in gcrop], dtype=bool)
    gp = np.full(len(x), np.nan)
    if known.any():
        gi = np.array([model.classes.index(g) for g in gcrop[known]])
        gp[known] = p[np.flatnonzero(known), gi]
    out["disagrees"] = ok & known & (out["crop"].to_numpy(dtype=object) != gcrop)
    out["girdawari_probability"] = np.where(ok, gp, np.nan)
    out["n_valid"] = x.min_valid()
    out["reason"] = np.where(ok, _NONE, f"not enough clear imagery (< {need} clear observations)")
    return out


def evaluate_crops(pred: pd.DataFrame, truth: pd.DataFrame) -> dict[str, Any]:
    """Accuracy of :func:`predict_crops` output against ``truth`` (khasra_id, season, crop,
    girdawari_crop): overall accuracy and per-class F1 against both the girdawari entry and
    the crop actually grown, the confusion matrix (rows = grown, columns = predicted) and the
    precision/recall of the disagreement flags as detectors of misreported entries."""
    from sklearn.metrics import confusion_matrix, f1_score

    t = truth[["khasra_id", "season", "crop", "girdawari_crop"]].rename(
        columns={"crop": "true_crop", "girdawari_crop": "recorded"}
    )
    m = pred.merge(t, on=["khasra_id", "season"], how="inner")
    refused = int(m["crop"].isna().sum())
    m = m[m["crop"].notna()]
    labels = sorted(set(m["true_crop"]) | set(m["crop"]) | set(m["recorded"]))
    res: dict[str, Any] = {"rows": len(m), "refused": refused}
    for name, col in (("girdawari", "recorded"), ("truth", "true_crop")):
        res[f"oa_vs_{name}"] = float((m["crop"] == m[col]).mean()) if len(m) else float("nan")
        f1 = f1_score(m[col], m["crop"], labels=labels, average=None, zero_division=0)
        res[f"f1_vs_{name}"] = {c: round(float(v), 4) for c, v in zip(labels, f1, strict=True)}
    res["confusion_labels"] = labels
    res["confusion_vs_truth"] = confusion_matrix(m["true_crop"], m["crop"], labels=labels).tolist()
    wrong = (m["true_crop"] != m["recorded"]).to_numpy()
    flag = (m["crop"] != m["recorded"]).to_numpy()
    tp = int((flag & wrong).sum())
    res["misreported"] = int(wrong.sum())
    res["flags"] = int(flag.sum())
    res["flag_precision"] = tp / flag.sum() if flag.sum() else float("nan")
    res["flag_recall"] = tp / wrong.sum() if wrong.sum() else float("nan")
    return res


# -- registry round trip ------------------------------------------------------------------


def hyperparameters(model: CropModel) -> dict[str, Any]:
    """JSON-able settings that, with :func:`crop_tensors`, rebuild the model."""
    if not isinstance(model, CNNCropModel):
        raise CropModelError(
            "only the temporal CNN can be saved (the gradient-boosting peer has no tensor form)"
        )
    return {
        "kind": "tcnn",
        "classes": list(model.classes),
        "indices": list(model.indices),
        "n_steps": N_STEPS,
        "config": asdict(model.config),
    }


def crop_tensors(model: CropModel) -> dict[str, torch.Tensor]:
    """Weights (incl. BatchNorm statistics) and input standardisation, for safetensors."""
    if not isinstance(model, CNNCropModel):
        raise CropModelError("only the temporal CNN can be saved as tensors")
    t = {f"net.{k}": v.detach().clone() for k, v in model.net.state_dict().items()}
    t["input_mean"] = torch.from_numpy(model.mean.copy())
    t["input_std"] = torch.from_numpy(model.std.copy())
    return t


def build_crop_model(
    hp: Mapping[str, Any], tensors: Mapping[str, torch.Tensor] | None = None
) -> CNNCropModel:
    """Rebuild a temporal CNN from :func:`hyperparameters` (and load ``tensors`` if given)."""
    if hp.get("kind") != "tcnn":
        raise CropModelError(f"cannot build crop model kind {hp.get('kind')!r}")
    known = set(CropConfig.__dataclass_fields__)
    cfg = CropConfig(**{k: v for k, v in dict(hp.get("config", {})).items() if k in known})
    classes, indices = list(hp["classes"]), list(hp["indices"])
    net = TemporalCNN(len(indices) + 1, len(classes), hidden=cfg.hidden, layers=cfg.layers,
                      kernel=cfg.kernel, dropout=cfg.dropout)  # fmt: skip
    mean, std = np.zeros(len(indices)), np.ones(len(indices))
    if tensors is not None:
        state = {k[4:]: v for k, v in tensors.items() if k.startswith("net.")}
        try:
            net.load_state_dict(state)
        except RuntimeError as exc:
            raise CropModelError(f"tensors do not fit the hyperparameters: {exc}") from exc
        mean = tensors["input_mean"].double().numpy()
        std = tensors["input_std"].double().numpy()
    return CNNCropModel(net.eval(), classes, indices, mean, std, cfg)
