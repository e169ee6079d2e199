import csv
import json
from pathlib import Path

import pytest
import yaml

from paperdcat.errors import PaperdcatError
from paperdcat.io import atomic_path, read_json, read_jsonl, write_json
from paperdcat.scoring.report import delta, write_report
from paperdcat.scoring.score import score_papers

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_DIR = ROOT / ".dvc" / "plots"
GOLD = [{"dcterms:title": "CIFAR-10", "dcterms:creator": ["A. Krizhevsky"], "dcterms:issued": "2009"}]


def compare(tmp_path):
    """write_report on one paper where base finds nothing and tuned finds the gold dataset."""
    base = score_papers([(GOLD, [])]) | {"json_valid_rate": 0.0, "sec_per_paper": 9.0}
    tuned = score_papers([(GOLD, GOLD)]) | {"json_valid_rate": 1.0, "sec_per_paper": 3.0}
    predictions = {
        name: [{"paper_id": "p1", "gold": GOLD, "datasets": found, "valid": True, "raw": ""}]
        for name, found in (("base", []), ("tuned", GOLD))
    }
    comparison = write_report(
        base, tuned, predictions["base"], predictions["tuned"], tmp_path, tmp_path / "comparison.json"
    )
    return base, tuned, comparison


def test_delta_subtracts_every_shared_numeric_leaf():
    tuned = {"datasets": {"f1": 0.75, "tp": 3}, "name": "x", "only_tuned": 1.0, "flag": True}
    base = {"datasets": {"f1": 0.5, "tp": 1}, "name": "y", "flag": False}
    assert delta(tuned, base) == {"datasets": {"f1": 0.25, "tp": 2}}


def test_report_compares_base_and_tuned(tmp_path):
    _, _, comparison = compare(tmp_path)
    assert comparison["delta"]["datasets"]["f1"] == 1.0
    assert comparison["delta"]["fields"]["creator"]["f1"] == 1.0
    assert read_json(tmp_path / "comparison.json") == json.loads(json.dumps(comparison))
    report = (tmp_path / "report.md").read_text()
    assert "| datasets.f1" in report and "**CIFAR-10** (A. Krizhevsky; 2009)" in report
    assert "so not scored: description, language, identifier" in report
    assert "![Per-field F1](field_f1.png)" in report and "`fields.csv`" in report
    assert (tmp_path / "field_f1.png").read_bytes()[:4] == b"\x89PNG"
    assert not (tmp_path / "field_f1.csv").exists()


def test_field_scores_csv_has_a_row_per_field_and_model_equal_to_the_metrics(tmp_path):
    base, tuned, _ = compare(tmp_path)
    with open(tmp_path / "fields.csv", newline="") as file:
        reader = csv.DictReader(file)
        rows = list(reader)
    # not "field": DVC plots overwrite a datum's field, filename and rev keys
    assert reader.fieldnames == ["dcat_field", "model", "precision", "recall", "f1"]
    # only the fields the gold annotates, in metrics order, base then tuned for each
    assert [(row["dcat_field"], row["model"]) for row in rows] == [
        (field, model) for field in ("title", "creator", "issued") for model in ("base", "tuned")
    ]
    assert list(tuned["fields"])[:3] == ["title", "creator", "issued"]
    metrics = {"base": base, "tuned": tuned}
    for row in rows:
        scores = metrics[row["model"]]["fields"][row["dcat_field"]]
        assert {key: float(row[key]) for key in ("precision", "recall", "f1")} == {
            key: scores[key] for key in ("precision", "recall", "f1")
        }
    assert {row["f1"] for row in rows if row["model"] == "tuned"} == {"1.0"}
    assert {row["f1"] for row in rows if row["model"] == "base"} == {"0.0"}


@pytest.mark.parametrize("name", ["train_eval_loss", "grouped_bar_horizontal", "field_precision_recall"])
def test_plot_template_is_json_with_the_dvc_data_placeholder(name):
    template = json.loads((TEMPLATE_DIR / f"{name}.json").read_text())
    assert template["$schema"].endswith("vega-lite/v5.json")
    assert template["data"] == {"values": "<DVC_METRIC_DATA>"}
    assert "<DVC_METRIC_TITLE>" in json.dumps(template)


def test_dvc_yaml_plots_fill_their_templates_completely(tmp_path):
    """Runs each declared plot through DVC's own converter and renderer on this report's data."""
    from dvc.render.converter.vega import VegaConverter
    from dvc_render.vega import VegaRenderer

    compare(tmp_path)
    with open(tmp_path / "fields.csv", newline="") as file:
        fields = list(csv.DictReader(file))
    loss = [{"step": str(step), "loss": str(1.0 / (step + 1))} for step in range(4)]
    data = {
        "reports/fields.csv": fields,
        "dvclive/train/plots/metrics/loss.tsv": loss,
        "dvclive/train/plots/metrics/eval/loss.tsv": loss[1::2],
    }
    plots = yaml.safe_load((ROOT / "dvc.yaml").read_text())["plots"]
    declared = {name: props for plot in plots for name, props in plot.items()}
    assert {"loss", "field_f1", "field_precision_recall"} <= set(declared)
    for name, props in declared.items():
        assert (TEMPLATE_DIR / f"{props['template']}.json").is_file(), name
        assert props.get("title") and props.get("x_label") and props.get("y_label"), name
        files = {file: data[file] for file in props["y"]}
        datapoints, properties = VegaConverter(name, files, props).flat_datapoints("workspace")
        filled = VegaRenderer(datapoints, name, template_dir=str(TEMPLATE_DIR), **properties)
        spec = json.dumps(filled.get_filled_template())
        assert "<DVC_METRIC" not in spec, name
        values = json.loads(spec)["data"]["values"]
        assert len(values) == sum(len(rows) for rows in files.values()), name
        if "reports/fields.csv" in files:
            assert [value["dcat_field"] for value in values] == [row["dcat_field"] for row in fields]


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
