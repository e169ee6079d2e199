"""Scores per corpus source: evaluate's ``by_source`` and the report's per-source table."""

from __future__ import annotations

import pytest

from paperdcat.extraction.parse import parse_answer
from paperdcat.scoring import evaluate
from paperdcat.scoring.evaluate import SOURCE_KEYS, score_by_source
from paperdcat.scoring.report import write_report
from paperdcat.scoring.score import score_answers

THRESHOLDS = {"title_threshold": 85, "item_threshold": 90}
GENERATED_GOLD = [
    {"dcterms:title": "CIFAR-10", "dcterms:creator": ["A. Krizhevsky"], "dcterms:issued": "2009"},
]
SCIREX_GOLD = [{"dcterms:title": "SQuAD", "mls:task": ["Question Answering"]}]
# (source, gold, raw answer): generated found with a wrong year, then not read at all; SciREX found
# with its task, then missed
PAPERS = [
    ("generated", GENERATED_GOLD, '[{"title": "CIFAR-10", "creator": ["A. Krizhevsky"], "issued": "2010"}]'),
    ("generated", GENERATED_GOLD, "no JSON here"),
    ("scirex", SCIREX_GOLD, '[{"title": "SQuAD", "task": ["Question Answering"]}]'),
    ("scirex", SCIREX_GOLD, '[{"title": "MNIST"}]'),
    ("scirex", SCIREX_GOLD, "[{'title': 'SQuAD'},]"),  # read by repair only
]


def records(tagged: bool = True) -> list[dict]:
    return [
        {
            "paper_id": f"{source}/p{i}",
            **({"source": source} if tagged else {}),
            "context": "text",
            "datasets": gold,
            "datasets_mentioned": True,
        }
        for i, (source, gold, _) in enumerate(PAPERS)
    ]


ANSWERS = [parse_answer(raw) for _, _, raw in PAPERS]


def test_each_source_is_scored_on_its_own_papers():
    scores = score_by_source(records(), ANSWERS, **THRESHOLDS)
    assert list(scores) == ["generated", "scirex"]
    for source, chosen in (("generated", slice(0, 2)), ("scirex", slice(2, 5))):
        pairs = [(gold, answer) for (_, gold, _), answer in zip(PAPERS[chosen], ANSWERS[chosen], strict=True)]
        alone = score_answers(pairs, **THRESHOLDS)
        assert scores[source] == {key: alone[key] for key in SOURCE_KEYS}
    generated, scirex = scores["generated"], scores["scirex"]
    assert (generated["papers"], scirex["papers"]) == (2, 3)
    assert (generated["datasets"]["tp"], generated["datasets"]["fn"]) == (1, 1)
    assert (scirex["datasets"]["tp"], scirex["datasets"]["fp"], scirex["datasets"]["fn"]) == (2, 1, 1)
    assert generated["json_valid_rate"] == 0.5 and scirex["repaired_rate"] == round(1 / 3, 4)
    # SciREX annotates title and task only, its macro F1 is theirs: title 1, task 2/3 (the repaired answer
    # has none); the generated paper's year is wrong
    assert scirex["fields_macro_f1"] == round((1 + 2 / 3) / 2, 4) and generated["fields_macro_f1"] < 1.0


def test_one_source_or_untagged_records_have_no_per_source_scores():
    assert score_by_source(records(tagged=False), ANSWERS, **THRESHOLDS) == {}
    only_scirex = [r for r in records() if r["source"] == "scirex"]
    assert score_by_source(only_scirex, ANSWERS[2:], **THRESHOLDS) == {}


def run_evaluate(monkeypatch: pytest.MonkeyPatch, tagged: bool) -> tuple[dict, list[dict]]:
    def generate_answers(model, tokenizer, contexts, *args, **kwargs):
        return [raw for _, _, raw in PAPERS], {"sec_per_paper": 1.0}

    monkeypatch.setattr(evaluate, "generate_answers", generate_answers)
    options = {"max_new_tokens": 8, "batch_size": 2, "title_threshold": 85, "item_threshold": 90}
    return evaluate.evaluate_model(None, None, records(tagged), name="tuned", **options)


def test_evaluate_adds_by_source_and_tags_predictions(monkeypatch: pytest.MonkeyPatch):
    metrics, predictions = run_evaluate(monkeypatch, tagged=True)
    assert metrics["by_source"] == score_by_source(records(), ANSWERS, **THRESHOLDS)
    assert [p["source"] for p in predictions] == [source for source, _, _ in PAPERS]
    untagged, plain = run_evaluate(monkeypatch, tagged=False)
    assert "by_source" not in untagged and all("source" not in p for p in plain)
    assert {key: value for key, value in metrics.items() if key != "by_source"} == untagged


def test_report_has_a_per_source_table_only_when_scored_by_source(tmp_path, monkeypatch):
    tuned, predictions = run_evaluate(monkeypatch, tagged=True)
    base = tuned | {
        "by_source": {
            name: scores | {"datasets": scores["datasets"] | {"f1": 0.0}, "fields_macro_f1": 0.25}
            for name, scores in tuned["by_source"].items()
        }
    }
    comparison = write_report(base, tuned, predictions, predictions, tmp_path, tmp_path / "comparison.json")
    scirex = tuned["by_source"]["scirex"]
    assert comparison["delta"]["by_source"]["scirex"]["datasets"]["f1"] == scirex["datasets"]["f1"]
    report = (tmp_path / "report.md").read_text()
    assert "## Per source" in report
    row = next(line for line in report.splitlines() if line.startswith("| scirex"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[:5] == ["scirex", "3", "0", str(scirex["datasets"]["f1"]), str(scirex["datasets"]["f1"])]
    untagged, plain = run_evaluate(monkeypatch, tagged=False)
    write_report(untagged, untagged, plain, plain, tmp_path, tmp_path / "comparison.json")
    assert "## Per source" not in (tmp_path / "report.md").read_text()
