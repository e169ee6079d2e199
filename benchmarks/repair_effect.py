"""What the json-repair fallback changes in a run's scores, from its saved predictions (no generation).

    python -m benchmarks.repair_effect data/predictions/tuned.jsonl [more.jsonl ...] [--out effect.json]

Each row of a predictions file (``evaluate`` writes them) holds the model's ``raw`` answer and the
``gold`` datasets. The answers are parsed again with the current parser and scored twice by
``score_answers``: with the strict parse alone and with the repair fallback. Rows written before the
fallback existed are scored the same way, so an older run's effect can be read without regenerating.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from paperdcat.extraction.parse import parse_answer
from paperdcat.io import read_jsonl, write_json
from paperdcat.scoring.score import score_answers


def repair_effect(
    rows: Iterable[Mapping[str, Any]], *, title_threshold: float = 85, item_threshold: float = 90
) -> dict[str, Any]:
    """``score_answers`` on the rows' ``raw`` answers, parsed again, against their ``gold``."""
    return score_answers(
        ((row["gold"], parse_answer(row["raw"])) for row in rows),
        title_threshold=title_threshold,
        item_threshold=item_threshold,
    )


def effect_table(name: str, metrics: Mapping[str, Any]) -> Table:
    strict, repaired = metrics["strict"], metrics
    table = Table(
        title=f"{name}: {metrics['papers']} papers, strict JSON valid {metrics['json_valid_rate']}, "
        f"only repair read {metrics['repaired_rate']}"
    )
    for column in ("", "dataset P", "dataset R", "dataset F1", "TP", "FP", "FN", "fields macro F1"):
        table.add_column(column, justify="left" if not column else "right")
    for label, row in (("strict", strict), ("with repair", repaired)):
        datasets = row["datasets"]
        table.add_row(
            label,
            *(f"{datasets[key]:.4f}" for key in ("precision", "recall", "f1")),
            *(str(datasets[key]) for key in ("tp", "fp", "fn")),
            f"{row['fields_macro_f1']:.4f}",
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("predictions", type=Path, nargs="+", help="predictions JSONL (rows with raw, gold)")
    parser.add_argument("--title-threshold", type=float, default=85, help="fuzzy title match, 0-100")
    parser.add_argument("--item-threshold", type=float, default=90, help="fuzzy list item match, 0-100")
    parser.add_argument("--out", type=Path, help="write the metrics of each file as JSON here")
    args = parser.parse_args()
    console, results = Console(), {}
    for path in args.predictions:
        metrics = repair_effect(
            read_jsonl(path), title_threshold=args.title_threshold, item_threshold=args.item_threshold
        )
        results[str(path)] = metrics
        console.print(effect_table(str(path), metrics))
    if args.out:
        write_json(args.out, results)


if __name__ == "__main__":
    main()
