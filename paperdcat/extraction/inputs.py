"""The papers an extraction run reads: files, folders and normalised corpus files, each paper with a key.

A paper's key names its outputs, so it is a relative POSIX path without suffix: a file's stem; a file in a
folder, its path relative to that folder (``<Topic>/paper_3`` for MetaMine's ``<Topic>/paper_3.pdf``, so
that the outputs mirror the layout); a record of a ``.jsonl`` corpus, its ``paper_id`` made path-safe.
Order is the order of the inputs, each folder's files sorted by key, each corpus file's records in file
order. Hidden files and folders (a name starting with ".") are skipped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from paperdcat.corpus.sources import read_papers
from paperdcat.errors import PaperdcatError

T = TypeVar("T")
PaperKind = Literal["pdf", "txt", "record"]
PAPER_SUFFIXES: dict[str, PaperKind] = {".pdf": "pdf", ".txt": "txt"}
CORPUS_SUFFIX = ".jsonl"
UNSAFE = re.compile(r"[^\w.\-]+")
SHARD_SPEC = re.compile(r"(\d+)/(\d+)")


@dataclass(frozen=True)
class PaperInput:
    """One paper to read: a file, or a record of a corpus file (``text`` set)."""

    key: str  # relative path without suffix, POSIX, e.g. "Computer_Vision/paper_3"
    source: Path
    kind: PaperKind
    text: str | None = None  # set for JSONL records


# What an extract run writes beside the papers' JSON, whole or per shard (summary.json, summary.2-of-4.json).
RUN_FILES = ("summary", "errors", "catalog")
_RUN_FILE = re.compile(rf"(?:{'|'.join(RUN_FILES)})(?:\.\d+-of-\d+)?\.(?:json|jsonl|ttl|jsonld)")


def is_run_file(relative: Path) -> bool:
    """Whether a path of an extract output folder is one of the run's own files, not a paper's JSON."""
    return len(relative.parts) == 1 and _RUN_FILE.fullmatch(relative.name) is not None


def safe_key(paper_id: str) -> str:
    """``paper_id`` as a relative path: "/" keeps nesting, other unsafe runs become "_", no empty, "." or
    ".." parts, no part starting with "." (a hidden file)."""
    parts = [UNSAFE.sub("_", part) for part in paper_id.replace("\\", "/").split("/")]
    parts = [part if not part.startswith(".") else "_" + part.lstrip(".") for part in parts if part]
    return "/".join(part for part in parts if part != "_")


def _folder_papers(folder: Path) -> list[PaperInput]:
    papers = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [name for name in dirs if not name.startswith(".")]
        for name in files:
            path = Path(root, name)
            if name.startswith(".") or path.suffix.lower() not in PAPER_SUFFIXES:
                continue
            key = path.relative_to(folder).with_suffix("").as_posix()
            papers.append(PaperInput(key, path, PAPER_SUFFIXES[path.suffix.lower()]))
    if not papers:
        raise PaperdcatError(f"{folder}: no .pdf or .txt files in this folder")
    return sorted(papers, key=lambda paper: (paper.key, paper.source.suffix))  # a.pdf before a.txt


def _corpus_papers(path: Path) -> list[PaperInput]:
    papers = []
    for record in read_papers(path):
        key = safe_key(record["paper_id"])
        if not key:
            raise PaperdcatError(f"{path}: paper_id {record['paper_id']!r} gives no usable key")
        papers.append(PaperInput(key, path, "record", record["text"]))
    if not papers:
        raise PaperdcatError(f"{path}: no paper records")
    return papers


def _papers_of(path: Path) -> list[PaperInput]:
    if not path.exists():
        raise PaperdcatError(f"{path}: input not found")
    if path.is_dir():
        return _folder_papers(path)
    suffix = path.suffix.lower()
    if suffix in PAPER_SUFFIXES:
        return [PaperInput(path.stem, path, PAPER_SUFFIXES[suffix])]
    if suffix == CORPUS_SUFFIX:
        return _corpus_papers(path)
    raise PaperdcatError(
        f"{path}: unsupported input type {path.suffix or '(no suffix)'!r} "
        "(expected a .pdf, .txt or .jsonl file, or a folder)"
    )


def _describe(paper: PaperInput) -> str:
    return f"{paper.source} (a record)" if paper.kind == "record" else str(paper.source)


def discover_inputs(inputs: Sequence[Path]) -> list[PaperInput]:
    """Every paper of ``inputs``; a missing input, a folder without papers, an unsupported file or two
    papers with the same key is a PaperdcatError naming the path."""
    papers: list[PaperInput] = []
    seen: dict[str, PaperInput] = {}
    for path in map(Path, inputs):
        for paper in _papers_of(path):
            if (other := seen.get(paper.key)) is not None:
                raise PaperdcatError(
                    f"{_describe(paper)}: key {paper.key!r} is already taken by {_describe(other)} "
                    "(their outputs would collide)"
                )
            seen[paper.key] = paper
            papers.append(paper)
    return papers


def parse_shard(spec: str) -> tuple[int, int]:
    """``"K/N"`` as (K, N) with 0 <= K < N."""
    match = SHARD_SPEC.fullmatch(spec.strip())
    if not match or not int(match.group(1)) < int(match.group(2)):
        raise PaperdcatError(f"--shard: {spec!r}: expected K/N with 0 <= K < N, e.g. 2/4")
    return int(match.group(1)), int(match.group(2))


def shard(papers: Sequence[T], spec: str) -> list[T]:
    """Shard ``K/N`` of ``papers``: every N-th paper from the K-th; the shards 0..N-1 partition ``papers``."""
    index, count = parse_shard(spec)
    return list(papers[index::count])
