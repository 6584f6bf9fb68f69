"""The layout of ``landgov/records`` (issue 18): no import circle between its modules, and
no module borrowing another's private (``_name``) helpers.

Imports are read from the source with :mod:`ast`, wherever they are written: a circle
closed by an import inside a function still makes the modules impossible to read (or to
import) one at a time, so function-level imports count as edges too. The checker is run
on small made-up packages first, so a checker that finds nothing cannot pass unnoticed.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

import landgov.records

PACKAGE = "landgov.records"


@dataclass(frozen=True)
class Edge:
    """``importer`` imports module ``target`` at ``line`` (``name`` from it, if any)."""

    importer: str
    target: str
    name: str | None
    line: int

    def __str__(self) -> str:
        what = f"{self.target}.{self.name}" if self.name else self.target
        return f"{self.importer}:{self.line} imports {what}"


def package_sources(root: Path = Path(landgov.records.__file__).parent) -> dict[str, str]:
    """Module name -> source of every module of the package (its ``__init__`` included)."""
    return {
        PACKAGE if p.stem == "__init__" else f"{PACKAGE}.{p.stem}": p.read_text(encoding="utf-8")
        for p in sorted(root.glob("*.py"))
    }


def _resolve(importer: str, node: ast.ImportFrom) -> str:
    """The absolute module a ``from ... import`` names (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    package = importer if importer == PACKAGE else importer.rsplit(".", 1)[0]
    base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
    return f"{base}.{node.module}" if node.module else base


def edges(sources: Mapping[str, str]) -> tuple[list[Edge], list[Edge]]:
    """Every import between modules of ``sources`` (at any depth of the code), and every
    use of a private name of another of them: imported by name, or read as an attribute
    of a module imported whole (``partition._ownership``)."""
    found: list[Edge] = []
    private: list[Edge] = []
    for importer, source in sources.items():
        tree = ast.parse(source)
        aliases: dict[str, str] = {}  # local name -> package module it is bound to
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in sources and alias.name != importer:
                        found.append(Edge(importer, alias.name, None, node.lineno))
                        if alias.asname:
                            aliases[alias.asname] = alias.name
            elif isinstance(node, ast.ImportFrom):
                module = _resolve(importer, node)
                for alias in node.names:
                    submodule = f"{module}.{alias.name}"
                    if submodule in sources:  # ``from landgov.records import partition``
                        target, name = submodule, None
                        aliases[alias.asname or alias.name] = submodule
                    elif module in sources:
                        target, name = module, alias.name
                    else:
                        continue
                    if target == importer:
                        continue
                    edge = Edge(importer, target, name, node.lineno)
                    found.append(edge)
                    if name is not None and name.startswith("_") and not name.startswith("__"):
                        private.append(edge)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                private.append(Edge(importer, aliases[node.value.id], node.attr, node.lineno))
    return found, private


def import_circle(found: list[Edge]) -> list[Edge] | None:
    """One circle of imports among ``found`` (its edges in order), or None."""
    out: dict[str, list[Edge]] = {}
    for edge in found:
        out.setdefault(edge.importer, []).append(edge)
    done: set[str] = set()
    stack: list[str] = []  # the modules on the current path; path[i] leaves stack[i]
    path: list[Edge] = []

    def visit(module: str) -> list[Edge] | None:
        stack.append(module)
        for edge in out.get(module, []):
            if edge.target in stack:
                return [*path[stack.index(edge.target) :], edge]
            if edge.target not in done:
                path.append(edge)
                circle = visit(edge.target)
                if circle:
                    return circle
                path.pop()
        stack.pop()
        done.add(module)
        return None

    for module in sorted(out):
        if module not in done:
            circle = visit(module)
            if circle:
                return circle
    return None


# --- the checker finds what it should -------------------------------------------------------


def test_checker_finds_a_circle_closed_inside_a_function() -> None:
    sources = {
        PACKAGE: "",
        f"{PACKAGE}.a": "from landgov.records.b import thing\n",
        f"{PACKAGE}.b": "def f():\n    from landgov.records import c\n",
        f"{PACKAGE}.c": "import landgov.records.a\n",
        f"{PACKAGE}.d": "from landgov.records.a import thing\n",
    }
    found, _ = edges(sources)
    circle = import_circle(found)
    assert circle is not None
    assert [e.importer for e in circle] == [f"{PACKAGE}.a", f"{PACKAGE}.b", f"{PACKAGE}.c"]
    del sources[f"{PACKAGE}.c"]
    assert import_circle(edges(sources)[0]) is None


def test_checker_finds_private_names_borrowed() -> None:
    sources = {
        PACKAGE: "",
        f"{PACKAGE}.a": "def _helper(): ...\nclass _Row: ...\n",
        f"{PACKAGE}.b": "from landgov.records.a import _helper, public\n",
        f"{PACKAGE}.c": "from landgov.records import a as x\nx._Row()\nx.__name__\n",
        f"{PACKAGE}.d": "from .a import _helper\n",
        f"{PACKAGE}.e": "from sqlalchemy import _private_elsewhere\n",
    }
    _, private = edges(sources)
    assert sorted((e.importer, e.name) for e in private) == [
        (f"{PACKAGE}.b", "_helper"),
        (f"{PACKAGE}.c", "_Row"),
        (f"{PACKAGE}.d", "_helper"),
    ]


# --- the package --------------------------------------------------------------------------


def test_records_modules_import_no_circle() -> None:
    sources = package_sources()
    assert f"{PACKAGE}.mutations" in sources and f"{PACKAGE}.fard" in sources
    found, _ = edges(sources)
    assert found, "landgov.records modules import each other: the checker read nothing"
    circle = import_circle(found)
    assert circle is None, "import circle in landgov/records: " + "; ".join(map(str, circle))


def test_records_modules_borrow_no_private_names() -> None:
    _, private = edges(package_sources())
    assert not private, "private names used across landgov/records modules: " + "; ".join(
        map(str, private)
    )


@pytest.mark.parametrize("module", sorted(package_sources()))
def test_records_module_imports(module: str) -> None:
    assert importlib.import_module(module).__doc__, f"{module} has no module docstring"
