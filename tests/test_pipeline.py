"""End to end: `dvc repro` of the real dvc.yaml on a tiny configuration, in a temporary git repo."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
GENERATED = ("metrics/", "reports/", "dvclive/", "dvc.lock")
pytestmark = pytest.mark.slow


def run(args: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
        "DVC_NO_ANALYTICS": "1",
        "HF_HUB_OFFLINE": "1",
    }
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def tiny_params(model_dir: Path) -> dict:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["data"].update(n_papers=12, split={"train": 0.5, "val": 0.17, "test": 0.33})
    params["model"]["base"] = str(model_dir)
    params["preprocess"]["max_context_tokens"] = 256
    params["tokenize"]["max_seq_length"] = 1024
    params["lora"]["rank"] = 4
    params["train"].update(max_steps=3, gradient_accumulation_steps=1, logging_steps=1)
    params["evaluate"].update(max_new_tokens=24, batch_size=4)
    return params


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, tiny_model_dir) -> Path:
    root = tmp_path_factory.mktemp("paperdcat-repo")
    listed = run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], REPO).stdout.split()
    for name in listed:
        if not name.startswith(GENERATED) and (REPO / name).is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, root / name)
    (root / "params.yaml").write_text(yaml.safe_dump(tiny_params(tiny_model_dir), sort_keys=False))
    run(["git", "init", "-q"], root)
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-qm", "tiny configuration"], root)
    run(["dvc", "repro"], root)
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-qm", "repro"], root)
    return root


def read(root: Path, name: str) -> dict:
    return json.loads((root / name).read_text())


def test_repro_writes_metrics_report_plots_and_adapter(workspace):
    for name in ("base", "tuned"):
        metrics = read(workspace, f"metrics/{name}.json")
        assert metrics["papers"] == 4 and 0 <= metrics["datasets"]["f1"] <= 1
        assert len(metrics["fields"]) == 12 and 0 <= metrics["json_valid_rate"] <= 1
        assert metrics["sec_per_paper"] > 0 and metrics["mentioned_only"]["papers"] == 4
        predictions = (workspace / f"data/predictions/{name}.jsonl").read_text().splitlines()
        assert len(predictions) == 4
    comparison = read(workspace, "metrics/comparison.json")
    assert set(comparison) == {"base", "tuned", "delta"} and "creator" in comparison["delta"]["fields"]
    preprocess = read(workspace, "metrics/preprocess.json")
    assert (
        preprocess["papers"] == {"train": 6, "val": 2, "test": 4} and 0 < preprocess["evidence_recall"] <= 1
    )
    assert preprocess["context_tokens_max"] <= 256
    assert preprocess["text_mentions"]["papers_with_unmentioned"] == 0
    assert read(workspace, "metrics/tokenize.json")["train"]["examples"] == 6
    assert read(workspace, "metrics/train.json")["steps"] == 3
    adapter_files = {path.name for path in (workspace / "models/adapter").iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors", "tokenizer.json"} <= adapter_files
    loss = (workspace / "dvclive/train/plots/metrics/loss.tsv").read_text().splitlines()
    assert loss[0].split("\t")[:2] == ["step", "loss"] and len(loss) == 4
    report = (workspace / "reports/report.md").read_text()
    assert "## Per field" in report and re.search(r"^\| creator +\|", report, re.MULTILINE)
    assert (workspace / "reports/field_f1.png").read_bytes()[:4] == b"\x89PNG"


def test_second_repro_is_up_to_date(workspace):
    result = run(["dvc", "repro"], workspace)
    assert "Running stage" not in result.stdout
    assert "up to date" in run(["dvc", "status"], workspace).stdout


def test_bad_params_fail_at_once_naming_the_key(workspace):
    misspelt = run(["dvc", "exp", "run", "-S", "lora.rnak=8"], workspace, check=False)
    assert misspelt.returncode != 0 and "lora.rnak" in misspelt.stderr  # DVC refuses a key not in the file
    assert "Running stage" not in misspelt.stdout
    out_of_range = run(["dvc", "exp", "run", "-S", "lora.rank=0"], workspace, check=False)
    assert out_of_range.returncode != 0
    assert "error: params.yaml: lora.rank: " in out_of_range.stderr
    assert "Running stage 'train'" in out_of_range.stdout and "evaluate" not in out_of_range.stdout
    run(["git", "checkout", "--", "params.yaml"], workspace)
    params = workspace / "params.yaml"
    params.write_text(params.read_text().replace("  rank:", "  rnak:"))
    hand_edited = run(["dvc", "repro"], workspace, check=False)
    assert hand_edited.returncode != 0
    assert "error: params.yaml: lora.rnak: unknown key" in hand_edited.stderr
    run(["git", "checkout", "--", "."], workspace)  # DVC removed train's outputs before the stage failed
    run(["dvc", "checkout"], workspace)
    assert "up to date" in run(["dvc", "status"], workspace).stdout


def test_experiment_reruns_only_what_reads_the_param_and_metrics_diff_shows_it(workspace):
    result = run(["dvc", "exp", "run", "-S", "lora.rank=2"], workspace)
    ran = {line.split("'")[1] for line in result.stdout.splitlines() if line.startswith("Running stage")}
    assert ran == {"train", "evaluate", "report"}
    diff = json.loads(run(["dvc", "metrics", "diff", "--json"], workspace).stdout)
    assert "trainable_params" in diff["metrics/train.json"]
    shown = json.loads(run(["dvc", "metrics", "show", "--json"], workspace).stdout)
    assert "tuned" in json.dumps(shown) and "creator" in json.dumps(shown)
