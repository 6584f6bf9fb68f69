"""Crop type of a field from its index series on the model's own grid (real-data model).

The season model (:mod:`models.crops.model`) classifies a parcel-season of the project's
Sentinel-2 series on a 5-day rabi/kharif grid. This one takes what real surveys and
vendors deliver: one series per field of any index at any cadence, brought onto the
model's :class:`~models.crops.grid.TimeGrid` (default: the calendar year in 16-day
periods), and a label per field for the whole year, double crops included (``wheat-rice``:
wheat, then rice, on the same field in one year — the rabi–kharif rotation of Punjab).

Model (``series-tcnn``): for every index two input channels, the standardised gap-filled
composite and the 0/1 ``observed`` mask (see :mod:`models.crops.grid`: the network must
know an interpolated spring from a measured one); 1-D convolutions + BatchNorm + ReLU over
time, global average and max pooling, dropout, one linear layer. Weights are shared along
time and pooling forgets position, so a crop sown a period earlier looks the same.
Training augmentations, each measured (``docs/models_crops_yield.md``): a random shift of
the whole series by up to ``shift`` periods (sowing dates move between years and regions),
observation dropout (half the rows lose a random share, up to ``drop_max``, of their
observed periods, re-filled by the grid's own gap rule, so clear-sky training fields teach
cloudy-year behaviour), Gaussian noise. An ensemble of ``members`` networks from different
seeds is averaged (their probabilities); it is stored as one tensor file.

Rare classes are handled deliberately, in two steps recorded on the card: classes named in
``merge`` are folded into another (vineyard → orchard: both perennial woody canopies,
green all year, and one ``bagh`` class in the girdawari), then classes with fewer than
``min_class_fields`` training fields go to ``other`` (carrots, 3 fields, cannot be learnt
and would only add noise); the loss weighs each class by ``count^-class_weight_power``
(0.5: inverse square root), so rare crops count more without being over-fitted.

The gradient-boosting baseline (:func:`train_gb_baseline`) sees the same grid: the
composites as they are (NaN where unobserved, which it routes natively) and nothing
interpolated; it is trained and scored in the same run, never saved.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Final

import numpy as np
import torch
from torch import nn

from models.crops.grid import MIN_OBSERVED, GriddedSeries, TimeGrid, fill_gaps
from models.crops.model import CropModelError, TemporalCNN

__all__ = [
    "OTHER",
    "GBSeriesBaseline",
    "SeriesConfig",
    "SeriesCropModel",
    "build_series_model",
    "group_labels",
    "series_hyperparameters",
    "series_tensors",
    "train_gb_baseline",
    "train_series_model",
]

OTHER = "other"
KIND = "series-tcnn"

_NONE: Final = np.array(None, dtype=object)
"""``None`` as a 0-d object array: what ``np.where`` makes of a bare ``None`` anyway, in the
form numpy's stubs accept as an array."""


@dataclass
class SeriesConfig:
    """Training settings of the series model. ``tiny()`` trains in seconds for CI."""

    hidden: int = 64
    layers: int = 4
    kernel: int = 5
    dropout: float = 0.2
    epochs: int = 100
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-3
    label_smoothing: float = 0.05
    noise: float = 0.05
    shift: int = 1
    drop_max: float = 0.5
    class_weight_power: float = 0.5
    members: int = 1
    min_observed: int = MIN_OBSERVED
    min_class_fields: int = 30
    merge: dict[str, str] = field(default_factory=lambda: {"vineyard": "orchard"})
    hgb_max_iter: int = 300
    hgb_learning_rate: float = 0.1

    @classmethod
    def tiny(cls) -> SeriesConfig:
        return cls(hidden=16, layers=2, epochs=8, batch_size=32, lr=1e-2, members=1,
                   min_class_fields=5, hgb_max_iter=20)  # fmt: skip


def group_labels(
    labels: Sequence[str], *, merge: Mapping[str, str], min_class_fields: int
) -> tuple[list[str], dict[str, str]]:
    """Labels after folding ``merge`` and sending classes with too few fields to ``other``.

    Returns:
        (grouped labels, mapping from every original label to its class).
    """
    merged = [merge.get(str(v), str(v)) for v in labels]
    counts = Counter(merged)
    keep = {c for c, n in counts.items() if n >= min_class_fields}
    mapping = {}
    for v in set(map(str, labels)):
        m = merge.get(v, v)
        mapping[v] = m if m in keep else OTHER
    return [mapping[str(v)] for v in labels], dict(sorted(mapping.items()))


