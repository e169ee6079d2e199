"""LoRA fine-tuning with peft and the transformers Trainer, in bf16 where the device computes it natively and
fp32 elsewhere (``train.precision``); one process, or one
rank of several under torchrun (DDP, or DeepSpeed when ``train.deepspeed`` names a config; see
``paperdcat.training.launch``). One code path for all: only rank 0 writes the adapter, curves and metrics.

Checkpoints go every ``train.save_steps`` optimizer steps to a folder that DVC keeps between runs
(``persist: true``); an interrupted run resumes from the last complete one when its inputs are the same."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from paperdcat.errors import PaperdcatError
from paperdcat.extraction.settings import ExtractionSettings, save_settings
from paperdcat.io import atomic_path
from paperdcat.params import LoraParams, TrainParams
from paperdcat.training.launch import (
    Placement,
    keep_to_cpu,
    placement,
    under_launcher,
    use_bf16,
    world_size,
)

MODEL_COLUMNS = ["input_ids", "attention_mask", "labels"]


def lora_config(params: LoraParams):
    from peft import LoraConfig, TaskType

    return LoraConfig(
        task_type=TaskType.CAUSAL_LM,
        r=params.rank,
        lora_alpha=params.alpha,
        lora_dropout=params.dropout,
        target_modules=list(params.target_modules),
    )


def process_state(where: Placement, deepspeed: bool) -> bool:
    """Create accelerate's process state for a torchrun worker, before the TrainingArguments; return
    whether one was created.

    Why here: without CUDA, accelerate picks no collective backend for DeepSpeed, so the Trainer would
    believe it runs alone while DeepSpeed sees every rank (and its batch-size check fails). Created
    first with the backend named, the state is the same for DDP and DeepSpeed, on CPU and GPU."""
    if not under_launcher():
        return False
    from accelerate import PartialState

    keep_to_cpu(where)
    if deepspeed:
        os.environ["ACCELERATE_USE_DEEPSPEED"] = "true"  # accelerate starts deepspeed.comm over the backend
    PartialState(cpu=where.device == "cpu" and not deepspeed, backend=where.backend)
    return True


def training_arguments(
    params: TrainParams, output_dir: Path, has_eval: bool, where: Placement, configured_state: bool
):
    """The Trainer's arguments; ``configured_state``: use the process state made by :func:`process_state`."""
    from transformers import TrainingArguments

    on_gpu = where.device == "cuda"
    return TrainingArguments(
        output_dir=str(output_dir),
        num_train_epochs=params.epochs,
        max_steps=params.max_steps,
        learning_rate=params.learning_rate,
        warmup_steps=params.warmup_ratio,
        weight_decay=params.weight_decay,
        per_device_train_batch_size=params.batch_size,
        per_device_eval_batch_size=params.batch_size,
        gradient_accumulation_steps=params.gradient_accumulation_steps,
        gradient_checkpointing=params.gradient_checkpointing,
        seed=params.seed,
        data_seed=params.seed,
        logging_steps=params.logging_steps,
        eval_strategy="epoch" if has_eval else "no",
        save_strategy="steps",
        save_steps=params.save_steps,
        save_total_limit=2,
        report_to="none",
        bf16=use_bf16(params, where),  # mixed precision: autocast, the weights stay fp32
        deepspeed=params.deepspeed,
        use_cpu=not on_gpu,
        accelerator_config={"use_configured_state": configured_state},
        ddp_find_unused_parameters=False,  # every LoRA weight takes part in every forward pass
        remove_unused_columns=False,
        dataloader_num_workers=0,
        disable_tqdm=False,
    )


ANSWER_START_TOKENS = 2  # "[" and the token after it: "]" (no dataset) or '{"' (the first dataset)


def answer_logits_collator(tokenizer):
    """Pads like ``DataCollatorForSeq2Seq`` and adds ``logits_to_keep``: the model projects onto the
    vocabulary only from the position before the batch's first answer token to the end.

    Why: the prompt (about 500 of 640 tokens) carries no labels, and the vocabulary projection with its
    backward pass is about a fifth of a step's compute for a 135M model; the loss is the same."""
    from transformers import DataCollatorForSeq2Seq

    pad = DataCollatorForSeq2Seq(tokenizer, label_pad_token_id=-100, padding=True)

    def collate(features):
        batch = pad(features)
        labelled = (batch["labels"] != -100).any(dim=0)
        length = batch["labels"].shape[1]
        first = int(labelled.int().argmax()) if labelled.any() else length
        batch["logits_to_keep"] = length - max(first - 1, 0)
        return batch

    return collate


