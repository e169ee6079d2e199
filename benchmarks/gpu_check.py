"""GPU check: the pipeline on the embedded model in bf16, once on 1 GPU and once with DeepSpeed ZeRO-3 across
all GPUs of the node; one JSON with stage times, training tokens/s, s/paper and F1 of each run.

    python -m benchmarks.gpu_check [--out gpu_check.json] [--processes N] [--set KEY=VALUE ...]
    python -m benchmarks.gpu_check --dry-run            # print the plan; needs no GPU
    python -m benchmarks.gpu_check --device cpu --set model.base=<tiny model folder> ...
                                                        # the same plan on CPU processes: checks the script

It works in a clone of this repository's HEAD (uncommitted changes are not in it) under a temporary folder
(or --workdir), so the workspace, its dvc.lock and its metrics stay as they are. Each run writes its params
into the clone's params.yaml and runs the stages one at a time (`dvc repro --single-item`), so each stage
time is that stage's own; the second run re-runs only train, evaluate and report. bf16 is what train and
evaluate pick on a GPU that supports it; the JSON records whether it does. The embedded model comes from
the paperdcat cache (~/.cache/paperdcat or $PAPERDCAT_CACHE) or, once, from PyPI. Budget: about 8 minutes
on one node (fetch and preprocess run on the CPU; train and evaluate of the 135M model take seconds to a
minute each on a GPU); every stage is stopped after --stage-timeout seconds.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from benchmarks.pipeline_timing import run_timed

REPO = Path(__file__).resolve().parents[1]
ZERO3 = "configs/ds_zero3.json"


@dataclass
class Run:
    """One configuration: the params it sets and the stages that must run again for it."""

    name: str
    settings: dict[str, Any]
    stages: list[str] = field(default_factory=list)


def parse_setting(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` as `dvc exp run -S` reads it: the value is YAML (``null``, ``2e-4``, ``[a, b]``)."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, yaml.safe_load(value)


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=Path("gpu_check.json"), help="the JSON written at the end"
    )
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda", help="cpu: check the script")
    parser.add_argument("--processes", type=int, help="ZeRO-3 processes (default: every GPU; 2 on cpu)")
    parser.add_argument(
        "--set",
        dest="settings",
        type=parse_setting,
        action="append",
        default=[],
        help="a param for both runs",
    )
    parser.add_argument(
        "--workdir", type=Path, help="clone into this folder and keep it (default: temporary)"
    )
    parser.add_argument("--stage-timeout", type=float, default=600, help="seconds before a stage is stopped")
    parser.add_argument("--dry-run", action="store_true", help="print the plan as JSON and stop")
    args = parser.parse_args(argv)
    if args.processes is not None and args.processes < 1:
        parser.error("--processes must be at least 1")
    return args


def visible_gpus() -> int:
    import torch

    return torch.cuda.device_count()


def plan(args: argparse.Namespace, stages: list[str]) -> list[Run]:
    """The two runs: 1 process, then ZeRO-3 over ``--processes`` (every GPU by default)."""
    processes = args.processes or (max(1, visible_gpus()) if args.device == "cuda" else 2)
    common = {"train.device": args.device, **dict(args.settings)}
    single = Run(f"1 process ({args.device})", {**common, "train.num_processes": 1, "train.deepspeed": None})
    sharded = Run(
        f"ZeRO-3, {processes} processes ({args.device})",
        {**common, "train.num_processes": processes, "train.deepspeed": ZERO3},
    )
    single.stages = list(stages)
    sharded.stages = stages[stages.index("train") :]
    return [single, sharded]


def set_params(params_file: Path, settings: dict[str, Any]) -> None:
    params = yaml.safe_load(params_file.read_text())
    for key, value in settings.items():
        *parents, leaf = key.split(".")
        section = params
        for parent in parents:
            section = section[parent]
        if leaf not in section:
            raise SystemExit(f"{params_file}: {key}: unknown key")
        section[leaf] = value
    params_file.write_text(yaml.safe_dump(params, sort_keys=False))


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def run_once(clone: Path, run: Run, timeout: float) -> dict[str, Any]:
    """Run ``run``'s stages in ``clone``; its stage times and figures."""
    set_params(clone / "params.yaml", run.settings)
    stage_s = {}
    for stage in run.stages:
        seconds, output = run_timed(["dvc", "repro", "--single-item", stage], cwd=clone, timeout=timeout)
        if f"Running stage '{stage}'" not in output:
            raise SystemExit(f"{run.name}: stage {stage} did not run (up to date), so it was not timed")
        stage_s[stage] = round(seconds, 1)
        print(f"{run.name}: {stage} {seconds:.1f} s", flush=True)
    train = read_json(clone / "metrics/train.json")
    comparison = read_json(clone / "metrics/comparison.json")
    return {
        "name": run.name,
        "params": run.settings,
        "stage_s": stage_s,
        "train": {
            key: train.get(key) for key in ("processes", "steps", "runtime_s", "tokens_per_s", "final_loss")
        },
        "sec_per_paper": {model: comparison[model]["sec_per_paper"] for model in ("base", "tuned")},
        "f1": {
            model: {
                "datasets": comparison[model]["datasets"]["f1"],
                "fields_macro": comparison[model]["fields_macro_f1"],
            }
            for model in ("base", "tuned")
        },
    }


def machine(device: str) -> dict[str, Any]:
    import torch

    gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return {
        "device": device,
        "gpus": gpus,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "bf16": bool(gpus) and torch.cuda.is_bf16_supported(),
    }


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    stages = list(yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"])
    if args.device == "cuda" and not args.dry_run and visible_gpus() == 0:
        raise SystemExit(
            "gpu_check: no CUDA GPU is visible (--dry-run prints the plan; --device cpu runs it)"
        )
    runs = plan(args, stages)
    if args.dry_run:
        print(json.dumps([asdict(run) for run in runs], indent=2))
        return
    if subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True).stdout:
        print("gpu_check: uncommitted changes are not in the clone; it runs HEAD", flush=True)
    started = time.perf_counter()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="paperdcat-gpu-check-"))
    clone = workdir / "paperdcat"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=clone, capture_output=True, text=True).stdout
    try:
        results = [run_once(clone, run, args.stage_timeout) for run in runs]
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    report = {
        "commit": commit.strip(),
        "machine": machine(args.device),
        "runs": results,
        "total_s": round(time.perf_counter() - started, 1),
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{args.out}: {report['total_s']} s in all")


if __name__ == "__main__":
    main()
