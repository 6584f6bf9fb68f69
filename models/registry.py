"""Model registry: weights as safetensors beside a model card, loaded with no network.

Layout, one folder per version::

    <root>/<name>/<version>/model.safetensors   tensors only (no pickle: safe to load)
    <root>/<name>/<version>/card.json           the model card (:class:`ModelCard`)

Two roots are searched, in order: ``$LANDGOV_HOME/models`` (models trained here) and
``models/weights`` in the repository (the default models shipped with the code, small
enough to version in git). A version is ``v<N>`` with N increasing per name and root;
:func:`load_model` without a version takes the newest of the first root that has the name.

Why safetensors and a JSON card: weights load without executing code (unlike pickle), and
everything a reviewer needs to trust a model (task, classes, what data it saw, seed,
metrics, code version, date) is plain text beside them. Non-tensor settings a model needs
to rebuild itself go into the card's ``hyperparameters``.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from landgov.errors import LandgovError

REPO_WEIGHTS = Path(__file__).resolve().parent / "weights"
"""Default models shipped in the repository."""
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_VERSION = re.compile(r"^v(\d+)$")


class ModelNotFound(LandgovError):
    """No model of that name (and version) in any registry root."""


@dataclass
class ModelCard:
    """What a model is, what it saw and how good it is (saved as ``card.json``)."""

    name: str
    task: str
    classes: list[str] = field(default_factory=list)
    seed: int = 0
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    training_data: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    code_version: str = ""
    created: str = ""
    version: str = ""
    description: str = ""
    coverage: dict[str, Any] = field(default_factory=dict)
    """Where and on what the model may serve: ``bbox_lonlat`` [w, s, e, n] of its
    training ground, ``series`` (the imagery or series kind), years, grid, indices. Used to
    pick a model per mouza (:func:`models.registry.covering`)."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True, default=str)

    @classmethod
    def from_json(cls, text: str) -> ModelCard:
        raw = json.loads(text)
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in raw.items() if k in known})


def data_fingerprint(paths: Iterable[str | Path]) -> str:
    """SHA-256 over the sorted file names and contents: same training files, same print."""
    h = hashlib.sha256()
    for p in sorted(Path(x) for x in paths):
        h.update(p.name.encode())
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def code_version() -> str:
    """``git describe`` of the checkout (``-dirty`` when edited), else a source digest."""
    here = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=12"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return f"git:{out.stdout.strip()}"
    except (OSError, subprocess.SubprocessError):
        h = hashlib.sha256()
        for p in sorted((here / "models").rglob("*.py")):
            h.update(p.read_bytes())
        return f"src:{h.hexdigest()[:12]}"


def roots(home: Path | None = None) -> list[Path]:
    """Registry roots in search order: models trained here, then those shipped."""
    if home is None:
        from landgov.config import load_settings

        home = load_settings().home
    return [Path(home) / "models", REPO_WEIGHTS]


def _versions(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p.name) for p in folder.iterdir()
             if (m := _VERSION.match(p.name)) and (p / "card.json").is_file()]  # fmt: skip
    return [name for _, name in sorted(found)]


def save_model(card: ModelCard, tensors: Mapping[str, Any], *, root: Path | None = None) -> Path:
    """Writes a new version of ``card.name`` under ``root`` (default ``$LANDGOV_HOME/models``).

    Fills ``card.version``, ``card.created`` and (if empty) ``card.code_version``. The
    files are written to a temporary folder and renamed into place, so a crash never
    leaves a half-written version that :func:`load_model` would pick up.
    """
    from safetensors.torch import save_file

    if not _NAME.match(card.name):
        raise LandgovError(f"model name {card.name!r}: use lower-case letters, digits, - and _")
    base = (root if root is not None else roots()[0]) / card.name
    base.mkdir(parents=True, exist_ok=True)
    existing = _versions(base)
    number = int(existing[-1][1:]) + 1 if existing else 1
    card.version = f"v{number}"
    card.created = card.created or datetime.now(UTC).isoformat(timespec="seconds")
    card.code_version = card.code_version or code_version()
    tmp = base / f".tmp-{card.version}"
    tmp.mkdir(exist_ok=True)
    contiguous = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    save_file(contiguous, str(tmp / "model.safetensors"), metadata={"name": card.name})
    (tmp / "card.json").write_text(card.to_json() + "\n", encoding="utf-8")
    final = base / card.version
    tmp.rename(final)
    return final


