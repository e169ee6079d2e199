"""Rich progress bars for long loops, quiet when output is not a terminal."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sized
from typing import TypeVar

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

T = TypeVar("T")


class RateColumn(ProgressColumn):
    """Items per second of a task, e.g. ``1.52 papers/s`` (blank until rich has a speed estimate)."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.2f} {self.unit}/s" if speed else "", style="progress.data.speed")


def progress_bar(rate_unit: str | None = None) -> Progress:
    """A bar with count, elapsed and remaining time; with ``rate_unit``, also the rate (``papers/s``)."""
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        *([RateColumn(rate_unit)] if rate_unit else []),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    return Progress(*columns)


def track(items: Iterable[T], description: str) -> Iterator[T]:
    total = len(items) if isinstance(items, Sized) else None
    with progress_bar() as progress:
        yield from progress.track(items, total=total, description=description)
