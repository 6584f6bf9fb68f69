"""Progress bars for long work, shared by the CLI and batch jobs.

Library functions take an optional ``progress`` object and report through
:func:`track`; the CLI passes a rich progress bar, tests pass nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")


def progress_bar(*, stderr: bool = False) -> Progress:
    """A bar per task; ``stderr=True`` keeps stdout clean for ``--json`` output."""
    from rich.console import Console

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        transient=False,
        console=Console(stderr=True) if stderr else None,
    )


def track(
    items: Iterable[T], description: str, progress: Progress | None, total: int | None = None
) -> Iterator[T]:
    """Iterate ``items``, advancing a bar on ``progress`` when one is given."""
    if progress is None:
        yield from items
        return
    yield from progress.track(items, total=total, description=description)
