"""Fonts for fard PDFs: Noto Sans (English) and Noto Nastaliq Urdu, found on the system.

The fonts come from Debian's ``fonts-noto-core`` (``make`` installs it); nothing is
downloaded. ``LANDGOV_FONT_DIR`` names another folder to search first.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from landgov.errors import LandgovError

SEARCH_DIRS: Final = (
    Path("/usr/share/fonts/truetype/noto"),
    Path("/usr/share/fonts/opentype/noto"),
    Path("/usr/share/fonts/noto"),
    Path("/usr/local/share/fonts"),
)

FILES: Final = {
    "sans": "NotoSans-Regular.ttf",
    "sans_bold": "NotoSans-Bold.ttf",
    "urdu": "NotoNastaliqUrdu-Regular.ttf",
    "urdu_bold": "NotoNastaliqUrdu-Bold.ttf",
}


class FontMissing(LandgovError):
    """A font a fard needs is not installed."""


@dataclass(frozen=True)
class FardFonts:
    sans: Path
    sans_bold: Path
    urdu: Path
    urdu_bold: Path


def _dirs() -> list[Path]:
    extra = os.environ.get("LANDGOV_FONT_DIR")
    return ([Path(extra)] if extra else []) + list(SEARCH_DIRS)


def find_font(filename: str) -> Path:
    """The path of ``filename`` in the first search folder that has it.

    Raises:
        FontMissing: no folder has it; the message says what to install.
    """
    for folder in _dirs():
        candidate = folder / filename
        if candidate.is_file():
            return candidate
        if folder.is_dir():
            found = sorted(folder.rglob(filename))
            if found:
                return found[0]
    raise FontMissing(
        f"font {filename} not found (searched {', '.join(str(d) for d in _dirs())}); "
        "install it with 'apt-get install fonts-noto-core' or set LANDGOV_FONT_DIR"
    )


def fard_fonts() -> FardFonts:
    """The four fonts of a fard.

    Raises:
        FontMissing: one of them is not installed.
    """
    return FardFonts(**{key: find_font(name) for key, name in FILES.items()})
