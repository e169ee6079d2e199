"""The DCAT record of one dataset, and the normalised paper record every source produces.

A paper record is ``{"paper_id": str, "text": str, "datasets": [dataset, ...]}``. A dataset is a dict
keyed by the DCAT terms below. A key that is absent means "this source does not annotate that field"
(the scorer skips it); an empty string or list means "the paper does not state it". The optional side
field ``aliases`` lists the surface forms under which the dataset is mentioned in the text: scoring may
use it to match titles, the model is never shown it as gold.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

DCAT_FIELDS: tuple[str, ...] = (
    "dcterms:title",
    "dcterms:creator",
    "dcterms:issued",
    "dcterms:description",
    "dcterms:language",
    "dcterms:identifier",
    "dcat:landingPage",
    "dcterms:hasVersion",
    "dcterms:format",
    "dcat:theme",
    "dcat:keyword",
    "mls:task",
)
LIST_FIELDS: frozenset[str] = frozenset({"dcterms:creator", "dcat:theme", "dcat:keyword", "mls:task"})
ALIASES = "aliases"

# Local names ("title", "landingPage") are what the model writes in its compact answers.
SHORT_NAME: dict[str, str] = {field: field.split(":", 1)[1] for field in DCAT_FIELDS}
FIELD_BY_SHORT_NAME: dict[str, str] = {short: field for field, short in SHORT_NAME.items()}


_NON_WORD = re.compile(r"[\W_]+")


def normalize(text: str) -> str:
    """NFKC, casefold, punctuation to spaces, spaces collapsed: the form every comparison starts from."""
    return " ".join(_NON_WORD.sub(" ", unicodedata.normalize("NFKC", text).casefold()).split())


def field_for_key(key: str) -> str | None:
    """The DCAT field a key names: prefixed (``dcterms:title``) or local (``title``); None if unknown."""
    if key in SHORT_NAME:
        return key
    return FIELD_BY_SHORT_NAME.get(key) or FIELD_BY_SHORT_NAME.get(key.split(":", 1)[-1])


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "; ".join(_as_text(item) for item in value if _as_text(item))
    if isinstance(value, Mapping):
        return ""
    return str(value).strip()


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else [value]
    return [text for text in (_as_text(item) for item in items) if text]


def coerce_dataset(obj: Mapping[str, Any], *, fill_missing: bool) -> dict[str, Any]:
    """Coerce a loosely typed dataset object (model output or a foreign file) to the DCAT record.

    Keys may be prefixed or local names; unknown keys are dropped, list fields become lists of strings,
    scalar fields strings. With ``fill_missing`` every field is present (empty when absent); without it,
    absent fields stay absent so that a source can mark what it does not annotate.
    """
    record: dict[str, Any] = {}
    for key, value in obj.items():
        field = field_for_key(str(key))
        if field is None:
            continue
        record[field] = _as_list(value) if field in LIST_FIELDS else _as_text(value)
    if fill_missing:
        for field in DCAT_FIELDS:
            record.setdefault(field, [] if field in LIST_FIELDS else "")
    ordered = {field: record[field] for field in DCAT_FIELDS if field in record}
    if ALIASES in obj:
        ordered[ALIASES] = _as_list(obj[ALIASES])
    return ordered


def metamine_record(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A dataset as MetaMine's files write it: every DCAT field under its prefixed name, in DCAT order,
    ``""`` or ``[]`` when empty, no side fields."""
    record = coerce_dataset(obj, fill_missing=True)
    return {field: record[field] for field in DCAT_FIELDS}


def empty_dataset() -> dict[str, Any]:
    return {field: [] if field in LIST_FIELDS else "" for field in DCAT_FIELDS}


def is_empty(value: Any) -> bool:
    return not value if isinstance(value, list) else not str(value).strip()
