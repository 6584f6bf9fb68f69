"""The layers of docs/architecture.md: a module imports only from its own layer and the
layers below it. Checked on the syntax tree, so imports inside functions count too (a lazy
import still ties one layer to another)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from source_rules import imports_of

ROOT = Path(__file__).resolve().parents[2]

SHELLS = ("app", "landgov.cli", "landgov.api")
JOBS = ("landgov.jobs",)
DEMO = ("landgov.demo",)
SERVICES = (
    "landgov.records", "landgov.disputes", "landgov.valuation", "landgov.advisories",
    "landgov.security", "landgov.io", "imagery", "models",
)  # fmt: skip
STORAGE = ("landgov.storage",)
PROJECT = ("app", "landgov", "imagery", "models")

# (the code of a layer, the project modules it must not import)
RULES = {
    "landgov/domain": tuple(
        p for p in (*SHELLS, *JOBS, *DEMO, *SERVICES, *STORAGE, "landgov.config")
    ),
    "landgov/storage": (*SHELLS, *JOBS, *DEMO, *SERVICES),
    # the demo sits on top of the services and generates data for them, never the reverse
    **{s.replace(".", "/"): (*SHELLS, *JOBS, *DEMO) for s in SERVICES},
    "landgov/jobs": SHELLS,
}


def _is_under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("folder", sorted(RULES))
def test_no_upward_imports(folder: str) -> None:
    banned = RULES[folder]
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for line, module, _ in imports_of(tree):
            if _is_under(module, banned):
                found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert found == [], f"{folder} imports from a layer above it:\n" + "\n".join(found)


def test_domain_core_imports_only_itself_and_errors() -> None:
    found = []
    for path in sorted((ROOT / "landgov/domain").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for line, module, _ in imports_of(tree):
            ours = _is_under(module, PROJECT)
            if ours and not _is_under(module, ("landgov.domain", "landgov.errors")):
                found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert found == [], "the domain core must stay pure:\n" + "\n".join(found)
