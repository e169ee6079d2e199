"""User-facing errors: one line that names the file, line or key, and a non-zero exit."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

T = TypeVar("T")


class PaperdcatError(Exception):
    """An error caused by the user's input or environment, reported as one line without a traceback."""


def cli_entry(main: Callable[..., T]) -> Callable[..., T]:
    """Wrap a stage's main so that a PaperdcatError prints ``error: <message>`` and exits with status 1."""

    @wraps(main)
    def wrapper(*args, **kwargs) -> T:
        try:
            return main(*args, **kwargs)
        except PaperdcatError as error:
            print(f"error: {error}", file=sys.stderr)
            raise SystemExit(1) from None

    return wrapper
