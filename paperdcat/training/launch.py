"""Where train runs: one plain process, or ``train.num_processes`` processes under torchrun (data parallel,
optionally sharded by DeepSpeed), on CUDA GPUs (nccl, one process per GPU) or CPU processes (gloo).

The stage command stays ``python -m stages.train``: when it needs several processes or DeepSpeed, it starts
torchrun (``torch.distributed.run``, single node, standalone rendezvous) on the same module, and every
worker then trains. Started by hand under torchrun or srun (several nodes, docs/scaling.md), the module
finds torchrun's environment and trains at once."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from paperdcat.errors import PaperdcatError
from paperdcat.hardware import native_bf16_cpu
from paperdcat.params import TrainParams

T = TypeVar("T")
LAUNCHER_PID = "PAPERDCAT_LAUNCHER_PID"  # set by launch() for its workers


@dataclass(frozen=True)
class Placement:
    """The device type and collective backend of every training process."""

    device: Literal["cpu", "cuda"]

    @property
    def backend(self) -> Literal["gloo", "nccl"]:
        return "nccl" if self.device == "cuda" else "gloo"


def placement(params: TrainParams) -> Placement:
    """``train.device`` resolved: ``auto`` is CUDA when a GPU is visible, else CPU."""
    import torch

    if params.device == "cuda" and not torch.cuda.is_available():
        raise PaperdcatError("params.yaml: train.device: cuda, but torch sees no CUDA GPU")
    if params.device == "auto":
        return Placement("cuda" if torch.cuda.is_available() else "cpu")
    return Placement(params.device)


def use_bf16(params: TrainParams, where: Placement) -> bool:
    """``train.precision`` resolved: ``auto`` is bf16 on a GPU or CPU that computes it natively."""
    import torch

    if params.precision != "auto":
        return params.precision == "bf16"
    if where.device == "cuda":
        return torch.cuda.is_bf16_supported()
    return native_bf16_cpu()


def needs_launcher(params: TrainParams) -> bool:
    """Several processes, or DeepSpeed (which wants torchrun's environment even for one process)."""
    return params.num_processes > 1 or params.deepspeed is not None


def under_launcher() -> bool:
    """Whether this process is a worker started by torchrun (or by hand with its environment)."""
    return "LOCAL_RANK" in os.environ and "WORLD_SIZE" in os.environ


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def keep_to_cpu(where: Placement) -> None:
    """For CPU processes, before torch touches CUDA: hide the GPUs (on a node that has some but was asked
    for ``train.device: cpu``, accelerate would put each rank on one) and tell DeepSpeed, which picks its
    accelerator when first imported."""
    if where.device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
        os.environ["DS_ACCELERATOR"] = "cpu"


def check_launch(params: TrainParams, where: Placement) -> None:
    """Refuse what cannot start, before any process does: too few GPUs, a missing DeepSpeed config."""
    import torch

    if where.device == "cuda" and params.num_processes > torch.cuda.device_count():
        raise PaperdcatError(
            f"params.yaml: train.num_processes: {params.num_processes} processes, one per GPU, "
            f"but {torch.cuda.device_count()} GPU(s) are visible"
        )
    if params.deepspeed is not None and not Path(params.deepspeed).is_file():
        raise PaperdcatError(f"params.yaml: train.deepspeed: {params.deepspeed}: file not found")


def torchrun_arguments(params: TrainParams, module: str) -> list[str]:
    """torchrun's command line (after ``torchrun``) for ``python -m module`` on this node."""
    return ["--standalone", "--nproc_per_node", str(params.num_processes), "--module", module]


def launch(params: TrainParams, module: str) -> None:
    """Run ``python -m module`` in ``train.num_processes`` processes under torchrun and wait for all.

    A failed rank stops the others (torchrun's own policy) and raises a one-line PaperdcatError that
    names it and its error: the message recorded by :func:`worker`, else its exit code or signal."""
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    where = placement(params)
    check_launch(params, where)
    keep_to_cpu(where)
    if where.device == "cpu":  # torchrun's default is 1 thread per process; share the cores instead
        os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // params.num_processes)))
    os.environ[LAUNCHER_PID] = str(os.getpid())  # torchrun's agent runs in this process
    try:
        run(parse_args(torchrun_arguments(params, module)))
    except ChildFailedError as error:
        raise PaperdcatError(failure_line(error, params.num_processes)) from None
    except SignalException as error:  # SIGTERM, Ctrl-C: torchrun has stopped the workers
        raise PaperdcatError(f"train: stopped by {error.sigval.name}; the workers were stopped") from None


def failure_line(error, processes: int) -> str:
    """One line for the first failed rank of a torchrun ``ChildFailedError``.

    A recorded message keeps its first three lines, joined: a config validation error names its key on
    the second line."""
    failed_rank, failure = error.get_first_failure()
    prefix = f"train: rank {failed_rank} of {processes} failed"
    recorded = failure.error_file_data.get("message")
    if isinstance(recorded, dict) and recorded.get("message"):
        message = str(recorded["message"]).removeprefix(f"{PaperdcatError.__name__}: ")
        return f"{prefix}: " + "; ".join(line.strip() for line in message.splitlines()[:3] if line.strip())
    if failure.exitcode < 0:
        return f"{prefix}: killed by {failure.signal_name()}"
    return f"{prefix} with exit code {failure.exitcode}"


def worker(train: Callable[[], T]) -> T:
    """Run one rank's ``train``; an exception is written to torchrun's error file for this rank (its
    ``record`` mechanism), where :func:`launch` reads it, and raised again."""
    from torch.distributed.elastic.multiprocessing.errors import record

    die_with_launcher()
    return record(train)()


def die_with_launcher() -> None:
    """Have the kernel kill this worker when its launcher dies (Linux).

    torchrun starts each worker in a session of its own: it stops them on SIGTERM or Ctrl-C, but when the
    stage is killed outright (SIGKILL, as an interrupted ``dvc repro`` may be), its workers would train on
    and write the adapter behind the next run's back."""
    if sys.platform != "linux":
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    launcher = os.environ.get(LAUNCHER_PID)
    if launcher is not None and os.getppid() != int(launcher):  # it died before prctl took effect
        raise PaperdcatError("train: the launcher has exited; this worker stops")
