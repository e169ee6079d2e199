"""Extract from PDFs with the committed default adapter and compare with evaluate on the same papers.

The default run's test papers (``data/processed/test.jsonl``, texts from ``data/raw/papers.jsonl``) are
rendered as PDFs (odd papers in two columns), then ``paperdcat extract`` reads them with ``models/base`` +
``models/adapter``. The same papers also go through extract as a corpus JSONL (no PDF), which must repeat
evaluate's predictions exactly. Reports dataset and creator F1 of the three, s/paper split into PDF reading
and generation, and the SHACL result of the PDF run's graph. Needs a finished ``dvc repro``; run it on an
otherwise idle machine::

    python -m benchmarks.extract_pdfs --work /tmp/extract-bench --out benchmarks/results/extract_pdfs.json
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from rich.console import Console
from rich.table import Table

from paperdcat.corpus.render import render_pdf
from paperdcat.extraction.pipeline import ExtractOptions, extract
from paperdcat.io import read_json, read_jsonl, write_json, write_jsonl
from paperdcat.params import load_params
from paperdcat.schema import metamine_record
from paperdcat.scoring.score import score_dirs, score_papers


def headline(metrics: dict) -> dict:
    return {
        "datasets_f1": metrics["datasets"]["f1"],
        "creator_f1": metrics["fields"]["creator"]["f1"],
        "fields_macro_f1": metrics["fields_macro_f1"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="scratch folder (emptied first)")
    parser.add_argument("--out", type=Path, required=True, help="results JSON")
    args = parser.parse_args()
    params = load_params().evaluate
    test = read_jsonl("data/processed/test.jsonl")[: params.max_papers]
    raw = {paper["paper_id"]: paper for paper in read_jsonl("data/raw/papers.jsonl")}
    papers = [raw[record["paper_id"]] for record in test]
    shutil.rmtree(args.work, ignore_errors=True)
    pdfs, gold = args.work / "pdfs", args.work / "gold"
    pdfs.mkdir(parents=True)
    gold.mkdir()
    for number, paper in enumerate(papers):
        render_pdf(paper, pdfs / f"{paper['paper_id']}.pdf", columns=2 if number % 2 else 1)
        write_json(gold / f"{paper['paper_id']}.json", [metamine_record(d) for d in paper["datasets"]])
    write_jsonl(args.work / "texts.jsonl", papers)
    runs = {}
    for name, source in (("pdf", pdfs), ("text", args.work / "texts.jsonl")):
        options = ExtractOptions(
            inputs=[source],
            out=args.work / name,
            batch_size=params.batch_size,
            max_new_tokens=params.max_new_tokens,
            validate=name == "pdf",
        )
        summary = extract(options)
        scores = score_dirs(
            gold,
            args.work / name,
            title_threshold=params.title_match_threshold,
            item_threshold=params.item_match_threshold,
        )
        runs[name] = {**headline(scores), "summary": summary}
    predictions = read_jsonl("data/predictions/tuned.jsonl")
    evaluate_scores = score_papers(
        [(row["gold"], row["datasets"]) for row in predictions],
        title_threshold=params.title_match_threshold,
        item_threshold=params.item_match_threshold,
    )
    runs["evaluate"] = {
        **headline(evaluate_scores),
        "sec_per_paper": read_json("metrics/tuned.json")["sec_per_paper"],
    }
    result = {
        "papers": len(papers),
        "runs": runs,
        "datasets_f1_pdf_minus_evaluate": round(
            runs["pdf"]["datasets_f1"] - runs["evaluate"]["datasets_f1"], 4
        ),
        "shacl": runs["pdf"]["summary"].get("shacl"),
    }
    write_json(args.out, result)
    table = Table(title=f"extract vs evaluate, {len(papers)} test papers of the default run")
    columns = ("run", "dataset F1", "creator F1", "macro F1", "s/paper read", "context", "generate")
    for column in columns:
        table.add_column(column)
    for name, row in runs.items():
        seconds = row.get("summary", {}).get("s_per_paper", {})
        table.add_row(
            name,
            f"{row['datasets_f1']:.3f}",
            f"{row['creator_f1']:.3f}",
            f"{row['fields_macro_f1']:.3f}",
            str(seconds.get("read", "")),
            str(seconds.get("context", "")),
            str(seconds.get("generate", row.get("sec_per_paper", ""))),
        )
    Console().print(table)


if __name__ == "__main__":
    main()