def find_model(name: str, version: str | None = None, *, home: Path | None = None) -> Path:
    """Folder of the model: the given version, or the newest in the first root with it."""
    for root in roots(home):
        versions = _versions(root / name)
        if not versions:
            continue
        if version is None:
            return root / name / versions[-1]
        if version in versions:
            return root / name / version
    known = sorted({c.name for c, _ in list_models(home=home)})
    hint = f" Known models: {', '.join(known)}." if known else " No model is registered yet."
    raise ModelNotFound(
        f"no model {name!r}{f' version {version}' if version else ''}.{hint}"
        " Train one with 'landgov models train'."
    )


def read_card(name: str, version: str | None = None, *, home: Path | None = None) -> ModelCard:
    """The card of a registered model, without loading its weights (or torch)."""
    folder = find_model(name, version, home=home)
    return ModelCard.from_json((folder / "card.json").read_text(encoding="utf-8"))


def load_model(
    name: str, version: str | None = None, *, home: Path | None = None, device: str = "cpu"
) -> tuple[dict[str, Any], ModelCard]:
    """(tensors, card) of a registered model; reads only local files."""
    from safetensors.torch import load_file

    folder = find_model(name, version, home=home)
    card = ModelCard.from_json((folder / "card.json").read_text(encoding="utf-8"))
    return load_file(str(folder / "model.safetensors"), device=device), card


def list_models(*, home: Path | None = None) -> list[tuple[ModelCard, Path]]:
    """Every version in every root, as (card, folder), by root then name then version."""
    out: list[tuple[ModelCard, Path]] = []
    for root in roots(home):
        if not root.is_dir():
            continue
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            for v in _versions(folder):
                card_text = (folder / v / "card.json").read_text(encoding="utf-8")
                out.append((ModelCard.from_json(card_text), folder / v))
    return out


# -- which model serves where -----------------------------------------------------------

BBox = tuple[float, float, float, float]
"""(west, south, east, north) in degrees (EPSG:4326)."""


def covers(card: ModelCard, bbox: BBox) -> bool:
    """Whether the card's ``coverage.bbox_lonlat`` holds ``bbox`` entirely.

    A card without a coverage box covers nothing: a model says where it may serve, it is
    never assumed to serve everywhere.
    """
    box = card.coverage.get("bbox_lonlat") if card.coverage else None
    if not box or len(box) != 4:
        return False
    w, s, e, n = (float(v) for v in box)
    return w <= bbox[0] and s <= bbox[1] and bbox[2] <= e and bbox[3] <= n


def covering(cards: Iterable[ModelCard], bbox: BBox) -> list[ModelCard]:
    """The cards that cover ``bbox``, the most local first (smallest box, then name).

    The most local wins because a model trained on the place itself knows its crops and
    calendar better than one whose box merely includes it.
    """

    def size(card: ModelCard) -> float:
        w, s, e, n = (float(v) for v in card.coverage["bbox_lonlat"])
        return (e - w) * (n - s)

    return sorted((c for c in cards if covers(c, bbox)), key=lambda c: (size(c), c.name))


def current_cards(task_prefix: str, *, home: Path | None = None) -> list[ModelCard]:
    """The card :func:`load_model` would use (no version given) of every model whose task
    starts with ``task_prefix``."""
    names = sorted({c.name for c, _ in list_models(home=home) if c.task.startswith(task_prefix)})
    return [read_card(name, home=home) for name in names]
