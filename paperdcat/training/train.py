"""LoRA fine-tuning with peft and the transformers Trainer: fp32 on CPU; bf16 (and DeepSpeed ZeRO-3 when
``train.deepspeed`` names a config) when launched on GPUs. One code path for both.

Checkpoints go every ``train.save_steps`` optimizer steps to a folder that DVC keeps between runs
(``persist: true``); an interrupted run resumes from the last complete one when its inputs are the same."""

from __future__ import annotations

import hashlib
import json
import resource
import shutil
from pathlib import Path
from typing import Any

from paperdcat.errors import PaperdcatError
from paperdcat.extraction.settings import ExtractionSettings, save_settings
from paperdcat.io import atomic_path
from paperdcat.params import LoraParams, TrainParams

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


def training_arguments(params: TrainParams, output_dir: Path, has_eval: bool):
    import torch
    from transformers import TrainingArguments

    on_gpu = torch.cuda.is_available()
    if params.deepspeed and on_gpu and not Path(params.deepspeed).is_file():
        raise PaperdcatError(f"params.yaml: train.deepspeed: {params.deepspeed}: file not found")
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
        bf16=on_gpu and torch.cuda.is_bf16_supported(),
        deepspeed=params.deepspeed if on_gpu else None,
        use_cpu=not on_gpu,
        remove_unused_columns=False,
        dataloader_num_workers=0,
        disable_tqdm=False,
    )


ANSWER_START_TOKENS = 2  # "[" and the token after it: "]" (no dataset) or '{"' (the first dataset)


def answer_start_weighted_loss(weight: float):
    """Causal-LM cross-entropy in which the first ``ANSWER_START_TOKENS`` answer tokens count ``weight``
    times, normalised like the Trainer's own loss (by the label tokens of the accumulation window).

    Why: the whole empty-or-not decision is one token per example, against about 160 tokens that copy
    evidence, and with about 100 examples it stays near the base model's "[]" prior."""
    import torch
    import torch.nn.functional as functional

    def loss(outputs, labels, num_items_in_batch=None):
        targets = labels[:, 1:].to(outputs["logits"].device)
        answer = targets != -100
        start = answer & (answer.cumsum(dim=1) <= ANSWER_START_TOKENS)
        weights = torch.where(start, weight, 1.0)[answer]
        # Only the answer positions: a [tokens, vocab] slice, not the whole sequence's logits.
        per_token = functional.cross_entropy(
            outputs["logits"][:, :-1][answer].float(), targets[answer], reduction="none"
        )
        denominator = num_items_in_batch if num_items_in_batch is not None else answer.sum()
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
    signature."""
    import torch
    from datasets import load_from_disk
    from dvclive import Live
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, DataCollatorForSeq2Seq, Trainer, set_seed

    set_seed(params.seed)  # before get_peft_model, which draws the LoRA initialisation
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    try:
        model = get_peft_model(model, lora_config(lora))
    except ValueError as error:
        raise PaperdcatError(f"params.yaml: lora.target_modules: {str(error).splitlines()[0]}") from None
    splits = load_from_disk(str(tokenized_dir))
    train_set = splits["train"].select_columns(MODEL_COLUMNS)
    eval_set = splits["val"].select_columns(MODEL_COLUMNS) if len(splits.get("val", [])) else None
    if not len(train_set):
        raise PaperdcatError(
            f"{tokenized_dir}: the train split is empty; raise data.n_papers or data.split.train"
        )
    signature = training_signature(base_dir, tokenized_dir, lora, params)
    resume_from = checkpoint_to_resume(checkpoint_dir, signature)
    args = training_arguments(params, checkpoint_dir, eval_set is not None)
    live = Live(str(live_dir), dvcyaml=None, save_dvc_exp=False, report=None)
    callback = step_aligned_dvclive_callback(live)
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=train_set,
        eval_dataset=eval_set,
        data_collator=DataCollatorForSeq2Seq(tokenizer, label_pad_token_id=-100, padding=True),
        callbacks=[callback],
        compute_loss_func=(
            answer_start_weighted_loss(params.answer_start_weight) if params.answer_start_weight > 1 else None
        ),
    )
    start_step = 0
    if resume_from is not None:
        history = json.loads((resume_from / TRAINER_STATE).read_text())["log_history"]
        start_step = checkpoint_step(resume_from)
        print(f"resuming from {resume_from} (step {start_step})")
        callback.replay(args, history)
    result = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    with atomic_path(adapter_dir) as tmp:
        trainer.model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        save_settings(settings, tmp)
    clear_checkpoints(checkpoint_dir)
    tokens_per_example = sum(len(ids) for ids in train_set["input_ids"]) / len(train_set)
    steps_run = trainer.state.global_step - start_step
    examples_seen = steps_run * params.batch_size * params.gradient_accumulation_steps
    runtime = result.metrics["train_runtime"]
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    eval_losses = [entry["eval_loss"] for entry in trainer.state.log_history if "eval_loss" in entry]
    return {
        "steps": trainer.state.global_step,
        "resumed_from_step": start_step,
        "examples": len(train_set),
        "train_loss": round(result.training_loss, 4),
        "final_loss": round(losses[-1], 4) if losses else None,
        "eval_loss": round(eval_losses[-1], 4) if eval_losses else None,
        "runtime_s": round(runtime, 1),
        "tokens_per_s": round(tokens_per_example * examples_seen / runtime, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
    }