def answer_start_weighted_loss(weight: float):
    """Causal-LM cross-entropy in which the first ``ANSWER_START_TOKENS`` answer tokens count ``weight``
    times (1: the plain loss), normalised like the Trainer's own loss (by the label tokens of the
    accumulation window). The logits may cover only the last positions (``answer_logits_collator``).

    Why the weight: the whole empty-or-not decision is one token per example, against about 160 tokens
    that copy evidence, and with about 100 examples it stays near the base model's "[]" prior."""
    import torch
    import torch.nn.functional as functional

    def loss(outputs, labels, num_items_in_batch=None):
        logits = outputs["logits"]
        # Logits of the last k positions predict the last k - 1 labels.
        targets = labels[:, labels.shape[1] - logits.shape[1] + 1 :].to(logits.device)
        answer = targets != -100
        start = answer & (answer.cumsum(dim=1) <= ANSWER_START_TOKENS)
        weights = torch.where(start, weight, 1.0)[answer]
        # Only the answer positions: a [tokens, vocab] slice, not the whole sequence's logits.
        per_token = functional.cross_entropy(
            logits[:, :-1][answer].float(), targets[answer], reduction="none"
        )
        denominator = num_items_in_batch if num_items_in_batch is not None else answer.sum().clamp(min=1)
        return (per_token * weights).sum() / denominator

    return loss


SIGNATURE_FILE = "signature.json"
TRAINER_STATE = "trainer_state.json"  # the Trainer writes it last: its presence marks a complete checkpoint


def training_signature(base_dir: Path, tokenized_dir: Path, lora: LoraParams, params: TrainParams) -> str:
    """A hash of everything a checkpoint depends on: params, tokenized data, base model config and size."""
    digest = hashlib.sha256()
    digest.update(json.dumps([lora.model_dump(), params.model_dump()], sort_keys=True).encode())
    for path in sorted(tokenized_dir.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(tokenized_dir).as_posix().encode() + path.read_bytes())
    for path in sorted(base_dir.iterdir()):
        if path.is_file():
            digest.update(f"{path.name}:{path.stat().st_size}".encode())
    digest.update((base_dir / "config.json").read_bytes())
    return digest.hexdigest()


def checkpoint_to_resume(checkpoint_dir: Path, signature: str) -> Path | None:
    """The last complete checkpoint of an interrupted run with the same signature, if any.

    Checkpoints of any other run (other params or data) are deleted, so they can never be resumed.
    """
    signature_file = checkpoint_dir / SIGNATURE_FILE
    if not signature_file.is_file() or signature_file.read_text().strip() != signature:
        shutil.rmtree(checkpoint_dir, ignore_errors=True)
        checkpoint_dir.mkdir(parents=True)
        signature_file.write_text(signature + "\n")
        return None
    complete = [path for path in checkpoint_dir.glob("checkpoint-*") if (path / TRAINER_STATE).is_file()]
    return max(complete, key=checkpoint_step, default=None)


def checkpoint_step(checkpoint: Path) -> int:
    """The global step of a Trainer checkpoint folder (``checkpoint-<step>``)."""
    return int(checkpoint.name.rsplit("-", 1)[1])


def clear_checkpoints(checkpoint_dir: Path) -> None:
    """After a finished run only the signature stays: nothing is left to resume."""
    for path in checkpoint_dir.glob("checkpoint-*"):
        shutil.rmtree(path)


def step_aligned_dvclive_callback(live):
    """transformers' DVCLiveCallback, with dvclive's step set to the Trainer's global step (train and eval
    curves share one x axis), and able to replay a resumed checkpoint's log history."""
    from transformers.integrations import DVCLiveCallback

    class StepAlignedDVCLiveCallback(DVCLiveCallback):
        def on_log(self, args, state, control, model=None, logs=None, **kwargs):
            live.step = state.global_step
            super().on_log(args, state, control, model=model, logs=logs, **kwargs)

        def replay(self, args, history: list[dict[str, Any]]) -> None:
            from transformers import TrainerControl, TrainerState

            for entry in history:
                logs = {key: value for key, value in entry.items() if key != "step"}
                self.on_log(args, TrainerState(global_step=entry["step"]), TrainerControl(), logs=logs)

    return StepAlignedDVCLiveCallback(live=live)


def lora_weights(model):
    """The trained LoRA tensors as peft saves them; under ZeRO-3 each rank holds only its shards, so they
    are gathered first (a collective: every rank calls this)."""
    from peft import get_peft_model_state_dict

    trainable = [parameter for parameter in model.parameters() if parameter.requires_grad]
    if any(hasattr(parameter, "ds_id") for parameter in trainable):
        import deepspeed

        gathered = deepspeed.zero.GatheredParameters(trainable)
    else:
        gathered = nullcontext()
    with gathered:
        return {
            name: tensor.detach().cpu().clone() for name, tensor in get_peft_model_state_dict(model).items()
        }


def weights_digest(weights: dict) -> str:
    """A short sha256 of named tensors (names, shapes, dtypes and values), equal across ranks that agree."""
    import torch

    digest = hashlib.sha256()
    for name in sorted(weights):
        tensor = weights[name].contiguous()
        digest.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype}".encode())
        digest.update(tensor.view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:16]


def held_values(model) -> tuple[int, int]:
    """(values of the trainable weights stored on this rank, values in all): below the total when ZeRO-3
    shards them."""
    local = total = 0
    for parameter in model.parameters():
        if parameter.requires_grad:
            local += parameter.ds_tensor.numel() if hasattr(parameter, "ds_tensor") else parameter.numel()
            total += getattr(parameter, "ds_numel", parameter.numel())
    return local, total


