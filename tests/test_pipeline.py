"""End to end: `dvc repro` of the real dvc.yaml on a tiny configuration, in a temporary git repo."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from commands import run
from project import REPO, copy_project, kill_at_first_checkpoint, tiny_params

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, tiny_model_dir) -> Path:
    root = copy_project(tmp_path_factory.mktemp("paperdcat-repo"), tiny_params(tiny_model_dir))
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
        assert metrics["precision"] == "fp32"  # evaluate.precision: auto, on a CPU
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
    result = run(
        ["dvc", "exp", "run", "-S", "lora.rank=2", "-S", "lora.target_modules=[q_proj,v_proj]"], workspace
    )
    ran = {line.split("'")[1] for line in result.stdout.splitlines() if line.startswith("Running stage")}
    assert ran == {"train", "evaluate", "report"}
    assert yaml.safe_load((workspace / "params.yaml").read_text())["lora"]["target_modules"] == [
        "q_proj",
        "v_proj",
    ]
    diff = json.loads(run(["dvc", "metrics", "diff", "--json"], workspace).stdout)
    assert (
        diff["metrics/train.json"]["trainable_params"]["new"]
        < diff["metrics/train.json"]["trainable_params"]["old"]
    )
    shown = json.loads(run(["dvc", "metrics", "show", "--json"], workspace).stdout)
    assert "tuned" in json.dumps(shown) and "creator" in json.dumps(shown)


def leaf_keys(params: dict, prefix: str = "") -> list[str]:
    keys = []
    for key, value in params.items():
        name = f"{prefix}{key}"
        keys += leaf_keys(value, f"{name}.") if isinstance(value, dict) else [name]
    return keys


def test_changing_any_param_makes_exactly_the_stages_declaring_it_stale(workspace):
    """Changing any key of params.yaml makes exactly the stages whose dvc.yaml `params` cover it stale."""
    from dvc.repo import Repo

    reset(workspace)
    original = (workspace / "params.yaml").read_text()
    declared = {
        name: stage.get("params", [])
        for name, stage in yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"].items()
    }
    keys = leaf_keys(yaml.safe_load(original))
    assert len(keys) >= 30
    for key in keys:
        params = yaml.safe_load(original)
        *parents, leaf = key.split(".")
        section = params
        for parent in parents:
            section = section[parent]
        section[leaf] = [section[leaf], "changed"]  # any new value; validity is not DVC's concern
        (workspace / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        with Repo(str(workspace)) as repo:  # a fresh Repo: no cached view of params.yaml
            stale = {name.rsplit(":", 1)[-1] for name in repo.status()}  # nothing else changed since reset
        readers = {
            name
            for name, groups in declared.items()
            if any(key == g or key.startswith(f"{g}.") for g in groups)
        }
        assert readers, f"no stage declares {key}"
        assert stale == readers, key
    (workspace / "params.yaml").write_text(original)


def reset(root: Path) -> None:
    """Back to the committed state: params, lock and metrics from git, DVC outputs from the cache."""
    run(["git", "checkout", "--", "."], root)
    run(["dvc", "checkout", "--force"], root)


def lock_hash(root: Path, stage: str, path: str) -> str:
    lock = yaml.safe_load((root / "dvc.lock").read_text())
    return next(out["md5"] for out in lock["stages"][stage]["outs"] if out["path"] == path)


def scores(metrics: dict) -> dict:
    """Metrics without the timing entries, which differ from run to run."""
    return {key: value for key, value in metrics.items() if key not in {"sec_per_paper", "tokens_per_s"}}


def test_adapter_travels_through_the_default_remote_and_evaluates_without_retraining(workspace):
    reset(workspace)
    run(["dvc", "push"], workspace)
    storage = workspace.parent / "paperdcat-dvc-storage"  # the shipped remote: a folder beside the repo
    stored = {path.name for path in storage.rglob("*.dir")}
    assert lock_hash(workspace, "train", "models/adapter")[2:] in stored
    assert lock_hash(workspace, "fetch", "models/base")[2:] not in stored  # push: false, rebuilt by fetch
    assert lock_hash(workspace, "tokenize", "data/tokenized")[2:] not in stored

    clone = workspace.parent / "clone"
    run(["git", "clone", "-q", str(workspace), str(clone)], workspace.parent)
    run(["dvc", "pull", "models/adapter"], clone)
    for path in (workspace / "models/adapter").iterdir():
        assert (clone / "models/adapter" / path.name).read_bytes() == path.read_bytes()
    result = run(["dvc", "repro"], clone)
    ran = {line.split("'")[1] for line in result.stdout.splitlines() if line.startswith("Running stage")}
    assert "train" not in ran and "evaluate" in ran
    assert "up to date" in run(["dvc", "status"], clone).stdout
    for name in ("base", "tuned"):
        assert scores(read(clone, f"metrics/{name}.json")) == scores(read(workspace, f"metrics/{name}.json"))


SCORE_COLUMNS = r"Experiment|lora\.rank|(base|tuned)\.(datasets|fields\.creator)\.f1"  # as in README


def test_queued_grid_runs_and_exp_show_puts_params_beside_field_scores(workspace):
    reset(workspace)
    run(["dvc", "exp", "run", "--queue", "-S", "lora.rank=2,8"], workspace)
    run(["dvc", "queue", "start", "-j", "1"], workspace)
    deadline = time.monotonic() + 600
    while re.search(r"\b(Queued|Running)\b", run(["dvc", "queue", "status"], workspace).stdout):
        assert time.monotonic() < deadline, "the queue did not finish in 10 minutes"
        time.sleep(2)
    status = run(["dvc", "queue", "status"], workspace).stdout
    assert status.count("Success") == 2, status
    rows = json.loads(run(["dvc", "exp", "show", "--json"], workspace).stdout)
    experiments = [exp for row in rows for exp in row.get("experiments") or []]
    ranks = set()
    for experiment in experiments:
        data = experiment["revs"][0]["data"]
        ranks.add(data["params"]["params.yaml"]["data"]["lora"]["rank"])
        comparison = data["metrics"]["metrics/comparison.json"]["data"]
        assert 0 <= comparison["tuned"]["fields"]["creator"]["f1"] <= 1
        assert "metrics/tuned.json" not in data["metrics"]  # each score is shown once, in comparison.json
    assert ranks == {2, 8}
    assert "lora.rank" in run(["dvc", "exp", "show", "--only-changed", "--md"], workspace).stdout
    table = run(["dvc", "exp", "show", "--md", "--drop", ".*", "--keep", SCORE_COLUMNS], workspace).stdout
    header = [cell.strip() for cell in table.splitlines()[0].strip("|").split("|")]
    assert header == [
        "Experiment",
        *(f"{model}.{key}" for model in ("base", "tuned") for key in ("datasets.f1", "fields.creator.f1")),
        "lora.rank",
    ]
    assert {row.strip("|").split("|")[-1].strip() for row in table.splitlines()[2:]} >= {"2", "8"}
    reset(workspace)


def test_interrupted_train_resumes_from_its_last_checkpoint(workspace):
    reset(workspace)
    params = yaml.safe_load((workspace / "params.yaml").read_text())
    params["train"].update(max_steps=40, save_steps=4)
    (workspace / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    checkpoints = workspace / "models/checkpoints"
    kill_at_first_checkpoint(["dvc", "repro"], workspace, timeout_s=300)  # dvc and the stage, mid-training
    assert not (workspace / "models/adapter").exists()

    result = run(["dvc", "repro"], workspace)
    resumed = re.search(r"resuming from models/checkpoints/checkpoint-(\d+)", result.stdout)
    assert resumed and 4 <= int(resumed.group(1)) < 40
    train = read(workspace, "metrics/train.json")
    assert train["steps"] == 40 and train["resumed_from_step"] == int(resumed.group(1))
    assert not any(checkpoints.glob("checkpoint-*"))  # a finished run leaves nothing to resume
    steps = [line.split("\t")[0] for line in (workspace / "dvclive/train/plots/metrics/loss.tsv").open()]
    assert steps[1:] == [str(step) for step in range(1, 41)]  # the curve of the first attempt is replayed
    reset(workspace)


def test_extract_on_the_trained_adapter_matches_evaluate_without_params_yaml(workspace, tmp_path):
    """The adapter carries its context and prompt settings: run from a folder with no params.yaml on the
    raw text of the test papers, extract gives exactly evaluate's tuned predictions."""
    from paperdcat.schema import metamine_record

    reset(workspace)
    test_ids = [json.loads(line)["paper_id"] for line in (workspace / "data/processed/test.jsonl").open()]
    raw = {p["paper_id"]: p for p in map(json.loads, (workspace / "data/raw/papers.jsonl").open())}
    corpus = tmp_path / "test.jsonl"
    corpus.write_text("".join(json.dumps(raw[paper_id]) + "\n" for paper_id in test_ids))
    params = yaml.safe_load((workspace / "params.yaml").read_text())["evaluate"]
    command = [
        *("python", "-m", "paperdcat.extract", str(corpus), "--out", str(tmp_path / "out")),
        *("--base", str(workspace / "models/base"), "--adapter", str(workspace / "models/adapter")),
        *("--batch-size", str(params["batch_size"]), "--max-new-tokens", str(params["max_new_tokens"])),
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    tuned = {
        row["paper_id"]: row for row in map(json.loads, (workspace / "data/predictions/tuned.jsonl").open())
    }
    for paper_id in test_ids:
        extracted = json.loads((tmp_path / "out" / f"{paper_id}.json").read_text())
        assert extracted == [metamine_record(d) for d in tuned[paper_id]["datasets"]], paper_id
