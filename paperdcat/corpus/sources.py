"""Corpus sources: each turns one source of ``data.source`` into normalised paper records (see
paperdcat.schema).

- ``generated``: the embedded corpus (paperdcat.corpus.generated).
- ``jsonl``: a normalised corpus at ``data.path``.
- ``scirex``: SciREX papers, text rebuilt from tokens, gold from its result relations
  (paperdcat.corpus.scirex).
- ``metamine``: the MetaMine layout at ``data.path``: ``txt_files/<Topic>/paper_N.txt`` beside
  ``json_files/<Topic>/paper_N.json`` (a JSON list of DCAT dataset objects; a single object is a list of
  one); ``paper_id`` is ``<Topic>/paper_N``. A text without a gold file is skipped, not taken as a paper
  without datasets: a missing annotation is not an annotated "uses no dataset", and training on it would
  teach the model to answer ``[]``. The skipped texts are counted and the count printed. Gold files
  without a text are ignored (MetaMine publishes gold only). Papers come in rounds over the topics
  (each topic's first paper by number, then each topic's second, ...), so that the first ``data.n_papers``
  cover every topic.

``data.source`` may list several sources, each with its own ``path`` and ``n_papers``
(``DataParams.sources``). Their papers are concatenated in the order listed, each record tagged with
``"source": <name>`` and its ``paper_id`` prefixed with ``<name>/`` (unique across sources). A single source
adds neither, so that its corpus file is the same whichever form names it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from paperdcat.errors import PaperdcatError
from paperdcat.io import read_json, read_jsonl
from paperdcat.params import DataParams, SourceParams
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
    paper = {
        "paper_id": str(record["paper_id"]),
        "text": record["text"],
        "datasets": [coerce_dataset(item, fill_missing=False) for item in datasets],
    }
    # fetch tags each paper of several sources with its source's name; a JSONL corpus's own "source" of
    # another kind is ignored, as any other extra field
    if isinstance(record.get("source"), str) and record["source"]:
        paper["source"] = record["source"]
    return paper


def read_papers(path: str | Path) -> list[Paper]:
    """Read a normalised corpus file, checking every line."""
    return [validate_paper(row, f"{path}:{number}") for number, row in enumerate(read_jsonl(path), start=1)]


def _required_path(source: SourceParams, what: str = "") -> Path:
    path = source.local_path()
    if path is None:
        raise PaperdcatError(
            f"params.yaml: {source.key}.path: required for data.source {source.name!r}{what}"
        )
    return path


def _generated(source: SourceParams) -> list[Paper]:
    from paperdcat.corpus.generated import generate_corpus

    return generate_corpus(source.n_papers, source.seed)


def _jsonl(source: SourceParams) -> list[Paper]:
    return read_papers(_required_path(source))[: source.n_papers]


def _scirex(source: SourceParams) -> list[Paper]:
    from paperdcat.corpus.scirex import load_scirex

    return load_scirex(source)


def _paper_number(path: Path) -> tuple[int, str]:
    """Sort key: ``paper_12`` after ``paper_9``; names without a number last, by name."""
    match = re.search(r"(\d+)$", path.stem)
    return (int(match.group(1)) if match else 1 << 62, path.stem)


def read_metamine(folder: str | Path, limit: int | None = None) -> list[Paper]:
    """Papers of a MetaMine folder (``txt_files/<Topic>/paper_N.txt`` + ``json_files/...json``)."""
    folder = Path(folder)
    texts, golds = folder / "txt_files", folder / "json_files"
    topics: dict[str, list[Path]] = {}
    for path in texts.glob("*/*.txt"):
        topics.setdefault(path.parent.name, []).append(path)
    if not topics:
        raise PaperdcatError(f"{folder}: no paper texts (txt_files/<Topic>/paper_N.txt)")
    for paths in topics.values():
        paths.sort(key=_paper_number)
    rounds = max(len(paths) for paths in topics.values())
    ordered = [topics[t][i] for i in range(rounds) for t in sorted(topics) if i < len(topics[t])]
    pairs = [(txt, golds / txt.parent.name / f"{txt.stem}.json") for txt in ordered]
    with_gold = [(txt, gold) for txt, gold in pairs if gold.is_file()]
    if skipped := len(pairs) - len(with_gold):
        print(f"data.source 'metamine': skipped {skipped} of {len(pairs)} texts with no gold file in {golds}")
    return [_metamine_paper(txt, gold) for txt, gold in with_gold[:limit]]


def _metamine_paper(txt: Path, gold: Path) -> Paper:
    try:
        text = txt.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PaperdcatError(f"{txt}: cannot read ({' '.join(str(error).split())})") from None
    if not text.strip():
        raise PaperdcatError(f"{txt}: empty text")
    datasets = read_json(gold)
    record = {
        "paper_id": f"{txt.parent.name}/{txt.stem}",
        "text": text,
        "datasets": [datasets] if isinstance(datasets, dict) else datasets,
    }
    return validate_paper(record, str(gold))


def _metamine(source: SourceParams) -> list[Paper]:
    path = _required_path(source, " (a folder with txt_files/<Topic>/ and json_files/<Topic>/)")
    return read_metamine(path, source.n_papers)


SOURCES: dict[str, Callable[[SourceParams], list[Paper]]] = {
    "generated": _generated,
    "jsonl": _jsonl,
    "scirex": _scirex,
    "metamine": _metamine,
}


def load_source(source: SourceParams) -> list[Paper]:
    papers = SOURCES[source.name](source)
    if not papers:
        raise PaperdcatError(f"data.source {source.name!r}: no papers")
    return papers


def load_corpus(params: DataParams) -> list[Paper]:
    """The papers of every source in ``data.source``; tagged with their source when there are several."""
    sources = params.sources()
    if len(sources) == 1:
        return [_untagged(paper) for paper in load_source(sources[0])]
    return [
        {**_untagged(paper), "paper_id": f"{source.name}/{paper['paper_id']}", "source": source.name}
        for source in sources
        for paper in load_source(source)
    ]


def _untagged(paper: Paper) -> Paper:
    """``paper`` without a ``source`` of its own (a JSONL corpus may carry one): fetch sets it."""
    return {key: value for key, value in paper.items() if key != "source"}
