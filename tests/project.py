"""A copy of this project in a temporary git repo, with the tiny configuration of params.yaml: where the
end-to-end tests run dvc."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import yaml
from commands import run

REPO = Path(__file__).resolve().parents[1]
GENERATED = ("metrics/", "reports/", "dvclive/", "models/checkpoints/", "dvc.lock")


def tiny_params(model_dir: Path) -> dict:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["data"].update(n_papers=12, split={"train": 0.5, "val": 0.17, "test": 0.33})
    params["model"]["base"] = str(model_dir)
    params["preprocess"]["max_context_tokens"] = 256
    params["tokenize"]["max_seq_length"] = 1024
    params["lora"]["rank"] = 4
    # fp32 on every CPU (auto is bf16 autocast on one with AMX), so that runs compare weight for weight
    params["train"].update(max_steps=3, gradient_accumulation_steps=1, logging_steps=1, precision="fp32")
    params["evaluate"].update(max_new_tokens=24, batch_size=4)
    return params


def copy_project(root: Path, params: dict) -> Path:
    """The project's tracked and unignored files (no pipeline outputs) in ``root`` with ``params``, as the
    first commit of a new git repo."""
    listed = run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], REPO).stdout.split()
    for name in listed:
        if not name.startswith(GENERATED) and (REPO / name).is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, root / name)
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["git", "init", "-q"], root)
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-qm", "tiny configuration"], root)
    return root


def kill_at_first_checkpoint(command: list[str], root: Path, timeout_s: float) -> None:
    """Start ``command`` in ``root`` in a process group of its own and SIGKILL the group as soon as train has
    written its first complete checkpoint (``trainer_state.json`` is written last)."""
    checkpoints = root / "models/checkpoints"
    process = subprocess.Popen(
        command, cwd=root, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + timeout_s
    while not any(checkpoints.glob("checkpoint-*/trainer_state.json")):
        assert process.poll() is None and time.monotonic() < deadline, (
            "train ended before its first checkpoint"
        )
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
