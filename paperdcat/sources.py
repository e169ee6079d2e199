"""Corpus sources: each turns ``data.*`` params into normalised paper records (see paperdcat.schema)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from paperdcat.errors import PaperdcatError
from paperdcat.io import read_jsonl
from paperdcat.params import DataParams
from paperdcat.schema import coerce_dataset

Paper = dict[str, Any]


def validate_paper(record: Any, where: str) -> Paper:
    """Check one paper record; ``where`` names the file and line for the error message."""
    if not isinstance(record, dict):
        raise PaperdcatError(f"{where}: expected a JSON object, got {type(record).__name__}")
    for key in ("paper_id", "text"):
        if key not in record:
            raise PaperdcatError(f"{where}: missing field '{key}'")
    if not isinstance(record["text"], str) or not record["text"].strip():
        raise PaperdcatError(f"{where}: field 'text' is empty")
    datasets = record.get("datasets", [])
    if not isinstance(datasets, list) or not all(isinstance(item, dict) for item in datasets):
        raise PaperdcatError(f"{where}: field 'datasets' must be a list of objects")
    return {
        "paper_id": str(record["paper_id"]),
        "text": record["text"],
        "datasets": [coerce_dataset(item, fill_missing=False) for item in datasets],
    }


def read_papers(path: str) -> list[Paper]:
    """Read a normalised corpus file, checking every line."""
    return [validate_paper(row, f"{path}:{number}") for number, row in enumerate(read_jsonl(path), start=1)]


def _generated(params: DataParams) -> list[Paper]:
    from paperdcat.generate import generate_corpus

    return generate_corpus(params.n_papers, params.seed)


def _jsonl(params: DataParams) -> list[Paper]:
    if not params.path:
        raise PaperdcatError("params.yaml: data.path: required when data.source is 'jsonl'")
    return read_papers(params.path)[: params.n_papers]


SOURCES: dict[str, Callable[[DataParams], list[Paper]]] = {"generated": _generated, "jsonl": _jsonl}


def load_corpus(params: DataParams) -> list[Paper]:
    papers = SOURCES[params.source](params)
    if not papers:
        raise PaperdcatError(f"data.source {params.source!r}: no papers")
    return papers