def train_adapter(
    base_dir: Path,
    tokenized_dir: Path,
    adapter_dir: Path,
    live_dir: Path,
    checkpoint_dir: Path,
    lora: LoraParams,
    params: TrainParams,
    settings: ExtractionSettings,
) -> dict[str, Any]:
    """Train a LoRA adapter on the tokenized train split; write it, the tokenizer and the extraction
    ``settings`` (``paperdcat.json``) to ``adapter_dir``.

    Resumes from the last complete checkpoint in ``checkpoint_dir`` left by an interrupted run of the same
    signature. Under torchrun every rank calls this; rank 0 alone writes files and its metrics count."""
    import torch
    from datasets import load_from_disk
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, set_seed

    where = placement(params)
    configured_state = process_state(where, params.deepspeed is not None)
    splits = load_from_disk(str(tokenized_dir))
    train_set = splits["train"].select_columns(MODEL_COLUMNS)
    eval_set = splits["val"].select_columns(MODEL_COLUMNS) if len(splits.get("val", [])) else None
    if not len(train_set):
        raise PaperdcatError(
            f"{tokenized_dir}: the train split is empty; raise data.n_papers or data.split.train"
        )
    # Before the model: with a ZeRO-3 config in force, from_pretrained shards the weights as it loads them.
    args = training_arguments(params, checkpoint_dir, eval_set is not None, where, configured_state)
    if args.world_size != world_size():
        raise PaperdcatError(
            f"train: the Trainer sees {args.world_size} process(es) but {world_size()} were launched"
        )
    main_process = args.process_index == 0
    set_seed(params.seed)  # before get_peft_model, which draws the LoRA initialisation
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    try:
        model = get_peft_model(model, lora_config(lora))
    except ValueError as error:
        raise PaperdcatError(f"params.yaml: lora.target_modules: {str(error).splitlines()[0]}") from None
    trainable_params = held_values(model)[1]
    signature = training_signature(base_dir, tokenized_dir, lora, params)
    with args.main_process_first(local=False):  # rank 0 clears stale checkpoints before the others look
        resume_from = checkpoint_to_resume(checkpoint_dir, signature)
    callbacks = []
    if main_process:
        from dvclive import Live

        callbacks.append(
            step_aligned_dvclive_callback(Live(str(live_dir), dvcyaml=None, save_dvc_exp=False, report=None))
        )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=train_set,
        eval_dataset=eval_set,
        data_collator=answer_logits_collator(tokenizer),
        callbacks=callbacks,
        compute_loss_func=answer_start_weighted_loss(params.answer_start_weight),
    )
    start_step = 0
    if resume_from is not None:
        start_step = checkpoint_step(resume_from)
        if main_process:
            print(f"resuming from {resume_from} (step {start_step})")
            callbacks[0].replay(args, json.loads((resume_from / TRAINER_STATE).read_text())["log_history"])
    result = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    report_rank(trainer, where, params)
    # save_model, not model.save_pretrained: under ZeRO-3 it gathers the shards (every rank takes part);
    # save_pretrained would write each rank's empty placeholders.
    with atomic_path(adapter_dir) if main_process else nullcontext() as tmp:
        trainer.save_model(str(tmp) if tmp else None)
        if main_process:
            (tmp / "training_args.bin").unlink(missing_ok=True)  # a pickle of this run's arguments
            tokenizer.save_pretrained(tmp)
            save_settings(settings, tmp)
    if main_process:
        clear_checkpoints(checkpoint_dir)
    tokens_per_example = sum(len(ids) for ids in train_set["input_ids"]) / len(train_set)
    steps_run = trainer.state.global_step - start_step
    examples_seen = steps_run * params.batch_size * params.gradient_accumulation_steps * args.world_size
    runtime = result.metrics["train_runtime"]
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    eval_losses = [entry["eval_loss"] for entry in trainer.state.log_history if "eval_loss" in entry]
    return {
        "steps": trainer.state.global_step,
        "resumed_from_step": start_step,
        "examples": len(train_set),
        "processes": args.world_size,
        "train_loss": round(result.training_loss, 4),
        "final_loss": round(losses[-1], 4) if losses else None,
        "eval_loss": round(eval_losses[-1], 4) if eval_losses else None,
        "runtime_s": round(runtime, 1),
        "tokens_per_s": round(tokens_per_example * examples_seen / runtime, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "trainable_params": trainable_params,
        "precision": "bf16" if args.bf16 else "fp32",
    }


def report_rank(trainer, where: Placement, params: TrainParams) -> None:
    """One line per rank: what it ran on and a digest of its trained LoRA weights (equal on every rank of
    a data-parallel run; a rank that trained on its own would differ), and how much of them it holds."""
    local, total = held_values(trainer.model)
    digest = weights_digest(lora_weights(trainer.model))
    if params.deepspeed:
        engine = f"DeepSpeed {Path(params.deepspeed).name}"
    else:
        engine = "DDP" if trainer.args.world_size > 1 else "single process"
    print(
        f"rank {trainer.args.process_index} of {trainer.args.world_size} ({where.device}, {engine}): "
        f"LoRA weights {digest}, {local} of {total} values held here"
    )
