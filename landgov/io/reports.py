"""What an import or an export did, for the CLI's one-line summary and for callers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

# table -> (singular, plural) as a summary names its rows
_NOUNS: Mapping[str, tuple[str, str]] = {
    "khasra": ("khasra", "khasras"),
    "mutation": ("mutation", "mutations"),
    "mutation_line": ("line", "lines"),
    "mutation_flag": ("flagged for review", "flagged for review"),
    "khewat_khasra": ("attached to a khewat", "attached to khewats"),
    "ownership": ("ownership row", "ownership rows"),
}


def _count(table: str, n: int) -> str:
    singular, plural = _NOUNS.get(table, (f"{table} row", f"{table} rows"))
    return f"{n:,} {singular if n == 1 else plural}"


@dataclass(frozen=True)
class ImportReport:
    """One imported file.

    Attributes:
        path: the file imported.
        counts: rows inserted per table, the main table first (e.g. ``{"khasra": 812}``;
            ``mutation_flag``: the mutations flagged for review); the audit_log rows
            every import writes are not counted.
        seconds: wall time of the whole import.
        target: where the rows went, e.g. ``"mouza Kot Nau (hadbast 117)"``.
    """

    path: Path
    counts: Mapping[str, int]
    seconds: float
    target: str = ""
    details: Mapping[str, object] = field(default_factory=dict)

    def summary(self) -> str:
        """One line: ``parcels.gpkg: 812 khasras imported into mouza Kot Nau (hadbast 117)``."""
        items = list(self.counts.items())
        if not items:
            what = "nothing"
        else:
            what = _count(*items[0])
            if len(items) > 1:
                what += " (" + ", ".join(_count(t, n) for t, n in items[1:]) + ")"
        into = f" into {self.target}" if self.target else ""
        return f"{self.path.name}: {what} imported{into} in {self.seconds:.1f} s"


@dataclass(frozen=True)
class ExportReport:
    """One exported mouza.

    Attributes:
        path: the GeoPackage written.
        counts: features per layer (``{"khasra": n, "ownership": m}``).
        seconds: wall time of the export.
        target: the mouza exported, e.g. ``"mouza Kot Nau (hadbast 117)"``.
        as_of: the date of the record of rights exported.
    """

    path: Path
    counts: Mapping[str, int]
    seconds: float
    target: str
    as_of: date

    def summary(self) -> str:
        """One line, e.g. ``kot_nau.gpkg: 812 khasras and 1,930 ownership rows of mouza ...``."""
        what = " and ".join(_count(t, n) for t, n in self.counts.items()) or "nothing"
        return (
            f"{self.path.name}: {what} of {self.target} as of {self.as_of.isoformat()} "
            f"exported in {self.seconds:.1f} s"
        )
