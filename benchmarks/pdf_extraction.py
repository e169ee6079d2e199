"""How much of a paper survives being typeset as a PDF and read back, and how fast each reader is.

    python -m benchmarks.pdf_extraction [--n-papers 20] [--seed 0] [--columns 1 2] [--out pdf.json]

Renders generated papers with ``paperdcat.corpus.render.render_pdf`` (one and two columns), reads each PDF
with PDFium (pypdfium2) and with pypdf, tidies the text as ``paper_text`` does (``reflow``; ``lines``: only
``clean_text``, one printed line a line) and compares it with the cleaned original text:

- ``words``: share of the original's words (``\\w+`` tokens, casefolded, counted with multiplicity) found in
  the PDF text;
- ``titles``: share of the gold datasets named in the original text (title or alias) still named in the PDF
  text;
- ``context_evidence``: evidence recall of the evidence-strategy context (``build_context``, a word count as
  the token count, ``--budget`` words) built from the PDF text, beside the same from the original text:
  what the model would see;
- ``creator_evidence``: the same for gold creator names (written only in reference entries, which the
  context keeps after the sentence that cites them);
- ``headings`` / ``references``: units that ``split_units`` reads as headings and as reference entries, per
  paper (mean); the original text's are the yardstick: a PDF's text has a line break at every printed line,
  and a short line (most of a two-column page) reads as a heading;
- ``ms_per_page`` / ``ms_per_paper``: reading time (median over papers) of each reader.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from paperdcat.corpus.generated import generate_corpus
from paperdcat.corpus.render import render_pdf
from paperdcat.extraction.context import (
    build_context,
    clean_text,
    creator_evidence_recall,
    evidence_recall,
    mentioned_in_text,
    split_units,
)
from paperdcat.extraction.pdf import join_pages, pdfium_pages, pypdf_pages, tidy_pdf_text
from paperdcat.params import PreprocessParams

READERS: dict[str, Callable[[Path], list[str]]] = {"pdfium": pdfium_pages, "pypdf": pypdf_pages}
# Each reader's pages as paper_text makes them ("reflow"), and cleaned but with the printed lines ("lines").
TIDY: dict[str, Callable[[str], str]] = {"reflow": tidy_pdf_text, "lines": clean_text}
WORD = re.compile(r"\w+")


def word_recovery(original: str, extracted: str) -> tuple[int, int]:
    """(original words found in ``extracted``, original words), counted with multiplicity."""
    want = Counter(WORD.findall(original.casefold()))
    have = Counter(WORD.findall(extracted.casefold()))
    return sum((want & have).values()), sum(want.values())


def count_words(texts: list[str]) -> list[int]:
    return [len(text.split()) for text in texts]


def measure(papers: list[dict], columns: int, folder: Path, budget: int) -> dict[str, dict]:
    window = PreprocessParams().cue_window_words
    results: dict[str, dict] = {}
    originals = [clean_text(paper["text"]) for paper in papers]
    paths = []
    for paper in papers:
        paths.append(folder / f"{paper['paper_id']}-{columns}col.pdf")
        render_pdf(paper, paths[-1], columns)
    for (name, read), (tidy_name, tidy) in itertools.product(READERS.items(), TIDY.items()):
        found = total = named_orig = named_pdf = pages = 0
        seconds, contexts, gold = [], [], []
        kinds: Counter[str] = Counter()
        for paper, original, path in zip(papers, originals, paths, strict=True):
            start = time.perf_counter()
            texts = read(path)
            seconds.append(time.perf_counter() - start)
            pages += len(texts)
            text = tidy(join_pages(texts))
            hit, words = word_recovery(original, text)
            found, total = found + hit, total + words
            named = mentioned_in_text(paper["datasets"], original)
            named_orig += len(named)
            named_pdf += len(mentioned_in_text(named, text))
            contexts.append(build_context(text, budget, count_words, window))
            gold.append(named)
            kinds.update(unit.kind for unit in split_units(text))
        results[f"{name}, {tidy_name}"] = {
            "papers": len(papers),
            "pages": pages,
            "words": round(found / total, 4),
            "titles": round(named_pdf / named_orig, 4) if named_orig else None,
            "context_evidence": evidence_recall(contexts, gold),
            "creator_evidence": creator_evidence_recall(contexts, gold),
            **_unit_counts(kinds, len(papers)),
            "ms_per_paper": round(1000 * statistics.median(seconds), 2),
            "ms_per_page": round(1000 * sum(seconds) / pages, 2),
        }
    gold = [mentioned_in_text(p["datasets"], o) for p, o in zip(papers, originals, strict=True)]
    original_contexts = [build_context(text, budget, count_words, window) for text in originals]
    results["original"] = {
        "context_evidence": evidence_recall(original_contexts, gold),
        "creator_evidence": creator_evidence_recall(original_contexts, gold),
        **_unit_counts(Counter(unit.kind for text in originals for unit in split_units(text)), len(papers)),
    }
    return results


def _unit_counts(kinds: Counter[str], papers: int) -> dict[str, float]:
    return {kind + "s": round(kinds[kind] / papers, 1) for kind in ("heading", "reference")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-papers", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--columns", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--budget", type=int, default=300, help="context budget in words")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    papers = generate_corpus(args.n_papers, args.seed)
    report: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as folder:
        for columns in args.columns:
            report[f"{columns} column"] = measure(papers, columns, Path(folder), args.budget)
    table = Table(title=f"{args.n_papers} generated papers (seed {args.seed}) as PDFs")
    keys = ("pages", "words", "titles", "context_evidence", "creator_evidence", "headings", "references")
    keys += ("ms_per_page", "ms_per_paper")
    for column in ("layout", "reader", *keys):
        table.add_column(column.replace("_", " "))
    for layout, results in report.items():
        for reader, row in results.items():
            table.add_row(layout, reader, *(str(row.get(key, "")) for key in keys))
    Console().print(table)
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
