"""The data-access rule (docs/architecture.md): SQL lives in the services that own the data
and in ``landgov.storage``; the shells (``app/``, ``landgov/cli/``) call functions and never
execute SQL themselves. Checked on the syntax tree, so a comment or a help text that mentions
SQL does not count, and an aliased import does not escape."""

from __future__ import annotations

from pathlib import Path

import pytest
from source_rules import sql_uses

ROOT = Path(__file__).resolve().parents[2]
SHELLS = ("app", "landgov/cli", "landgov/api")


@pytest.mark.parametrize("shell", SHELLS)
def test_shells_run_no_sql(shell: str) -> None:
    uses = [u for p in sorted((ROOT / shell).rglob("*.py"))
            for u in sql_uses(p.read_text(encoding="utf-8"), str(p.relative_to(ROOT)))]  # fmt: skip
    assert uses == [], "SQL in a shell; move it into the service that owns the data:\n" + "\n".join(
        uses
    )
