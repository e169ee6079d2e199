"""The train stage on several processes, through `dvc exp run -S ...` on the tiny model: torchrun data
parallel (DDP) and DeepSpeed ZeRO-2 / ZeRO-3 on CPU processes over gloo; a failing rank; and the shipped
ZeRO-3 config resolved for 8 GPUs by the Trainer and DeepSpeed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from commands import run
from project import REPO, copy_project, kill_at_first_checkpoint, tiny_params
from pydantic import ValidationError

from paperdcat.errors import PaperdcatError
from paperdcat.params import TrainParams, load_params
from paperdcat.training.launch import Placement, launch, needs_launcher, placement, torchrun_arguments
from paperdcat.training.train import training_arguments, weights_digest

SHIPPED_ZERO3 = REPO / "configs" / "ds_zero3.json"
RANK_LINE = re.compile(
    r"rank (\d+) of (\d+) \((\w+), ([^)]*)\): LoRA weights ([0-9a-f]{16}), (\d+) of (\d+) values held here"
)


def zero_config(**zero: object) -> dict:
    """The shipped ZeRO-3 config with its ``zero_optimization`` section changed."""
    config = json.loads(SHIPPED_ZERO3.read_text())
    config["zero_optimization"].update(zero)
    return config


TEST_CONFIGS = {
    # every LoRA weight sharded: the case where saving each rank's own model writes empty tensors
    "configs/zero3_shard_all.json": zero_config(stage3_param_persistence_threshold=0),
    "configs/zero2.json": {**zero_config(), "zero_optimization": {"stage": 2}},
    "configs/zero3_misspelt.json": {
        **zero_config(),
        "zero_optimization": {"stage": 3, "stage3_param_persistance_threshold": 0},
    },
}


@pytest.fixture(scope="module")
def deepspeed_ops() -> None:
    """DeepSpeed compiles its shared-memory collective op on first use on CPU (about a minute on 2 cores,
    then cached in ~/.cache/torch_extensions): done once here, so that no test pays for it."""
    build = "from deepspeed.comm.torch import build_shm_op; build_shm_op()"
    subprocess.run(
        [sys.executable, "-c", build], env={**os.environ, "DS_ACCELERATOR": "cpu"}, check=True, timeout=600
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory, tiny_model_dir) -> Path:
    """The tiny configuration on CPU with the pipeline run up to tokenize, and the test DeepSpeed configs."""
    root = tmp_path_factory.mktemp("paperdcat-scale")
    for name, config in TEST_CONFIGS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(json.dumps(config, indent=2))
    params = tiny_params(tiny_model_dir)
    params["train"]["device"] = "cpu"  # CPU processes over gloo, also where a GPU is visible
    copy_project(root, params)
    run(["dvc", "repro", "tokenize"], root)
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-qm", "tokenized"], root)
    return root


def train(root: Path, *settings: str) -> str:
    """``dvc exp run train -S ...`` from the committed state; the stage's output."""
    run(["git", "checkout", "--", "."], root)
    result = run(["dvc", "exp", "run", "train", *(arg for s in settings for arg in ("-S", s))], root)
    return result.stdout + result.stderr


def rank_lines(output: str) -> list[SimpleNamespace]:
    """Each rank's report, by rank."""
    lines = [
        SimpleNamespace(
            rank=int(m[1]),
            world=int(m[2]),
            device=m[3],
            engine=m[4],
            digest=m[5],
            held=int(m[6]),
            total=int(m[7]),
        )
        for m in RANK_LINE.finditer(output)
    ]
    return sorted(lines, key=lambda line: line.rank)


