"""Every public exception of the packages derives from ``landgov.errors.LandgovError``, so a
caller (the CLI's error handler, the dashboard, another agency's code) can catch the
project's refusals precisely and nothing else."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

from landgov.errors import LandgovError

PACKAGES = ("landgov", "imagery", "models")


def _modules(package: str) -> list[str]:
    pkg = importlib.import_module(package)
    return [package] + [m.name for m in pkgutil.walk_packages(pkg.__path__, package + ".")]


@pytest.mark.parametrize("package", PACKAGES)
def test_public_exceptions_derive_from_landgov_error(package: str) -> None:
    strays = []
    for name in _modules(package):
        module = importlib.import_module(name)
        for attr, obj in vars(module).items():
            if (inspect.isclass(obj) and issubclass(obj, BaseException)
                    and obj.__module__ == name and not attr.startswith("_")
                    and not issubclass(obj, LandgovError)):  # fmt: skip
                strays.append(f"{name}.{attr}")
    assert strays == [], f"public exceptions outside LandgovError: {strays}"
