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
    """Items per second of a task, e.g. ``0.25 papers/s`` (blank until the first item is done)."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        # Items done over time elapsed: defined after the first item, however slowly items come (rich's own
        # estimate needs two updates within 30 s, which a batch of 16 papers on a CPU never gives).
        elapsed = task.finished_time if task.finished else task.elapsed
        speed = task.completed / elapsed if elapsed and task.completed else None
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