def saved_weights(root: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(root / "models/adapter/adapter_model.safetensors")


def load_adapter(root: Path, base: Path):
    """The adapter as extraction loads it: peft on the base model; fails on an empty or misshapen weight."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    return PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base), root / "models/adapter")


@pytest.fixture(scope="module")
def ddp_run(project, tiny_model_dir) -> SimpleNamespace:
    output = train(project, "train.num_processes=2")
    return SimpleNamespace(output=output, ranks=rank_lines(output), weights=saved_weights(project))


def test_two_cpu_processes_train_data_parallel_and_rank_0_writes_once(ddp_run, project, tiny_model_dir):
    ranks = ddp_run.ranks
    assert [line.rank for line in ranks] == [0, 1]
    assert all(line.world == 2 and line.device == "cpu" and line.engine == "DDP" for line in ranks)
    assert ranks[0].digest == ranks[1].digest  # one model: each rank applied the averaged gradients
    assert weights_digest(ddp_run.weights) == ranks[0].digest
    load_adapter(project, tiny_model_dir)
    metrics = json.loads((project / "metrics/train.json").read_text())
    assert metrics["processes"] == 2 and metrics["steps"] == 3
    assert ddp_run.output.count("models/adapter: {") == 1  # only rank 0 writes the metrics
    loss = (project / "dvclive/train/plots/metrics/loss.tsv").read_text().splitlines()
    assert [row.split("\t")[0] for row in loss] == ["step", "1", "2", "3"]  # one curve, not one per rank
    assert not list((project / "models/checkpoints").glob("checkpoint-*"))


def test_zero2_trains_the_same_weights_as_ddp(ddp_run, project, deepspeed_ops):
    import torch

    ranks = rank_lines(train(project, "train.num_processes=2", "train.deepspeed=configs/zero2.json"))
    assert [(line.rank, line.world, line.engine) for line in ranks] == [
        (0, 2, "DeepSpeed zero2.json"),
        (1, 2, "DeepSpeed zero2.json"),
    ]
    weights = saved_weights(project)
    assert weights.keys() == ddp_run.weights.keys()
    assert all(torch.equal(weights[name], ddp_run.weights[name]) for name in weights)


def test_zero3_with_every_lora_weight_sharded_saves_the_trained_weights(
    ddp_run, project, deepspeed_ops, tiny_model_dir
):
    ranks = rank_lines(
        train(project, "train.num_processes=2", "train.deepspeed=configs/zero3_shard_all.json")
    )
    assert [line.rank for line in ranks] == [0, 1] and all(line.world == 2 for line in ranks)
    assert all(line.held < line.total for line in ranks)  # each rank holds only its shards
    assert ranks[0].digest == ranks[1].digest  # the weights gathered from the shards
    weights = saved_weights(project)
    assert {name: tensor.shape for name, tensor in weights.items()} == {
        name: tensor.shape for name, tensor in ddp_run.weights.items()
    }
    assert weights_digest(weights) == ranks[0].digest  # what was trained, not a rank's empty placeholders
    assert any(name.endswith("lora_B.weight") and tensor.abs().sum() > 0 for name, tensor in weights.items())
    load_adapter(project, tiny_model_dir)


def test_a_failing_rank_stops_the_stage_with_one_line_naming_it(project, deepspeed_ops):
    run(["git", "checkout", "--", "."], project)
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["train"].update(num_processes=2, deepspeed="configs/zero3_misspelt.json")
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    shutil.rmtree(project / "models/adapter", ignore_errors=True)
    result = run([sys.executable, "-m", "stages.train"], project, check=False)  # the stage's command
    run(["git", "checkout", "--", "."], project)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert re.fullmatch(r"error: train: rank [01] of 2 failed: .*stage3_param_persistance_threshold.*", last)
    assert not (project / "models/adapter").exists()


def stage_processes(root: Path) -> list:
    """Live processes of the train stage started in ``root``."""
    import psutil

    found = []
    for process in psutil.process_iter(["cmdline", "cwd"]):
        if "stages.train" in (process.info["cmdline"] or []) and process.info["cwd"] == str(root):
            found.append(process)
    return found


def test_two_processes_killed_outright_leave_no_worker_and_resume_from_the_last_checkpoint(project):
    run(["git", "checkout", "--", "."], project)
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["train"].update(num_processes=2, max_steps=40, save_steps=4)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    shutil.rmtree(project / "models/checkpoints", ignore_errors=True)
    # the stage (torchrun's agent) alone: its workers have sessions of their own
    kill_at_first_checkpoint([sys.executable, "-m", "stages.train"], project, timeout_s=120)
    deadline = time.monotonic() + 2  # the kernel kills them at once; orphans would train on for seconds
    while stage_processes(project):
        assert time.monotonic() < deadline, "workers outlived their launcher"
        time.sleep(0.1)

    result = run([sys.executable, "-m", "stages.train"], project)
    run(["git", "checkout", "--", "."], project)
    resumed = re.search(r"resuming from models/checkpoints/checkpoint-(\d+)", result.stdout)
    assert resumed and 4 <= int(resumed.group(1)) < 40
    train = json.loads((project / "metrics/train.json").read_text())
    assert train["steps"] == 40 and train["resumed_from_step"] == int(resumed.group(1))
    assert train["processes"] == 2 and len({line.digest for line in rank_lines(result.stdout)}) == 1
    steps = [row.split("\t")[0] for row in (project / "dvclive/train/plots/metrics/loss.tsv").open()]
    assert steps[1:] == [str(step) for step in range(1, 41)]


def test_shipped_zero3_config_resolves_for_eight_gpus_and_rejects_a_misspelt_key(monkeypatch, tmp_path):
    """The Trainer fills the shipped config's "auto" values for 8 processes (MetaMine's batch: 1 × 32
    accumulation steps per GPU) and a 3B model's hidden size, and DeepSpeed's own parser accepts it."""
    import deepspeed.comm
    from deepspeed.runtime.config import DeepSpeedConfig
    from transformers import TrainingArguments
    from transformers.integrations.deepspeed import HfTrainerDeepSpeedConfig, unset_hf_deepspeed_config

    hidden_size, eight_gpus = 3072, SimpleNamespace(get_data_parallel_world_size=lambda: 8)
    monkeypatch.setattr(TrainingArguments, "world_size", property(lambda self: 8))
    monkeypatch.setattr(deepspeed.comm, "get_rank", lambda: 0)  # no process group in this test
    params = load_params(REPO / "params.yaml").train.model_copy(
        update={
            "deepspeed": str(SHIPPED_ZERO3),
            "gradient_accumulation_steps": 32,
            "learning_rate": 2e-4,
            "precision": "fp32",  # auto would be bf16 on a CPU with AMX
        }
    )

    def resolve(config_path: Path) -> DeepSpeedConfig:
        args = training_arguments(
            params.model_copy(update={"deepspeed": str(config_path)}),
            tmp_path,
            False,
            Placement("cpu"),
            False,
        )
        try:
            config = HfTrainerDeepSpeedConfig(str(config_path))
            config.trainer_config_process(args)
            config.trainer_config_finalize(
                args, SimpleNamespace(config=SimpleNamespace(hidden_size=hidden_size)), 100
            )
            return DeepSpeedConfig(config.config, mpu=eight_gpus)
        finally:
            unset_hf_deepspeed_config()  # or later from_pretrained calls in this process would shard

    resolved = resolve(SHIPPED_ZERO3)
    assert resolved.world_size == 8 and resolved.zero_optimization_stage == 3
    assert resolved.train_micro_batch_size_per_gpu == 1 and resolved.gradient_accumulation_steps == 32
    assert resolved.train_batch_size == 8 * 32
    assert resolved.zero_config.reduce_bucket_size == hidden_size**2
    assert resolved.zero_config.param_persistence_threshold == 10 * hidden_size
    assert resolved.zero_config.gather_16bit_weights_on_model_save  # what save_model gathers from
    assert resolved.gradient_clipping == 1.0 and resolved.bfloat16_config.enabled is False  # fp32 on CPU
    misspelt = tmp_path / "misspelt.json"
    misspelt.write_text(json.dumps(TEST_CONFIGS["configs/zero3_misspelt.json"]))
    with pytest.raises(ValidationError, match="stage3_param_persistance_threshold"):
        resolve(misspelt)


def test_default_params_train_in_one_plain_process():
    params = load_params(REPO / "params.yaml").train
    assert params.num_processes == 1 and params.deepspeed is None and params.device == "auto"
    assert not needs_launcher(params)
    assert needs_launcher(params.model_copy(update={"num_processes": 2}))
    assert needs_launcher(params.model_copy(update={"deepspeed": str(SHIPPED_ZERO3)}))  # also for one process
    assert torchrun_arguments(params.model_copy(update={"num_processes": 4}), "stages.train") == [
        "--standalone",
        "--nproc_per_node",
        "4",
        "--module",
        "stages.train",
    ]


def test_cuda_asked_without_a_gpu_or_a_missing_config_stops_before_any_process(tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert placement(TrainParams(device="auto")) == Placement("cpu")
    assert Placement("cuda").backend == "nccl" and Placement("cpu").backend == "gloo"
    with pytest.raises(
        PaperdcatError, match=r"^params.yaml: train.device: cuda, but torch sees no CUDA GPU$"
    ):
        placement(TrainParams(device="cuda"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PaperdcatError, match=r"^params.yaml: train.deepspeed: nope.json: file not found$"):
        launch(TrainParams(num_processes=2, device="cpu", deepspeed="nope.json"), "stages.train")


def test_precision_auto_is_bf16_only_where_the_device_computes_it_natively(monkeypatch, tmp_path):
    from paperdcat import hardware
    from paperdcat.training import launch as launch_module

    flags = {"avx2": False, "avx512_bf16": True, "amx_bf16": True}
    for flag, native in flags.items():
        monkeypatch.setattr(hardware, "cpu_flags", lambda flag=flag: {"fma", flag})
        assert launch_module.use_bf16(TrainParams(), Placement("cpu")) is native
        assert launch_module.use_bf16(TrainParams(precision="fp32"), Placement("cpu")) is False
        assert launch_module.use_bf16(TrainParams(precision="bf16"), Placement("cpu")) is True
    # The Trainer takes bf16 on CPU (autocast; the weights stay fp32).
    args = training_arguments(TrainParams(precision="bf16"), tmp_path, False, Placement("cpu"), False)
    assert args.bf16 and args.use_cpu
    with pytest.raises(ValidationError, match="precision"):
        TrainParams(precision="fp16")
