"""The dashboard's layout and data-access rules (:mod:`app`), checked on the source.

- No module under ``app/`` builds or runs SQL: no ``text``/``select``-style builder imported
  from a database package, no ``execute``-like call, no pandas or geopandas SQL reader. The
  SQL lives in the services that own the data; the dashboard calls their functions.
- No module under ``app/`` reads rasters: rendering a scene is :mod:`imagery.render`'s.
- One layout: every page is a folder under ``app/views/`` with its ``view.py`` and its
  ``data.py``; what pages share is in ``app/shared/``; the only loose module is the entry
  script.

Checked on the syntax tree, so a docstring that mentions SQL does not count and an aliased
import or a call through any object does not escape.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from dashboard_support import ROOT
from source_rules import imports_of, sql_uses

from app.shared.navigation import PAGES, VIEWS, view_path

APP = ROOT / "app"
RASTER_PACKAGES = ("rasterio", "osgeo")
FARMER = "farmer"
"""The page outside the staff navigation (anonymous visitors reach it from sign-in)."""


def raster_uses(source: str, filename: str) -> list[str]:
    """Where ``source`` imports a raster library (``filename:line module``)."""
    return [
        f"{filename}:{line} imports {module}"
        for line, module, _ in imports_of(ast.parse(source, filename))
        if module.split(".")[0] in RASTER_PACKAGES
    ]


def app_modules() -> list[Path]:
    return sorted(p for p in APP.rglob("*.py") if "__pycache__" not in p.parts)


def test_the_checks_see_what_they_look_for() -> None:
    """The checks themselves: they find SQL and raster reads where there are some, aliased
    or called through any object, and nothing in a docstring or a plain call."""
    bad = (
        "from sqlalchemy import text as t, select\n"
        "import pandas as pd\n"
        "import rasterio.warp\n"
        "def f(engine):\n"
        "    with engine.connect() as conn:\n"
        "        conn.execute(t('SELECT 1'))\n"
        "        conn.exec_driver_sql('SELECT 1')\n"
        "    return pd.read_sql('SELECT 1', engine)\n"
    )
    assert len(sql_uses(bad, "bad.py")) == 4
    assert raster_uses(bad, "bad.py") == ["bad.py:3 imports rasterio.warp"]
    good = (
        "from sqlalchemy.engine import Engine\n"
        "def f(conn):\n"
        "    '''SELECT id FROM mouza: conn.execute(text(...))'''\n"
        "    return mouza_ids(conn)\n"
    )
    assert sql_uses(good, "good.py") == []
    assert raster_uses(good, "good.py") == []


def test_no_module_under_app_runs_sql() -> None:
    modules = app_modules()
    assert len(modules) > 10, "the dashboard's modules were not found"
    uses = [
        u
        for p in modules
        for u in sql_uses(p.read_text(encoding="utf-8"), str(p.relative_to(ROOT)))
    ]
    assert uses == [], (
        "SQL in the dashboard; move it into the service that owns the data "
        "(landgov.<service>.queries, landgov.storage) and call it:\n" + "\n".join(uses)
    )


def test_no_module_under_app_reads_rasters() -> None:
    uses = [
        u
        for p in app_modules()
        for u in raster_uses(p.read_text(encoding="utf-8"), str(p.relative_to(ROOT)))
    ]
    assert uses == [], "raster reading in the dashboard; it belongs in imagery/:\n" + "\n".join(
        uses
    )


def page_folders() -> list[Path]:
    return sorted(p for p in VIEWS.iterdir() if p.is_dir() and p.name != "__pycache__")


def test_every_page_folder_has_its_view_and_data() -> None:
    folders = page_folders()
    assert folders, f"no page folder under {VIEWS}"
    for folder in folders:
        for module in ("__init__.py", "view.py", "data.py"):
            assert (folder / module).is_file(), f"{folder.relative_to(ROOT)} has no {module}"


@pytest.mark.parametrize("page", [*(p[0] for p in PAGES), FARMER])
def test_every_page_of_the_navigation_is_a_page_folder(page: str) -> None:
    assert view_path(page).is_file()
    assert view_path(page).parent in page_folders()


def test_nothing_lies_outside_the_layout() -> None:
    """Only the entry script sits loose in app/; no page lies loose in views/; and no
    ``pages/`` folder (Streamlit would take it for an old-style multipage app)."""
    loose = sorted(p.name for p in APP.glob("*.py"))
    assert loose == ["__init__.py", "dashboard.py"]
    assert sorted(p.name for p in VIEWS.glob("*.py")) == ["__init__.py"]
    folders = sorted(p.name for p in APP.iterdir() if p.is_dir() and p.name != "__pycache__")
    # locale/: the translation catalogue (docs/i18n.md); static/: what Streamlit serves
    # at app/static/ (the Urdu font, copied there at start-up): data, no modules
    assert folders == ["locale", "shared", "static", "views"]
    assert not [*(APP / "locale").rglob("*.py"), *(APP / "static").rglob("*.py")]
    assert (APP / "shared" / "__init__.py").is_file()
    # every page folder is reached: through the navigation or, for the farmer, sign-in
    assert {p.name for p in page_folders()} == {*(p[0] for p in PAGES), FARMER}
