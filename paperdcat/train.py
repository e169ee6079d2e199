"""LoRA fine-tuning with peft and the transformers Trainer: fp32 on CPU; bf16 (and DeepSpeed ZeRO-3 when
``train.deepspeed`` names a config) when launched on GPUs. One code path for both."""

from __future__ import annotations

import resource
from pathlib import Path
from typing import Any

from paperdcat.errors import PaperdcatError
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
        save_strategy="no",
        report_to="none",
        bf16=on_gpu and torch.cuda.is_bf16_supported(),
        deepspeed=params.deepspeed if on_gpu else None,
        use_cpu=not on_gpu,
        remove_unused_columns=False,
        dataloader_num_workers=0,
        disable_tqdm=False,
    )


def train_adapter(
    base_dir: Path,
    tokenized_dir: Path,
    adapter_dir: Path,
    live_dir: Path,
    lora: LoraParams,
    params: TrainParams,
) -> dict[str, Any]:
    """Train a LoRA adapter on the tokenized train split; write it (and the tokenizer) to ``adapter_dir``."""
    import torch
    from datasets import load_from_disk
    from dvclive import Live
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, DataCollatorForSeq2Seq, Trainer
    from transformers.integrations import DVCLiveCallback

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
    args = training_arguments(params, adapter_dir.parent / "checkpoints", eval_set is not None)
    live = Live(str(live_dir), dvcyaml=None, save_dvc_exp=False, report=None)
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=train_set,
        eval_dataset=eval_set,
        data_collator=DataCollatorForSeq2Seq(tokenizer, label_pad_token_id=-100, padding=True),
        callbacks=[DVCLiveCallback(live=live)],
    )
    result = trainer.train()
    with atomic_path(adapter_dir) as tmp:
        trainer.model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    tokens_per_example = sum(len(ids) for ids in train_set["input_ids"]) / len(train_set)
    examples_seen = trainer.state.global_step * params.batch_size * params.gradient_accumulation_steps
    runtime = result.metrics["train_runtime"]
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    eval_losses = [entry["eval_loss"] for entry in trainer.state.log_history if "eval_loss" in entry]
    return {
        "steps": trainer.state.global_step,
        "examples": len(train_set),
        "train_loss": round(result.training_loss, 4),
        "final_loss": round(losses[-1], 4) if losses else None,
        "eval_loss": round(eval_losses[-1], 4) if eval_losses else None,
        "runtime_s": round(runtime, 1),
        "tokens_per_s": round(tokens_per_example * examples_seen / runtime, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
    }
