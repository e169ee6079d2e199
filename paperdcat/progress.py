"""Rich progress bars for long loops, quiet when output is not a terminal."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sized
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


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )


def track(items: Iterable[T], description: str) -> Iterator[T]:
    total = len(items) if isinstance(items, Sized) else None
    with progress_bar() as progress:
        yield from progress.track(items, total=total, description=description)