class _Ensemble(nn.Module):
    """``members`` temporal CNNs whose softmax outputs are averaged."""

    def __init__(self, n_in: int, n_classes: int, config: SeriesConfig) -> None:
        super().__init__()
        self.members = nn.ModuleList(
            TemporalCNN(
                n_in,
                n_classes,
                hidden=config.hidden,
                layers=config.layers,
                kernel=config.kernel,
                dropout=config.dropout,
            )
            for _ in range(max(config.members, 1))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([torch.softmax(m(x), dim=1) for m in self.members]).mean(dim=0)


def _standardised(values: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    # indexing with None is typed Any by numpy's stubs
    z: np.ndarray = (values - mean[None, :, None]) / std[None, :, None]
    return z


def _channels(raw: np.ndarray) -> np.ndarray:
    """``[N, I, T]`` standardised composites (NaN unobserved) → ``[N, 2I, T]`` float32:
    per index the gap-filled value then the observed mask."""
    obs = np.isfinite(raw)
    filled = fill_gaps(raw)
    n, i, t = raw.shape
    out = np.empty((n, 2 * i, t), dtype=np.float32)
    out[:, 0::2] = filled
    out[:, 1::2] = obs
    return out


@dataclass
class SeriesCropModel:
    """A trained series model with what it needs to rebuild and apply itself."""

    net: _Ensemble
    classes: list[str]
    indices: list[str]
    grid: TimeGrid
    mean: np.ndarray
    std: np.ndarray
    config: SeriesConfig
    class_map: dict[str, str]
    kind: str = KIND

    def proba(self, x: GriddedSeries) -> np.ndarray:
        """``[N, C]`` class probabilities (columns = ``classes``)."""
        _check(self.indices, self.grid, x)
        inp = torch.from_numpy(_channels(_standardised(x.values, self.mean, self.std)))
        self.net.eval()
        with torch.no_grad():
            parts = [self.net(inp[s : s + 8192]) for s in range(0, len(x), 8192)]
        return torch.cat(parts).numpy() if parts else np.zeros((0, len(self.classes)))

    def predict(self, x: GriddedSeries) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(class or None, its probability or NaN, reason or None) per row; rows with too
        few observed periods are refused."""
        return _predict(self, x)


@dataclass
class GBSeriesBaseline:
    """Gradient boosting on the flattened composites (NaN = unobserved); not saveable."""

    clf: Any
    classes: list[str]
    indices: list[str]
    grid: TimeGrid
    config: SeriesConfig
    kind: str = "hgb"

    def proba(self, x: GriddedSeries) -> np.ndarray:
        _check(self.indices, self.grid, x)
        p = np.zeros((len(x), len(self.classes)))
        if len(x):
            pk = self.clf.predict_proba(x.values.reshape(len(x), -1))
            for j, c in enumerate(self.clf.classes_):
                p[:, self.classes.index(c)] = pk[:, j]
        return p

    def predict(self, x: GriddedSeries) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return _predict(self, x)


def _predict(
    model: SeriesCropModel | GBSeriesBaseline, x: GriddedSeries
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    p = model.proba(x)
    ok = x.enough(model.config.min_observed)
    k = p.argmax(axis=1) if len(x) else np.zeros(0, dtype=int)
    crop = np.where(ok, np.array(model.classes, dtype=object)[k], _NONE)
    prob = np.where(ok, p[np.arange(len(x)), k], np.nan)
    reason = np.where(
        ok, _NONE,
        f"too few observed periods (< {model.config.min_observed} of {x.grid.n_steps})",
    )  # fmt: skip
    return crop, prob, reason


def _check(indices: Sequence[str], grid: TimeGrid, x: GriddedSeries) -> None:
    if list(x.indices) != list(indices):
        raise CropModelError(f"model needs indices {list(indices)}, series has {x.indices}")
    if x.grid != grid:
        raise CropModelError(f"series is on grid {x.grid}, the model's grid is {grid}")


def _usable(x: GriddedSeries, labels: Sequence[str], config: SeriesConfig) -> np.ndarray:
    if len(labels) != len(x):
        raise CropModelError(f"{len(x)} series rows but {len(labels)} labels")
    use = x.enough(config.min_observed)
    if use.sum() < 2:
        raise CropModelError("fewer than two fields with enough observed periods to train on")
    return use


def train_series_model(
    x: GriddedSeries,
    labels: Sequence[str],
    *,
    config: SeriesConfig | None = None,
    seed: int = 0,
    device: str | None = None,
) -> tuple[SeriesCropModel, dict[str, Any]]:
    """Train the series model on the fields with enough observed periods.

    Deterministic for a seed on the CPU. Labels are the surveyed ones; they are grouped by
    :func:`group_labels` first (the mapping goes on the card).

    Returns:
        (model, report): fields used/refused, class counts, final loss per member.
    """
    config = config or SeriesConfig()
    use = _usable(x, labels, config)
    grouped, mapping = group_labels(np.asarray(labels, dtype=object)[use].tolist(),
                                    merge=config.merge,
                                    min_class_fields=config.min_class_fields)  # fmt: skip
    classes = sorted(set(grouped))
    xs = x.subset(use)
    codes = np.array([classes.index(c) for c in grouped], dtype=np.int64)
    mean = np.nanmean(xs.values, axis=(0, 2)).astype(np.float64)
    std = np.maximum(np.nanstd(xs.values, axis=(0, 2)), 1e-3).astype(np.float64)
    raw = _standardised(xs.values, mean, std).astype(np.float32)
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    net = _Ensemble(2 * len(x.indices), len(classes), config)
    counts = np.bincount(codes, minlength=len(classes)).astype(np.float64)
    weight = torch.tensor(1.0 / np.maximum(counts, 1) ** config.class_weight_power,
                          dtype=torch.float32)  # fmt: skip
    weight = weight / weight.mean()
    losses = []
    for m in range(len(net.members)):
        torch.manual_seed(seed * 1009 + m)  # each member its own seeded start
        net.members[m] = TemporalCNN(2 * len(x.indices), len(classes), hidden=config.hidden,
                                     layers=config.layers, kernel=config.kernel,
                                     dropout=config.dropout)  # fmt: skip
        losses.append(_fit(net.members[m], raw, codes, weight, config, seed * 1009 + m, dev))
    model = SeriesCropModel(net.cpu().eval(), classes, list(x.indices), x.grid, mean, std,
                            config, mapping)  # fmt: skip
    report = {
        "kind": KIND,
        "fields": int(use.sum()),
        "refused_fields": int((~use).sum()),
        "class_counts": {c: int(n) for c, n in zip(classes, counts, strict=True)},
        "class_map": mapping,
        "final_loss": [round(v, 4) for v in losses],
        "seed": seed,
        "device": str(dev),
    }
    return model, report


def _fit(
    net: nn.Module,
    raw: np.ndarray,
    codes: np.ndarray,
    weight: torch.Tensor,
    config: SeriesConfig,
    seed: int,
    dev: torch.device,
) -> float:
    rng = np.random.default_rng(seed)
    net.to(dev).train()
    n = len(raw)
    steps = max(config.epochs, 1) * max(-(-n // config.batch_size), 1)
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.lr, total_steps=steps)
    loss_fn = nn.CrossEntropyLoss(weight=weight.to(dev), label_smoothing=config.label_smoothing)
    target = torch.from_numpy(codes)
    last = float("nan")
    for _ in range(config.epochs):
        perm = rng.permutation(n)
        total = 0.0
        for s in range(0, n, config.batch_size):
            idx = perm[s : s + config.batch_size]
            if len(idx) < 2:  # BatchNorm needs two samples
                continue
            xb = torch.from_numpy(_channels(_augment(raw[idx], rng, config))).to(dev)
            loss = loss_fn(net(xb), target[idx].to(dev))
            opt.zero_grad()
            loss.backward()
            opt.step()
            if sched.last_epoch + 1 < steps:
                sched.step()
            total += float(loss.detach()) * len(idx)
        last = total / n
    return last


def _augment(raw: np.ndarray, rng: np.random.Generator, config: SeriesConfig) -> np.ndarray:
    """Shift, observation dropout and noise on a batch of standardised composites."""
    b = raw.copy()
    n, _, t = b.shape
    if config.shift:
        sh = int(rng.integers(-config.shift, config.shift + 1))
        if sh:  # edge periods repeat their observed state, as a later/earlier season would
            idx = np.clip(np.arange(t) - sh, 0, t - 1)
            b = b[:, :, idx]
    if config.drop_max > 0:
        share = rng.random((n, 1)) * config.drop_max
        share[rng.random(n) < 0.5] = 0.0
        kill = rng.random((n, t)) < share
        obs = np.isfinite(b).any(axis=1)
        # never remove the last two observed periods of a row
        keep_min = obs.sum(axis=1) <= 2
        kill[keep_min] = False
        b[np.broadcast_to(kill[:, None, :], b.shape)] = np.nan
    if config.noise:
        b = b + rng.normal(0.0, config.noise, b.shape).astype(np.float32)
    return b


def train_gb_baseline(
    x: GriddedSeries, labels: Sequence[str], *, config: SeriesConfig | None = None, seed: int = 0
) -> tuple[GBSeriesBaseline, dict[str, Any]]:
    """The gradient-boosting peer on the same grid, the same fields and the same classes."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    config = config or SeriesConfig()
    use = _usable(x, labels, config)
    grouped, mapping = group_labels(np.asarray(labels, dtype=object)[use].tolist(),
                                    merge=config.merge,
                                    min_class_fields=config.min_class_fields)  # fmt: skip
    xs = x.subset(use)
    clf = HistGradientBoostingClassifier(max_iter=config.hgb_max_iter,
                                         learning_rate=config.hgb_learning_rate,
                                         random_state=seed, early_stopping=False)  # fmt: skip
    clf.fit(xs.values.reshape(len(xs), -1), np.asarray(grouped, dtype=object))
    model = GBSeriesBaseline(clf, sorted(set(grouped)), list(x.indices), x.grid, config)
    return model, {"kind": "hgb", "fields": int(use.sum()), "class_map": mapping}


# -- registry round trip ------------------------------------------------------------------


def series_hyperparameters(model: SeriesCropModel) -> dict[str, Any]:
    """JSON-able settings that, with :func:`series_tensors`, rebuild the model."""
    return {
        "kind": KIND,
        "classes": list(model.classes),
        "indices": list(model.indices),
        "grid": model.grid.as_dict(),
        "class_map": dict(model.class_map),
        "config": asdict(model.config),
    }


def series_tensors(model: SeriesCropModel) -> dict[str, torch.Tensor]:
    """Weights (incl. BatchNorm statistics) and the input standardisation."""
    t = {f"net.{k}": v.detach().clone() for k, v in model.net.state_dict().items()}
    t["input_mean"] = torch.from_numpy(model.mean.copy())
    t["input_std"] = torch.from_numpy(model.std.copy())
    return t


def build_series_model(
    hp: Mapping[str, Any], tensors: Mapping[str, torch.Tensor] | None = None
) -> SeriesCropModel:
    """Rebuild a series model from :func:`series_hyperparameters` (and ``tensors``)."""
    if hp.get("kind") != KIND:
        raise CropModelError(f"cannot build a series model of kind {hp.get('kind')!r}")
    known = set(SeriesConfig.__dataclass_fields__)
    cfg = SeriesConfig(**{k: v for k, v in dict(hp.get("config", {})).items() if k in known})
    classes, indices = list(hp["classes"]), list(hp["indices"])
    net = _Ensemble(2 * len(indices), len(classes), cfg)
    mean, std = np.zeros(len(indices)), np.ones(len(indices))
    if tensors is not None:
        state = {k[4:]: v for k, v in tensors.items() if k.startswith("net.")}
        try:
            net.load_state_dict(state)
        except RuntimeError as exc:
            raise CropModelError(f"tensors do not fit the hyperparameters: {exc}") from exc
        mean = tensors["input_mean"].double().numpy()
        std = tensors["input_std"].double().numpy()
    return SeriesCropModel(net.eval(), classes, indices, TimeGrid.from_dict(hp["grid"]), mean,
                           std, cfg, dict(hp.get("class_map", {})))  # fmt: skip
