"""benchmarks/gpu_check.py without a GPU: its plan (what each run sets), its arguments, and its refusal to
run without a GPU unless asked for the CPU check."""

import json

import pytest

from benchmarks import gpu_check
from paperdcat.params import load_params

STAGES = ["fetch", "preprocess", "tokenize", "train", "evaluate", "report"]


def test_plan_runs_one_process_then_zero3_over_every_gpu(monkeypatch):
    monkeypatch.setattr(gpu_check, "visible_gpus", lambda: 8)
    single, sharded = gpu_check.plan(gpu_check.arguments(["--set", "train.epochs=1"]), STAGES)
    assert single.settings == {
        "train.device": "cuda",
        "train.epochs": 1,
        "train.num_processes": 1,
        "train.deepspeed": None,
    }
    assert single.stages == STAGES
    assert sharded.settings["train.num_processes"] == 8 and sharded.settings["train.epochs"] == 1
    assert (gpu_check.REPO / sharded.settings["train.deepspeed"]).is_file()
    assert sharded.stages == ["train", "evaluate", "report"]  # the rest is the first run's, up to date


def test_every_planned_setting_is_a_param_that_validates(tmp_path, monkeypatch):
    monkeypatch.setattr(gpu_check, "visible_gpus", lambda: 0)
    params = tmp_path / "params.yaml"
    for run in gpu_check.plan(gpu_check.arguments(["--device", "cpu"]), STAGES):
        params.write_text((gpu_check.REPO / "params.yaml").read_text())
        gpu_check.set_params(params, run.settings)
        train = load_params(params).train
        assert train.device == "cpu" and train.num_processes == run.settings["train.num_processes"]
    with pytest.raises(SystemExit, match=r"train\.num_proceses: unknown key"):
        gpu_check.set_params(params, {"train.num_proceses": 2})


def test_arguments_and_refusal_without_a_gpu(monkeypatch, capsys):
    assert gpu_check.parse_setting("train.deepspeed=null") == ("train.deepspeed", None)
    assert gpu_check.parse_setting("lora.target_modules=[q_proj, v_proj]") == (
        "lora.target_modules",
        ["q_proj", "v_proj"],
    )
    with pytest.raises(SystemExit):
        gpu_check.arguments(["--set", "train.epochs"])
    with pytest.raises(SystemExit):
        gpu_check.arguments(["--processes", "0"])
    monkeypatch.setattr(gpu_check, "visible_gpus", lambda: 0)
    with pytest.raises(SystemExit, match="no CUDA GPU is visible"):
        gpu_check.main([])
    gpu_check.main(["--dry-run", "--processes", "4"])
    runs = json.loads(capsys.readouterr().out)
    assert [run["settings"]["train.num_processes"] for run in runs] == [1, 4]
