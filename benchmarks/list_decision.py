"""Does the tuned model know when a paper uses more than one dataset? A probe of its list decision.

    python -m benchmarks.list_decision [--run .] [--max-papers N] [--out decision.json]
    python -m benchmarks.list_decision --origins-only --test TEST.jsonl --predictions TUNED.jsonl

Reads a finished run (``data/processed/test.jsonl``, ``data/predictions/tuned.jsonl``, ``models/base``,
``models/adapter``). For each test paper whose tuned answer holds a dataset object, it cuts the answer after
that first object and compares the model's probability of closing the list (``]``) with that of opening a
second object (``,{"title":"``): ``p_continue``, renormalised over the two. If the model knew, papers with
several gold datasets would get a higher ``p_continue`` than papers with one. It then lets the model write the
second object greedily and scores the answers cut to one and to two distinct datasets, which tells whether
listing more would help. First, without the model, it sorts every test paper by where the first dataset of
the tuned answer comes from: a gold dataset, another name that the context holds, or a name the context does
not hold; split by whether the context names any gold dataset at all.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from paperdcat.extraction.context import is_mentioned, normalise_mention
from paperdcat.extraction.generation import load_model, with_adapter
from paperdcat.extraction.parse import parse_answer
from paperdcat.extraction.prompt import prompt_ids
from paperdcat.io import read_jsonl
from paperdcat.progress import progress_bar
from paperdcat.schema import coerce_dataset
from paperdcat.scoring.score import TITLE, match_datasets, score_papers

SECOND_OBJECT = ',{"title":"'
ORIGINS = ("gold", "other name in context", "not in context", "no dataset")


def first_object_end(answer: str) -> int | None:
    """Index just past the first dataset object of a list answer, or None if there is none."""
    start = answer.find("{")
    if not answer.lstrip().startswith("[") or start < 0:
        return None
    try:
        _, end = json.JSONDecoder().raw_decode(answer, start)
    except json.JSONDecodeError:
        return None
    return end


def objects_in(text: str) -> list[dict]:
    """The complete objects of a list answer that may be cut anywhere, in order."""
    decoder, objects, position = json.JSONDecoder(), [], text.find("{")
    while position >= 0:
        try:
            value, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            break
        if isinstance(value, dict):
            objects.append(coerce_dataset(value, fill_missing=True))
        position = text.find("{", end)
    return objects


def distinct(datasets: list[dict], limit: int) -> list[dict]:
    seen, kept = set(), []
    for dataset in datasets:
        title = dataset[TITLE].casefold()
        if title not in seen:
            seen.add(title)
            kept.append(dataset)
    return kept[:limit]


def first_name_origin(record: dict, answer: list[dict]) -> tuple[bool, str]:
    """Whether the context names a gold dataset, and which of ``ORIGINS`` the answer's first dataset is."""
    haystack = normalise_mention(record["context"])
    gold_in_context = any(is_mentioned(dataset, haystack) for dataset in record["datasets"])
    if not answer:
        return gold_in_context, ORIGINS[3]
    if match_datasets(record["datasets"], answer[:1]):
        return gold_in_context, ORIGINS[0]
    return gold_in_context, ORIGINS[1 if is_mentioned(answer[0], haystack) else 2]


def origin_table(origins: list[tuple[bool, str]]) -> Table:
    table = Table(title=f"first dataset of the tuned answer ({len(origins)} papers)")
    table.add_column("context names a gold dataset")
    for origin in ORIGINS:
        table.add_column(origin, justify="right")
    for in_context in (True, False):
        row = [origin for flag, origin in origins if flag == in_context]
        table.add_row("yes" if in_context else "no", *(str(row.count(origin)) for origin in ORIGINS))
    return table


