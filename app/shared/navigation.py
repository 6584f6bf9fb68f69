"""Which dashboard pages each actor sees: by the capabilities of their roles
(:data:`landgov.security.policy.CAPABILITIES`).

A page the actor may not see is left out of the navigation; the page itself checks
again (:func:`app.shared.context.require`), so reaching it anyway shows a refusal naming the
rule.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from landgov.security import Actor

# Not "pages/": Streamlit would take such a folder for an old-style multipage app and run
# a page without the entry script (and so without its sidebar) on some reruns.
VIEWS: Final = Path(__file__).resolve().parents[1] / "views"
"""One folder per page: ``<page>/view.py`` (the script) and ``<page>/data.py``."""
VIEW_FILE: Final = "view.py"

MUTATION_CAPABILITIES: Final = (
    "mutation.enter",
    "mutation.verify",
    "mutation.sanction",
    "mutation.reject",
)
PAGES: Final[tuple[tuple[str, str, str, tuple[str, ...]], ...]] = (
    ("parcels", "Parcels", "🗺️", ("records.read",)),
    ("mutations", "Mutations", "🖋️", MUTATION_CAPABILITIES),
    ("cases", "Disputes", "⚖️", ("case.read",)),
    ("valuation", "Valuation", "💰", ("valuation.read",)),
)
"""(page folder under :data:`VIEWS`, which is also its URL path; title; icon; capabilities:
any one of them shows the page)."""


def view_path(page: str) -> Path:
    """The script of page ``page`` (a folder under :data:`VIEWS`)."""
    return VIEWS / page / VIEW_FILE


def visible(actor: Actor) -> list[tuple[str, str, str]]:
    """(page folder, title, icon) of each page ``actor`` may see, in navigation order."""
    return [
        (page, title, icon)
        for page, title, icon, caps in PAGES
        if any(actor.has(cap) for cap in caps)
    ]
