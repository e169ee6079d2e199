"""Scores with and without the json-repair fallback: score_answers, evaluate_model, the re-scoring probe."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.repair_effect import repair_effect
from paperdcat.extraction.parse import parse_answer
from paperdcat.io import read_json, write_jsonl
from paperdcat.scoring import evaluate
from paperdcat.scoring.score import score_answers

ROOT = Path(__file__).resolve().parents[1]
GOLD = [
    [{"dcterms:title": "SQuAD", "dcterms:issued": "2016"}],
    [{"dcterms:title": "MNIST", "dcterms:issued": "1998"}, {"dcterms:title": "CIFAR-10"}],
    [{"dcterms:title": "ImageNet"}],
    [{"dcterms:title": "COCO"}],
]
RAW = [
    '[{"title":"SQuAD","issued":"2016"}]',  # strict
    '[{"title":"MNIST","issued":"1998"},{"title":"CIFAR-10","landingPage":"https://www.cs.toronto',  # cut
    "[{'title': 'ImageNet', 'issued': '2009'},]",  # single quotes, trailing comma
    "I could not find any dataset in this paper.",  # nothing to read
]


def test_scores_use_repaired_answers_and_keep_the_strict_ones_apart() -> None:
    metrics = score_answers(zip(GOLD, map(parse_answer, RAW), strict=True))
    assert (metrics["json_valid_rate"], metrics["repaired_rate"]) == (0.25, 0.5)
    assert (metrics["datasets"]["tp"], metrics["datasets"]["fp"], metrics["datasets"]["fn"]) == (4, 0, 1)
    strict = metrics["strict"]["datasets"]
    assert (strict["tp"], strict["fp"], strict["fn"]) == (1, 0, 4)
    assert strict["f1"] < metrics["datasets"]["f1"]
    assert metrics["fields"]["issued"]["tp"] == 2  # SQuAD and MNIST; gold ImageNet states no year
    assert set(metrics["strict"]) == {"datasets", "fields_macro_f1"}


def test_no_answers() -> None:
    metrics = score_answers([])
    assert (metrics["papers"], metrics["json_valid_rate"], metrics["repaired_rate"]) == (0, 0.0, 0.0)


def test_evaluate_model_reports_strict_and_repaired(monkeypatch: pytest.MonkeyPatch) -> None:
    def generate_answers(model, tokenizer, contexts, *args, **kwargs):
        assert len(contexts) == len(RAW)
        return RAW, {"sec_per_paper": 1.0}

    monkeypatch.setattr(evaluate, "generate_answers", generate_answers)
    records = [
        {"paper_id": f"p{i}", "context": "text", "datasets": gold, "datasets_mentioned": i != 1}
        for i, gold in enumerate(GOLD)
    ]
    options = {"max_new_tokens": 8, "batch_size": 2, "title_threshold": 85, "item_threshold": 90}
    metrics, predictions = evaluate.evaluate_model(None, None, records, name="tuned", **options)
    assert metrics["json_valid_rate"] == 0.25 and metrics["repaired_rate"] == 0.5
    assert metrics["datasets"]["tp"] == 4 and metrics["strict"]["datasets"]["tp"] == 1
    assert metrics["mentioned_only"]["datasets"]["tp"] == 2  # SQuAD and ImageNet, MNIST's paper left out
    assert metrics["sec_per_paper"] == 1.0
    assert [(p["valid"], p["repaired"]) for p in predictions] == [
        (True, False),
        (False, True),
        (False, True),
        (False, False),
    ]
    assert [d["dcterms:title"] for d in predictions[1]["datasets"]] == ["MNIST", "CIFAR-10"]
    assert metrics == score_answers(zip(GOLD, map(parse_answer, RAW), strict=True)) | {
        "mentioned_only": metrics["mentioned_only"],
        "sec_per_paper": 1.0,
    }


def test_repair_effect_rescores_saved_rows(tmp_path: Path) -> None:
    # rows as `evaluate` wrote them before the fallback: parsed strictly, no `repaired` key
    rows = [
        {"paper_id": f"p{i}", "valid": False, "datasets": [], "raw": raw, "gold": gold}
        for i, (raw, gold) in enumerate(zip(RAW, GOLD, strict=True))
    ]
    metrics = repair_effect(rows)
    assert metrics == score_answers(zip(GOLD, map(parse_answer, RAW), strict=True))

    path, out = tmp_path / "tuned.jsonl", tmp_path / "effect.json"
    write_jsonl(path, rows)
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.repair_effect", str(path), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert "strict" in result.stdout and "with repair" in result.stdout
    assert f"{metrics['datasets']['f1']:.4f}" in result.stdout
    assert f"{metrics['strict']['datasets']['f1']:.4f}" in result.stdout
    assert read_json(out) == {str(path): json.loads(json.dumps(metrics))}