def answer_logprob(model, prompt: list[int], answer_ids: list[int]) -> float:
    inputs = torch.tensor([prompt + answer_ids])
    logits = model(inputs).logits[0, len(prompt) - 1 : -1].float().log_softmax(-1)
    return logits.gather(1, torch.tensor(answer_ids)[:, None]).sum().item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=Path("."), help="a workspace after `dvc repro`")
    parser.add_argument("--max-papers", type=int)
    parser.add_argument("--second-tokens", type=int, default=48, help="new tokens for the second object")
    parser.add_argument("--out", type=Path, help="write the per-paper rows as JSON here")
    parser.add_argument(
        "--origins-only",
        action="store_true",
        help="only the first-name table (no model: test split and predictions)",
    )
    parser.add_argument("--test", type=Path, help="the test split (default <run>/data/processed/test.jsonl)")
    parser.add_argument(
        "--predictions", type=Path, help="tuned predictions (default <run>/data/predictions/tuned.jsonl)"
    )
    args = parser.parse_args()
    test = args.test or args.run / "data/processed/test.jsonl"
    records = {r["paper_id"]: r for r in read_jsonl(test)}
    predictions = read_jsonl(args.predictions or args.run / "data/predictions/tuned.jsonl")[: args.max_papers]
    answers = [parse_answer(p["raw"]).datasets for p in predictions]
    origins = [
        first_name_origin(records[p["paper_id"]], a) for p, a in zip(predictions, answers, strict=True)
    ]
    Console().print(origin_table(origins))
    if args.origins_only:
        return
    model, tokenizer = load_model(args.run / "models/base")
    model = with_adapter(model, args.run / "models/adapter")
    end_of_turn = tokenizer.convert_tokens_to_ids("<|im_end|>")
    rows = []
    with progress_bar() as progress, torch.inference_mode():
        task = progress.add_task("probing the list decision", total=len(predictions))
        for prediction, answer in zip(predictions, answers, strict=True):
            progress.advance(task)
            record, cut = records[prediction["paper_id"]], first_object_end(prediction["raw"])
            if cut is None:
                continue
            prompt, prefix = prompt_ids(tokenizer, record["context"]), prediction["raw"][:cut]

            def ids(text: str) -> list[int]:
                return tokenizer(text, add_special_tokens=False)["input_ids"]

            close = answer_logprob(model, prompt, ids(prefix + "]"))
            more = answer_logprob(model, prompt, ids(prefix + SECOND_OBJECT))
            output = model.generate(
                torch.tensor([prompt + ids(prefix + SECOND_OBJECT)]),
                max_new_tokens=args.second_tokens,
                do_sample=False,
                eos_token_id=end_of_turn,
                pad_token_id=tokenizer.pad_token_id,
            )
            forced = tokenizer.decode(output[0, len(prompt) :], skip_special_tokens=True)
            rows.append(
                {
                    "paper_id": prediction["paper_id"],
                    "gold_datasets": len(record["datasets"]),
                    "p_continue": round(1 / (1 + math.exp(close - more)), 4),
                    "forced": forced,
                    "gold": record["datasets"],
                    "answer": answer,
                }
            )
    report(rows)
    if args.out:
        first_names = [
            {"paper_id": p["paper_id"], "gold_in_context": flag, "origin": origin}
            for p, (flag, origin) in zip(predictions, origins, strict=True)
        ]
        args.out.write_text(json.dumps({"first_names": first_names, "list_decision": rows}, indent=1))


def report(rows: list[dict]) -> None:
    console = Console()
    table = Table(title=f"p_continue after the first dataset ({len(rows)} papers)")
    for column in ("gold datasets", "papers", "median", "max", "> 0.5"):
        table.add_column(column, justify="right")
    for label, group in (
        ("1", [r for r in rows if r["gold_datasets"] == 1]),
        ("2+", [r for r in rows if r["gold_datasets"] > 1]),
    ):
        values = [r["p_continue"] for r in group]
        if values:
            table.add_row(
                label,
                str(len(values)),
                f"{statistics.median(values):.3f}",
                f"{max(values):.3f}",
                str(sum(v > 0.5 for v in values)),
            )
    console.print(table)
    scores = Table(title="dataset identification if the answer were cut to")
    for column in ("answer", "P", "R", "F1", "tp", "fp"):
        scores.add_column(column, justify="right")
    variants = {
        "as generated": [(r["gold"], r["answer"]) for r in rows],
        "1 dataset": [(r["gold"], distinct(objects_in(r["forced"]), 1)) for r in rows],
        "2 distinct datasets": [(r["gold"], distinct(objects_in(r["forced"]), 2)) for r in rows],
        "2 where gold has 2+ (oracle)": [
            (r["gold"], distinct(objects_in(r["forced"]), 2 if r["gold_datasets"] > 1 else 1)) for r in rows
        ],
    }
    for label, pairs in variants.items():
        counts = score_papers(pairs)["datasets"]
        scores.add_row(
            label,
            *(f"{counts[k]:.3f}" for k in ("precision", "recall", "f1")),
            str(counts["tp"]),
            str(counts["fp"]),
        )
    console.print(scores)


if __name__ == "__main__":
    main()
