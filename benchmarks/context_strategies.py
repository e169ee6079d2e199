"""Evidence kept by each context strategy at each budget, for any corpus source.

    python -m benchmarks.context_strategies --source scirex --path ../shared/data/scirex/train.jsonl \
        --n-papers 306 --budgets 384 512 [--out strategies.json]

Reads the tokenizer of ``models/base`` (run ``dvc repro fetch`` first). For each budget and strategy
(``preprocess.strategy``) it reports the evidence recall over all gold datasets, over the datasets the full
text names, and of gold creator names, as the preprocess stage computes them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table
from transformers import AutoTokenizer

from paperdcat.corpus.preprocess import build_contexts
from paperdcat.corpus.sources import load_corpus
from paperdcat.params import DataParams, PreprocessParams

STRATEGIES = PreprocessParams.model_fields["strategy"].annotation.__args__


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="generated")
    parser.add_argument("--path")
    parser.add_argument("--n-papers", type=int, default=160)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--budgets", type=int, nargs="+", default=[384, 512])
    parser.add_argument(
        "--window",
        type=int,
        default=PreprocessParams.model_fields["cue_window_words"].default,
        help="preprocess.cue_window_words for the evidence strategy",
    )
    parser.add_argument("--model", type=Path, default=Path("models/base"))
    parser.add_argument("--out", type=Path, help="write the rows as JSON here")
    args = parser.parse_args()
    papers = load_corpus(
        DataParams(source=args.source, path=args.path, n_papers=args.n_papers, seed=args.seed)
    )
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    rows = []
    for budget in args.budgets:
        for strategy in STRATEGIES:
            params = PreprocessParams(
                max_context_tokens=budget, strategy=strategy, cue_window_words=args.window
            )
            _, stats = build_contexts(papers, tokenizer, params)
            rows.append(
                {
                    "budget": budget,
                    "strategy": strategy,
                    "evidence_recall": stats["evidence_recall"],
                    "evidence_recall_of_mentioned": stats["evidence_recall_of_mentioned"],
                    "creator_evidence_recall": stats["creator_evidence_recall"],
                    "context_tokens_mean": stats["context_tokens_mean"],
                }
            )
    table = Table(
        "budget",
        "strategy",
        "evidence recall",
        "of named",
        "creator evidence",
        "mean tokens",
        title=f"{args.source}: {len(papers)} papers",
    )
    for row in rows:
        table.add_row(*(str(value) for value in row.values()))
    Console().print(table)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
