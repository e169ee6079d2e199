"""The SciREX corpus (Jain et al., ACL 2020) as normalised paper records (``data.source: scirex``).

Each line of a SciREX ``.jsonl`` file is one paper: its tokens (``words``), ``[start, end)`` word spans of
``sentences`` and ``sections``, entity mentions (``coref``: canonical name -> spans) and the results it
reports (``n_ary_relations``: ``{Material, Method, Metric, Task, score}``).

Text. Tokens are joined with spaces, except before closing punctuation (``. , ; : ) ] ! ? % '`` and the
curly ``’ ”``) and English clitics (``'s``, ``n't``), and after opening brackets (``( [ “``). A ``-`` between
two word characters is a hyphen and closes up (``CIFAR-10``, ``state-of-the-art``: fewer tokens, and
headings stay short enough for the builder); elsewhere it is a dash or a minus sign and keeps its spaces.
Every section after the first starts
with a marker token and a colon (``section :``, ``subsection :``, ``paragraph :``, ``appendix :``,
``bibliography :`` ...) followed by the heading, which SciREX's sentence splitter ends as a sentence of its
own: the marker is dropped and the heading becomes its own line, with a blank line before each section, so
that the context builder sees headings. ``theorem :`` and ``proof :`` open environments, not sections:
their marker is dropped and their text stays in the running text. A heading with no letter or digit
(``theorem : .``, ``section :``) is dropped, and a heading's final period (run-in paragraph headings such
as ``Results .``) too, since the builder takes a line that ends with a period for a sentence.

Section 0 is the first line (the title). In most papers it reads ``document : <title> <abstract>``: the
first sentence is the title and the rest goes under an ``Abstract`` heading (the builder picks abstracts
by their heading). Without that marker, a section 0 of at most ``TITLE_MAX_TOKENS`` tokens is all title
(titles the splitter cut at a colon, ``InfoGAN :`` + ``Interpretable ...``); a longer one (title and
abstract run together, or no title at all) gives its first sentence as the first line and the rest as
running text, since nothing marks where an abstract would end.

Gold. The datasets are the distinct ``Material`` values of ``n_ary_relations`` in order of first
appearance, canonical names with runs of underscores as one space; each carries only ``dcterms:title`` and
``mls:task`` (the distinct tasks paired with it), so the scorer skips every field SciREX does not
annotate, and the side field ``aliases``: the distinct mention strings of that entity in ``coref``,
rebuilt like the text, in text order.

When ``data.path`` is unset, the SciREX release is downloaded once into ``<cache>/scirex/``
(``$PAPERDCAT_CACHE``, else ``~/.cache/paperdcat``) and its ``train``, ``dev`` and ``test`` files are read
in that order: the pipeline makes its own split, so every released paper is used. Offline, with no cached
release, that is a one-line error asking for ``data.path``.
"""

from __future__ import annotations

import re
import shutil
import socket
import tarfile
import urllib.request
from bisect import bisect_right
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from paperdcat.corpus.sources import Paper, validate_paper
from paperdcat.errors import PaperdcatError
from paperdcat.io import atomic_path, read_jsonl
from paperdcat.models import cache_dir
from paperdcat.params import SourceParams

RELEASE_URL = "https://github.com/allenai/SciREX/raw/master/scirex_dataset/release_data.tar.gz"
RELEASE_FILES: tuple[str, ...] = ("train.jsonl", "dev.jsonl", "test.jsonl")
NETWORK_TIMEOUT_S = 3.0
DOWNLOAD_TIMEOUT_S = 60.0

NO_SPACE_BEFORE = frozenset({".", ",", ";", ":", ")", "]", "!", "?", "%", "'", "’", "”"})
NO_SPACE_AFTER = frozenset({"(", "[", "“"})
CLITIC = re.compile(r"^(?:['’](?:s|re|ve|ll|d|m)|n['’]t)$", re.IGNORECASE)
HEADING_MARKERS = frozenset(
    {"section", "subsection", "subsubsection", "paragraph", "subparagraph", "appendix", "bibliography"}
)
INLINE_MARKERS = frozenset({"theorem", "proof"})
TITLE_MARKER = "document"
TITLE_MAX_TOKENS = 40
ABSTRACT_HEADING = "Abstract"
REQUIRED_KEYS: tuple[str, ...] = ("doc_id", "words", "sentences", "sections", "coref", "n_ary_relations")

Span = tuple[int, int]


# ---------------------------------------------------------------------------------------------- text


def join_tokens(tokens: Sequence[str]) -> str:
    """Tokens as readable text: no space before closing punctuation or a clitic, none after an opening
    bracket, and a hyphen between two words closed up (``CIFAR - 10`` -> ``CIFAR-10``)."""
    parts: list[str] = []
    glue = True
    for index, token in enumerate(tokens):
        inner_hyphen = _joins_words(tokens, index)
        if not glue and token not in NO_SPACE_BEFORE and not CLITIC.match(token) and not inner_hyphen:
            parts.append(" ")
        parts.append(token)
        glue = token in NO_SPACE_AFTER or inner_hyphen
    return "".join(parts)


