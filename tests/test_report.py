import json

import pytest

from paperdcat.errors import PaperdcatError
from paperdcat.io import atomic_path, read_json, read_jsonl, write_json
from paperdcat.report import delta, write_report
from paperdcat.score import score_papers

GOLD = [{"dcterms:title": "CIFAR-10", "dcterms:creator": ["A. Krizhevsky"], "dcterms:issued": "2009"}]


def test_delta_subtracts_every_shared_numeric_leaf():
    tuned = {"datasets": {"f1": 0.75, "tp": 3}, "name": "x", "only_tuned": 1.0, "flag": True}
    base = {"datasets": {"f1": 0.5, "tp": 1}, "name": "y", "flag": False}
    assert delta(tuned, base) == {"datasets": {"f1": 0.25, "tp": 2}}


def test_report_compares_base_and_tuned(tmp_path):
    base = score_papers([(GOLD, [])]) | {"json_valid_rate": 0.0, "sec_per_paper": 9.0}
    tuned = score_papers([(GOLD, GOLD)]) | {"json_valid_rate": 1.0, "sec_per_paper": 3.0}
    predictions = {
        name: [{"paper_id": "p1", "gold": GOLD, "datasets": found, "valid": True, "raw": ""}]
        for name, found in (("base", []), ("tuned", GOLD))
    }
    comparison = write_report(
        base, tuned, predictions["base"], predictions["tuned"], tmp_path, tmp_path / "comparison.json"
    )
    assert comparison["delta"]["datasets"]["f1"] == 1.0
    assert comparison["delta"]["fields"]["creator"]["f1"] == 1.0
    assert read_json(tmp_path / "comparison.json") == json.loads(json.dumps(comparison))
    report = (tmp_path / "report.md").read_text()
    assert "| datasets.f1" in report and "**CIFAR-10** (A. Krizhevsky; 2009)" in report
    rows = (tmp_path / "field_f1.csv").read_text().splitlines()
    assert rows[0] == "field,model,f1" and "creator,tuned,1.0" in rows and "creator,base,0.0" in rows
    assert not any(row.startswith("keyword,") for row in rows)  # the gold has no keyword field
    assert "so not scored: description, language, identifier" in report
    assert (tmp_path / "field_f1.png").read_bytes()[:4] == b"\x89PNG"


def test_atomic_path_leaves_the_old_output_when_writing_fails(tmp_path):
    target = tmp_path / "out.json"
    write_json(target, {"old": 1})
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert read_json(target) == {"old": 1}
    assert [path.name for path in tmp_path.iterdir()] == ["out.json"]


def test_atomic_path_replaces_a_folder(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "stale.bin").write_text("x")
    with atomic_path(tmp_path / "model") as tmp:
        tmp.mkdir()
        (tmp / "new.bin").write_text("y")
    assert [path.name for path in (tmp_path / "model").iterdir()] == ["new.bin"]


def test_read_errors_name_the_file_and_line(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"a": 1}\n\n{"b": \n')
    with pytest.raises(PaperdcatError, match=r"a.jsonl:3: not valid JSON"):
        read_jsonl(tmp_path / "a.jsonl")
    with pytest.raises(PaperdcatError, match=r"b.json: file not found"):
        read_json(tmp_path / "b.json")
