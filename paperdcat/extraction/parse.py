"""Read a model's generated answer into DCAT records, and write the compact answer the model is trained on.

The model is asked for a JSON list of dataset objects, but may wrap it in prose or ``` fences, stop
mid-way, or emit a single object. ``parse_answer`` first takes the first JSON value in the text that
looks like an answer (the strict parse). Only when there is none does it try to repair the broken JSON
with json-repair, under a stricter rule for what counts as an answer (see ``parse_answer``); the result
says which of the two read it, so that the strict rate stays comparable across versions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import json_repair

from paperdcat.schema import DCAT_FIELDS, SHORT_NAME, coerce_dataset, field_for_key, is_empty, metamine_record

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


@dataclass(frozen=True)
class ParsedAnswer:
    """A generated answer read into DCAT records.

    ``valid``: the strict parse found an answer. ``repaired``: only the json-repair fallback did (never
    both). ``datasets`` is the answer either way, empty when neither found one; ``[]`` is also a valid
    empty answer.
    """

    datasets: list[dict[str, Any]]
    valid: bool
    repaired: bool = False

    @property
    def strict_datasets(self) -> list[dict[str, Any]]:
        """The datasets as the strict parse alone reads them (empty unless ``valid``)."""
        return self.datasets if self.valid else []


# Bounds on the repair's cost. Each attempt runs json-repair over the rest of the text, which takes
# milliseconds on a real answer but time quadratic in the length on some text (thousands of `[{]`: about
# 1 s for 4,000 characters on one core, 9 s for 8,000). A few attempts are enough for a real answer, and
# 4,000 characters hold about 1,000 tokens, three times the default `evaluate.max_new_tokens`; a longer
# text is repaired as if it had been cut there.
MAX_REPAIR_ATTEMPTS = 3
MAX_REPAIR_CHARS = 4_000


def _coerced(value: Any) -> list[dict[str, Any]]:
    """The value's dataset objects as full DCAT records. An ``aliases`` key is dropped: it is a side field
    of gold annotations, and in an answer it would make a record without any DCAT field count as a dataset."""
    return [metamine_record(obj) for obj in dataset_objects(value) or []]


def _values(value: Any) -> Iterator[Any]:
    """Every list and object in a decoded value, in document order (the value first), without recursion."""
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, list | dict):
            yield current
            children = current if isinstance(current, list) else list(current.values())
            stack.extend(reversed(children))


def _repaired_answer(fragment: str) -> list[dict[str, Any]] | None:
    """The datasets that json-repair reads from ``fragment`` (text from a ``[`` or ``{`` on), or None.

    The first list or object in the repaired value (json-repair wraps several top-level values in a list)
    that looks like an answer and holds a dataset with a non-empty title is the answer. An empty list is
    not: a cut ``[`` does not say that the paper uses no dataset.
    """
    try:
        value = json_repair.loads(fragment, skip_json_loads=True)
    except Exception:  # third-party heuristics on arbitrary text: any failure means "not repaired"
        return None
    for candidate in _values(value):
        if _looks_like_answer(candidate):
            datasets = _coerced(candidate)
            if any(dataset["dcterms:title"] for dataset in datasets):
                return datasets
    return None


def parse_answer(text: str) -> ParsedAnswer:
    """Parse generated text into a ``ParsedAnswer``; never raises.

    Strict parse: scans each ``[`` or ``{`` in order and decodes the JSON value starting there. When a
    decode fails, the scan resumes where the decoder gave up, so that the values inside a truncated list
    (or a string cut with it) are not taken for an answer; a complete object after a syntax error inside a
    list still is. Every dataset is coerced with all fields present.

    Repair, only when the strict parse found no answer: json-repair reads the text from each ``[`` or
    ``{`` at which a strict decode failed (the first ``MAX_REPAIR_ATTEMPTS`` of them, in order, at most
    ``MAX_REPAIR_CHARS`` characters each). The first list or object it yields that holds a dataset with a
    non-empty title is the answer, so prose without JSON, a citation such as ``[Smith et al., 2020]``,
    ``{see below}``, a lone ``[`` or objects without a title give none. An answer cut at the token limit
    or by the repetition stop keeps every object written before the cut, and the object it was cut in
    keeps its fields, the cut value as far as it was written: the model did name those datasets, and a
    loop's repeated objects are false positives for the scorer anyway.
    """
    if not isinstance(text, str):
        return ParsedAnswer([], valid=False)
    decoder = json.JSONDecoder()
    position = 0
    failed: list[int] = []
    # After a string that never closes, the scan goes on inside it. No unescaped quote follows, so what
    # decodes there has no key (a "[]" in a cut description): no answer, but broken JSON is still repaired.
    in_cut_string = False
    while match := _JSON_START.search(text, position):
        start = match.start()
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError as error:
            failed.append(start)
            in_cut_string = in_cut_string or error.msg.startswith("Unterminated string")
            position = max(start + 1, error.pos)
            continue
        except ValueError:  # e.g. an integer beyond Python's digit limit
            position = start + 1
            continue
        except RecursionError:  # absurd nesting: skip the whole run, else each bracket costs a deep descent
            position = max(start + 1, _BRACKET_RUN.match(text, start).end())
            continue
        if _looks_like_answer(value) and not in_cut_string:
            return ParsedAnswer(_coerced(value), valid=True)
        position = start + 1
    for start in failed[:MAX_REPAIR_ATTEMPTS]:
        if (datasets := _repaired_answer(text[start : start + MAX_REPAIR_CHARS])) is not None:
            return ParsedAnswer(datasets, valid=False, repaired=True)
    return ParsedAnswer([], valid=False)


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