def _joins_words(tokens: Sequence[str], index: int) -> bool:
    """A ``-`` token with a word character on both sides: a hyphen, not a dash or a minus sign."""
    return (
        tokens[index] == "-"
        and 0 < index < len(tokens) - 1
        and tokens[index - 1][-1:].isalnum()
        and tokens[index + 1][:1].isalnum()
    )


def _has_word(tokens: Sequence[str]) -> bool:
    return any(char.isalnum() for token in tokens for char in token)


def _first_sentence_end(start: int, end: int, boundaries: Sequence[int]) -> int:
    """End of the sentence that opens the span ``[start, end)`` (``end`` if no boundary falls inside);
    ``boundaries`` are the sorted sentence starts and ends."""
    index = bisect_right(boundaries, start)
    return min(boundaries[index], end) if index < len(boundaries) else end


def _title_section(words: Sequence[str], start: int, end: int, boundaries: Sequence[int]) -> list[str]:
    """Lines for section 0: the title, then the abstract (under a heading when SciREX marks the title)."""
    first_end = _first_sentence_end(start, end, boundaries)
    if tuple(words[start : start + 2]) == (TITLE_MARKER, ":"):
        title, rest, heading = words[start + 2 : first_end], words[first_end:end], ABSTRACT_HEADING
    elif end - start <= TITLE_MAX_TOKENS:
        title, rest, heading = words[start:end], [], ""
    else:
        title, rest, heading = words[start:first_end], words[first_end:end], ""
    lines = [join_tokens(title)] if _has_word(title) else []
    if rest:
        lines += ["", *([heading] if heading else []), join_tokens(rest)]
    return lines


def _section(words: Sequence[str], start: int, end: int, boundaries: Sequence[int]) -> list[str]:
    """Lines for a later section: a blank line, the heading (marker dropped) and the running text."""
    marker = words[start] if tuple(words[start + 1 : start + 2]) == (":",) else None
    if marker not in HEADING_MARKERS and marker not in INLINE_MARKERS:
        return ["", join_tokens(words[start:end])]
    heading_end = _first_sentence_end(start, end, boundaries)
    heading, body = words[start + 2 : heading_end], words[heading_end:end]
    if not _has_word(heading):
        heading = []
    if marker in INLINE_MARKERS:
        heading, body = [], [*heading, *body]
    elif heading[-1:] == ["."]:  # a run-in heading ("Results."): the builder takes "Results" for one
        heading = heading[:-1]
    lines = [join_tokens(part) for part in (heading, body) if part]
    return ["", *lines] if lines else []


def rebuild_text(words: Sequence[str], sentences: Sequence[Span], sections: Sequence[Span]) -> str:
    """Readable text of a SciREX paper: title line, then sections with their headings on lines of their
    own, separated by blank lines."""
    boundaries = sorted({b for span in sentences for b in span})
    lines = _title_section(words, *sections[0], boundaries)
    for start, end in sections[1:]:
        if end > start:
            lines += _section(words, start, end, boundaries)
    return "\n".join(lines).strip()


# ---------------------------------------------------------------------------------------------- gold


def canonical_name(name: str) -> str:
    """A SciREX entity name as text: ``CNN___Daily_Mail`` -> ``CNN Daily Mail``."""
    return " ".join(name.replace("_", " ").split())


