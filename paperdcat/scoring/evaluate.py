"""Batched greedy generation with the base model and with base + adapter, then scoring."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from paperdcat.extraction.generation import generate_answers, load_model, with_adapter
from paperdcat.extraction.parse import ParsedAnswer, parse_answer
from paperdcat.params import Precision
from paperdcat.scoring.score import score_answers, score_papers

# The scores repeated per source when the test papers come from several (``by_source``).
SOURCE_KEYS = ("papers", "datasets", "fields_macro_f1", "json_valid_rate", "repaired_rate")


def score_by_source(
    records: Sequence[dict], answers: Sequence[ParsedAnswer], *, title_threshold: float, item_threshold: float
) -> dict[str, dict]:
    """``score_answers`` over each source's papers (``SOURCE_KEYS``), by source name in order of first
    appearance; empty unless ``records`` carry two sources or more (untagged records have none)."""
    pairs: dict[str, list[tuple[list[dict], ParsedAnswer]]] = {}
    for record, answer in zip(records, answers, strict=True):
        if "source" in record:
            pairs.setdefault(record["source"], []).append((record["datasets"], answer))
    if len(pairs) < 2:
        return {}
    scores = {}
    for source, papers in pairs.items():
        metrics = score_answers(papers, title_threshold=title_threshold, item_threshold=item_threshold)
        scores[source] = {key: metrics[key] for key in SOURCE_KEYS}
    return scores


def evaluate_model(
    model,
    tokenizer,
    records: Sequence[dict],
    max_new_tokens: int,
    batch_size: int,
    title_threshold: float,
    item_threshold: float,
    name: str,
) -> tuple[dict, list[dict]]:
    """Generate, parse and score on ``records``; return the metrics and per-paper predictions.

    Scores count the answers that only the json-repair fallback could read; ``strict``,
    ``json_valid_rate`` and ``repaired_rate`` tell them apart (``score_answers``), and so does each
    prediction's ``repaired`` flag.

    ``mentioned_only`` repeats the headline scores over the papers whose gold datasets all occur in the
    full text (a dataset the text never names cannot be extracted from it). ``by_source`` repeats the
    main scores per source when the records come from several (``score_by_source``).
    """
    raw, speed = generate_answers(
        model, tokenizer, [r["context"] for r in records], max_new_tokens, batch_size, f"generating ({name})"
    )
    parsed = [parse_answer(text) for text in raw]
    thresholds = {"title_threshold": title_threshold, "item_threshold": item_threshold}
    metrics = score_answers(((r["datasets"], a) for r, a in zip(records, parsed, strict=True)), **thresholds)
    mentioned = [
        (r["datasets"], a.datasets)
        for r, a in zip(records, parsed, strict=True)
        if r.get("datasets_mentioned", True)
    ]
    subset = score_papers(mentioned, **thresholds)
    metrics["mentioned_only"] = {key: subset[key] for key in ("papers", "datasets", "fields_macro_f1")}
    if by_source := score_by_source(records, parsed, **thresholds):
        metrics["by_source"] = by_source
    metrics.update(speed)
    predictions = [
        {
            "paper_id": r["paper_id"],
            **({"source": r["source"]} if "source" in r else {}),
            "valid": a.valid,
            "repaired": a.repaired,
            "datasets": a.datasets,
            "raw": text,
            "gold": r["datasets"],
        }
        for r, text, a in zip(records, raw, parsed, strict=True)
    ]
    return metrics, predictions


def evaluate_both(
    base_dir: Path, adapter_dir: Path, records: Sequence[dict], precision: Precision = "auto", **options: Any
) -> dict[str, tuple[dict, list[dict]]]:
    model, tokenizer = load_model(base_dir, precision)
    results = {"base": evaluate_model(model, tokenizer, records, name="base", **options)}
    results["tuned"] = evaluate_model(
        with_adapter(model, adapter_dir), tokenizer, records, name="tuned", **options
    )
    return results
