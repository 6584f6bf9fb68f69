"""Which dashboard pages each actor sees: by the capabilities of their roles
(:data:`landgov.security.policy.CAPABILITIES`).

A page the actor may not see is left out of the navigation; the page itself checks
again (:func:`app.context.require`), so reaching it anyway shows a refusal naming the
rule.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from landgov.security import Actor

# Not "pages/": Streamlit would take such a folder for an old-style multipage app and run
# a page without the entry script (and so without its sidebar) on some reruns.
VIEWS: Final = Path(__file__).resolve().parent / "views"

MUTATION_CAPABILITIES: Final = (
    "mutation.enter",
    "mutation.verify",
    "mutation.sanction",
    "mutation.reject",
)
PAGES: Final[tuple[tuple[str, str, str, tuple[str, ...]], ...]] = (
    ("parcels.py", "Parcels", "🗺️", ("records.read",)),
    ("mutations.py", "Mutations", "🖋️", MUTATION_CAPABILITIES),
    ("cases.py", "Disputes", "⚖️", ("case.read",)),
    ("valuation.py", "Valuation", "💰", ("valuation.read",)),
)
"""(view file, title, icon, capabilities: any one of them shows the page)."""


def visible(actor: Actor) -> list[tuple[str, str, str]]:
    """(view file, title, icon) of each page ``actor`` may see, in navigation order."""
    return [
        (file, title, icon)
        for file, title, icon, caps in PAGES
        if any(actor.has(cap) for cap in caps)
    ]