def gold_datasets(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The datasets a paper reports results on: title, tasks and in-text aliases (``doc`` is checked)."""
    tasks_by_material: dict[str, list[str]] = {}
    for relation in doc["n_ary_relations"]:
        tasks = tasks_by_material.setdefault(relation["Material"], [])
        if relation.get("Task"):
            tasks.append(canonical_name(relation["Task"]))
    words = doc["words"]
    return [
        {
            "dcterms:title": canonical_name(material),
            "mls:task": list(dict.fromkeys(tasks)),
            "aliases": list(
                dict.fromkeys(join_tokens(words[s:e]) for s, e in sorted(doc["coref"].get(material, [])))
            ),
        }
        for material, tasks in tasks_by_material.items()
    ]


# ---------------------------------------------------------------------------------------------- checking


def _check_spans(value: Any, n_words: int, key: str, where: str) -> list[Span]:
    if not isinstance(value, list) or not all(
        isinstance(span, list)
        and len(span) == 2
        and all(isinstance(b, int) and not isinstance(b, bool) for b in span)
        and 0 <= span[0] <= span[1] <= n_words
        for span in value
    ):
        raise PaperdcatError(f"{where}: field '{key}' must be a list of [start, end] word spans")
    return [(start, end) for start, end in value]


def check_doc(doc: Any, where: str) -> dict[str, Any]:
    """Check the SciREX fields this source reads; ``where`` names the file and line for the error."""
    if not isinstance(doc, dict):
        raise PaperdcatError(f"{where}: expected a JSON object, got {type(doc).__name__}")
    for key in REQUIRED_KEYS:
        if key not in doc:
            raise PaperdcatError(f"{where}: missing field '{key}'")
    words = doc["words"]
    if not isinstance(words, list) or not words or not all(isinstance(word, str) for word in words):
        raise PaperdcatError(f"{where}: field 'words' must be a non-empty list of strings")
    # Tokens never hold whitespace in the release; a newline inside one would break the line structure.
    words = [" ".join(word.split()) for word in words]
    sentences = _check_spans(doc["sentences"], len(words), "sentences", where)
    sections = _check_spans(doc["sections"], len(words), "sections", where)
    if not sections:
        raise PaperdcatError(f"{where}: field 'sections' is empty")
    coref = doc["coref"]
    if not isinstance(coref, dict):
        raise PaperdcatError(f"{where}: field 'coref' must be an object of entity name -> spans")
    coref = {name: _check_spans(spans, len(words), f"coref.{name}", where) for name, spans in coref.items()}
    relations = doc["n_ary_relations"]
    if not isinstance(relations, list) or not all(
        isinstance(r, dict)
        and isinstance(r.get("Material"), str)
        and r["Material"].strip()
        and isinstance(r.get("Task") or "", str)
        for r in relations
    ):
        raise PaperdcatError(
            f"{where}: field 'n_ary_relations' must be a list of objects with a 'Material' name"
        )
    return {**doc, "words": words, "sentences": sentences, "sections": sections, "coref": coref}


def paper_from_doc(doc: Any, where: str) -> Paper:
    """One SciREX line as a normalised paper record."""
    doc = check_doc(doc, where)
    record = {
        "paper_id": str(doc["doc_id"]),
        "text": rebuild_text(doc["words"], doc["sentences"], doc["sections"]),
        "datasets": gold_datasets(doc),
    }
    return validate_paper(record, where)


def read_scirex(path: str | Path, limit: int | None = None) -> list[Paper]:
    """Papers of a SciREX ``.jsonl`` file (the first ``limit`` of them), every line checked."""
    rows = read_jsonl(path)[:limit]
    return [paper_from_doc(row, f"{path}:{number}") for number, row in enumerate(rows, start=1)]


# ---------------------------------------------------------------------------------------------- release


def github_reachable(timeout_s: float = NETWORK_TIMEOUT_S) -> bool:
    """A quick TCP probe of GitHub, so that an offline machine fails in seconds rather than after retries."""
    try:
        socket.create_connection(("github.com", 443), timeout=timeout_s).close()
    except OSError:
        return False
    return True


def release_files(folder: Path | None = None, path_key: str = "data.path") -> list[Path]:
    """The release's train, dev and test files, downloaded and unpacked into ``folder`` on first use
    (``path_key``: the params key that would name a local file instead)."""
    folder = folder or cache_dir() / "scirex"
    extracted = folder / "release_data"

    def found() -> list[Path] | None:
        files = [path for name in RELEASE_FILES if (path := next(extracted.rglob(name), None))]
        return files if len(files) == len(RELEASE_FILES) else None

    if extracted.is_dir() and (files := found()):
        return files
    if not github_reachable():
        raise PaperdcatError(
            f"params.yaml: {path_key}: required for data.source 'scirex' (no network to download the SciREX "
            "release; point it at a local train.jsonl)"
        )
    archive = folder / "release_data.tar.gz"
    try:
        if not archive.is_file():
            with (
                atomic_path(archive) as tmp,
                urllib.request.urlopen(RELEASE_URL, timeout=DOWNLOAD_TIMEOUT_S) as response,
                tmp.open("wb") as out,
            ):
                shutil.copyfileobj(response, out)
        with atomic_path(extracted) as tmp, tarfile.open(archive) as tar:
            # The "data" filter refuses absolute paths and links out of the folder (Python >= 3.11.4).
            tar.extractall(tmp, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    except (OSError, tarfile.TarError) as error:
        reason = " ".join(str(error).split())
        raise PaperdcatError(
            f"data.source 'scirex': cannot download or unpack {RELEASE_URL} ({reason}); "
            "set data.path to a local train.jsonl"
        ) from None
    if not (files := found()):
        raise PaperdcatError(f"{archive}: no {', '.join(RELEASE_FILES)} in the SciREX release")
    print(f"data.source 'scirex': release downloaded to {extracted} (reading {', '.join(RELEASE_FILES)})")
    return files


def load_scirex(source: SourceParams) -> list[Paper]:
    """``data.source: scirex``: its ``path``, else the downloaded release (train + dev + test)."""
    path = source.local_path()
    if path is not None:
        return read_scirex(path, source.n_papers)
    papers: list[Paper] = []
    for path in release_files(path_key=f"{source.key}.path"):
        papers += read_scirex(path, source.n_papers - len(papers))
        if len(papers) >= source.n_papers:
            break
    return papers
