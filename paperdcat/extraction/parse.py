"""Read a model's generated answer into DCAT records, and write the compact answer the model is trained on.

The model is asked for a JSON list of dataset objects, but may wrap it in prose or ``` fences, stop
mid-way, or emit a single object. ``parse_answer`` takes the first JSON value in the text that looks like
an answer and never raises; a truncated or otherwise broken answer is reported as invalid rather than
salvaged piecemeal.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from paperdcat.schema import DCAT_FIELDS, SHORT_NAME, coerce_dataset, field_for_key, is_empty

_JSON_START = re.compile(r"[\[{]")
_BRACKET_RUN = re.compile(r"[\[{\s]*")


def dataset_objects(value: Any) -> list[dict[str, Any]] | None:
    """The dataset objects in a decoded JSON value: a list's object elements, or a single object as a list
    of one. ``None`` when the value is neither a list nor an object (e.g. a string or a number)."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return None


def load_json(path: Path) -> Any:
    """The decoded JSON of a file; raises ``OSError`` or ``ValueError`` (bad JSON or encoding)."""
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def read_dataset_objects(path: Path) -> list[dict[str, Any]] | None:
    """The dataset objects of a MetaMine-layout file (``<Topic>/paper_N.json``), or ``None`` when the file
    cannot be read or is not JSON of the right shape (a list, or a single object)."""
    try:
        return dataset_objects(load_json(path))
    except (OSError, ValueError, RecursionError):
        return None


def _looks_like_answer(value: Any) -> bool:
    """Whether a decoded JSON value is an answer rather than incidental JSON in prose.

    ``[1]`` (a citation) holds no object, and ``{"datasets": [...]}`` names no DCAT field: both are skipped
    so that scanning goes on to the answer (for the wrapper, the list inside it).
    """
    if isinstance(value, list):
        return not value or any(isinstance(item, dict) for item in value)
    if isinstance(value, dict):
        return any(field_for_key(str(key)) is not None for key in value)
    return False


def parse_answer(text: str) -> tuple[list[dict[str, Any]], bool]:
    """Parse generated text into ``(datasets, valid)``; ``valid`` is False when no answer was found.

    Scans each ``[`` or ``{`` in order and decodes the JSON value starting there. When a decode fails, the
    scan resumes where the decoder gave up, so that the objects inside a truncated list are not taken for
    an answer. Every dataset is coerced with all fields present; ``[]`` is a valid empty answer.
    """
    if not isinstance(text, str):
        return [], False
    decoder = json.JSONDecoder()
    position = 0
    while match := _JSON_START.search(text, position):
        start = match.start()
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError as error:
            position = max(start + 1, error.pos)
            continue
        except ValueError:  # e.g. an integer beyond Python's digit limit
            position = start + 1
            continue
        except RecursionError:  # absurd nesting: skip the whole run, else each bracket costs a deep descent
            position = max(start + 1, _BRACKET_RUN.match(text, start).end())
            continue
        if _looks_like_answer(value):
            objects = dataset_objects(value) or []
            return [coerce_dataset(obj, fill_missing=True) for obj in objects], True
        position = start + 1
    return [], False


def format_answer(datasets: list[dict[str, Any]]) -> str:
    """The compact answer the model is trained to write: local field names in DCAT order, empty fields and
    the ``aliases`` side field (never shown to the model as gold) left out, no whitespace."""
    records = []
    for dataset in datasets:
        record = coerce_dataset(dataset, fill_missing=False)
        records.append(
            {
                SHORT_NAME[field]: record[field]
                for field in DCAT_FIELDS
                if field in record and not is_empty(record[field])
            }
        )
    return json.dumps(records, separators=(",", ":"), ensure_ascii=False)
