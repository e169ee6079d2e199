"""Generation and training speed of the project's paths beside named anchors, on the same inputs, in one run.

    python -m benchmarks.speed --run . [--models base tuned] [--max-papers N] [--max-new-tokens 320] \
        [--batch-sizes 1 4 16] [--train-steps 8] [--gguf [MODEL=]PATH ...] [--llama-cpp-converter PY] \
        [--threads N] [--out benchmarks/results/speed.json]

Run it from the project root on a finished ``dvc repro`` workspace (``--run``: data/processed/test.jsonl,
models/base, models/adapter, data/tokenized, params.yaml), on an otherwise idle machine. A shared machine
shifts every absolute figure, so each row also gives its ratio to a baseline timed in the same run; the
ratios are what to compare between runs, the absolute figures say how large the effect is.

Generation, per model (``base``; ``tuned``: base + adapter merged), greedy, the same test papers, chat
prompt and ``max_new_tokens`` (default ``evaluate.max_new_tokens``), stopping at the template's end token:

``naive pipeline``
    The baseline: transformers ``pipeline("text-generation")`` on the fp32 model, one paper at a time.
``project batch B``
    The evaluate stage's path, ``paperdcat.extraction.generation.generate_answers``, at batch size B, in
    ``evaluate.precision`` (auto: bf16 weights on a GPU, fp32 on a CPU).
``project batch B, <levers> off``
    At the largest B, the same with levers of that path turned off (``LEVERS_OFF``): the shared-prefix
    KV cache, the stop at the end of the JSON answer, and both.
``project batch B, fp32`` or ``project batch B, bf16``
    The largest B in the other precision: fp32 where ``evaluate.precision`` is bf16; bf16 where it is fp32
    on a CPU that computes bf16 natively (AVX512-BF16, AMX).
``llama.cpp``
    ``llama_cpp.Llama.create_chat_completion`` per paper, temperature 0, on the ``--gguf`` file given for
    the model (``MODEL=PATH``; a bare PATH is the base model's), or on f32 files that llama.cpp's
    ``convert_hf_to_gguf.py`` (``--llama-cpp-converter``; in llama.cpp's source tree, which it imports
    from: the ``vendor/llama.cpp`` folder of the llama-cpp-python sdist) writes from models/base and from
    the base with the adapter merged; "not available" with the reason otherwise.

Each row: s/paper, generated tokens/s, mean generated tokens, dataset F1 and creator F1 (evaluate's parser,
scorer and thresholds), ``speedup_vs_naive`` = naive s/paper / row s/paper, and ``same_answers_as_naive``,
the share of papers answered exactly as the naive row did. Every model is warmed up by one short generation
before its rows, so that no row pays the first call's one-off costs. ``--threads N`` sets torch's threads
(and llama.cpp's, which otherwise takes every CPU).

Training, LoRA (``lora`` params) on the base model, batch size 1, fp32, the first K tokenized train
sequences in order, the same seed before the LoRA initialisation of both:

``bare loop``
    The baseline: forward, the project's loss, backward, AdamW step (``train.learning_rate``), zero_grad;
    nothing else. Logits only from the first answer token on, as the project's collator asks for.
``bare loop, all logits``
    The same with logits at every position (the lever's off row: the vocabulary projection of the prompt).
``Trainer``
    transformers ``Trainer`` with the project's collator and loss, K steps, no gradient accumulation, no
    saving, evaluation or reporting. ``ratio_vs_bare`` = row tokens/s / bare loop tokens/s (target for the
    Trainer: >= 0.9).

Tokens are the attention-mask sums of the steps; the first step of each is warm-up and left out of tokens/s.
No row uses the answer-start loss weight (``train.answer_start_weight``), so the Trainer's ratio is its own
overhead. Every row shows what it ran on: ``lora_init`` (a digest of the LoRA weights before step 1),
``step_tokens`` (the tokens each step was fed) and ``first_step_loss``, which agree between them.
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from paperdcat.errors import PaperdcatError, cli_entry
from paperdcat.extraction.generation import (
    generate_answers,
    inference_device_and_dtype,
    load_model,
    stop_token_ids,
    with_adapter,
)
from paperdcat.extraction.parse import parse_answer
from paperdcat.extraction.prompt import prompt_ids, prompt_messages
from paperdcat.hardware import native_bf16_cpu
from paperdcat.io import read_jsonl, write_json
from paperdcat.params import EvaluateParams, LoraParams, load_params
from paperdcat.progress import track
from paperdcat.scoring.score import score_answers
from paperdcat.training.train import (
    MODEL_COLUMNS,
    answer_logits_collator,
    answer_start_weighted_loss,
    held_values,
    lora_config,
    lora_weights,
    weights_digest,
)

NOTE = "run on an otherwise idle machine"
NAIVE, BARE, BARE_ALL_LOGITS = "naive pipeline", "bare loop", "bare loop, all logits"
MODELS = ("base", "tuned")


def significant(value: float, digits: int = 4) -> float:
    """``value`` to ``digits`` significant digits (tiny test models give figures far below 0.001 s)."""
    return float(f"{value:.{digits}g}")


def machine_line() -> dict[str, Any]:
    import torch
    import transformers

    return {
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "avx512_bf16": native_bf16_cpu(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "note": NOTE,
    }


def generation_row(
    model_name: str,
    row: str,
    records: Sequence[dict],
    answers: Sequence[str],
    seconds: float,
    tokens: int,
    evaluate: EvaluateParams,
    **extra: Any,
) -> dict[str, Any]:
    """One timed generation row: speed figures and the scores of its answers."""
    metrics = score_answers(
        ((r["datasets"], parse_answer(a)) for r, a in zip(records, answers, strict=True)),
        title_threshold=evaluate.title_match_threshold,
        item_threshold=evaluate.item_match_threshold,
    )
    papers = max(len(records), 1)
    return {
        "section": "generation",
        "model": model_name,
        "row": row,
        "available": True,
        **extra,
        "papers": len(records),
        "seconds": significant(seconds),
        "s_per_paper": significant(seconds / papers),
        "tokens_per_s": significant(tokens / seconds) if seconds else 0.0,
        "generated_tokens_mean": round(tokens / papers, 1),
        "dataset_f1": metrics["datasets"]["f1"],
        "creator_f1": metrics["fields"]["creator"]["f1"],
        "answers": list(answers),  # compared with the naive row's, then dropped (``with_speedups``)
    }


def unavailable_row(model_name: str, row: str, reason: str) -> dict[str, Any]:
    return {"section": "generation", "model": model_name, "row": row, "available": False, "reason": reason}


def warm_up(model, tokenizer, context: str) -> None:
    """One short untimed generation: kernels, caches and allocator start warm for every row alike."""
    import torch

    ids = torch.tensor([prompt_ids(tokenizer, context)], device=model.device)
    with torch.inference_mode():
        model.generate(ids, max_new_tokens=2, do_sample=False, pad_token_id=tokenizer.pad_token_id)


def naive_row(
    model, tokenizer, records: Sequence[dict], max_new_tokens: int, evaluate: EvaluateParams, model_name: str
) -> dict[str, Any]:
    """Row (a): a text-generation pipeline, one paper at a time, counting tokens as the project does."""
    from transformers import pipeline

    generator = pipeline("text-generation", model=model, tokenizer=tokenizer)
    stops = stop_token_ids(tokenizer)
    ends = set(stops) | ({tokenizer.pad_token_id} - {None})
    answers, tokens = [], 0
    start = time.perf_counter()
    for record in track(records, f"{NAIVE} ({model_name})"):
        messages = prompt_messages(record["context"])
        (output,) = generator(
            messages,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            eos_token_id=stops,
            pad_token_id=tokenizer.pad_token_id,
            return_tensors=True,
        )
        new = output["generated_token_ids"][len(prompt_ids(tokenizer, record["context"])) :]
        length = next((n for n, token in enumerate(new) if token in ends), len(new))
        tokens += length
        answers.append(tokenizer.decode(new[:length], skip_special_tokens=True))
    seconds = time.perf_counter() - start
    return generation_row(model_name, NAIVE, records, answers, seconds, tokens, evaluate, batch_size=1)


# Rows that turn the evaluate path's levers off, one at a time and together (``generate_batches``).
LEVERS_OFF = {
    "no shared prefix": {"share_prefix": False},
    "no answer-end stop": {"stop_at_answer_end": False},
    "levers off": {"share_prefix": False, "stop_at_answer_end": False},
}


def other_precision(fp32_model, project_model) -> dict[str, Any]:
    """The precision row's model by its label: fp32 where the project generates in bf16, bf16 where it
    generates in fp32 on a CPU that computes bf16 natively (where bf16 is emulated, it is 5x slower)."""
    import torch

    if project_model is not fp32_model:
        return {"fp32": fp32_model}
    if fp32_model.device.type == "cpu" and native_bf16_cpu():
        return {"bf16": copy.deepcopy(fp32_model).to(torch.bfloat16)}
    return {}


def project_row(
    model,
    tokenizer,
    records: Sequence[dict],
    max_new_tokens: int,
    batch_size: int,
    evaluate: EvaluateParams,
    model_name: str,
    levers_off: str | None = None,
) -> dict[str, Any]:
    """Row (b): the evaluate stage's ``generate_answers`` at ``batch_size``; with ``levers_off`` (a key
    of ``LEVERS_OFF``), the same with those levers turned off."""
    contexts = [r["context"] for r in records]
    name = f"project batch {batch_size}" + (f", {levers_off}" if levers_off else "")
    start = time.perf_counter()
    answers, speed = generate_answers(
        model,
        tokenizer,
        contexts,
        max_new_tokens,
        batch_size,
        f"{name} ({model_name})",
        **LEVERS_OFF.get(levers_off, {}),
    )
    seconds = time.perf_counter() - start
    tokens = round(speed["generated_tokens_mean"] * len(contexts))
    return generation_row(
        model_name, name, records, answers, seconds, tokens, evaluate, batch_size=batch_size
    )


def llama_cpp_row(
    gguf: Path | None,
    records: Sequence[dict],
    max_new_tokens: int,
    n_ctx: int,
    evaluate: EvaluateParams,
    model_name: str,
    n_threads: int | None = None,
) -> dict[str, Any]:
    """Row (c): llama.cpp chat completion per paper, greedy, on ``n_threads`` (default: every CPU);
    unavailable without the module or a file."""
    try:
        import llama_cpp
    except ImportError as error:
        return unavailable_row(model_name, "llama.cpp", f"llama_cpp is not installed ({error})")
    if gguf is None:
        return unavailable_row(model_name, "llama.cpp", f"no --gguf file given for {model_name}")
    if not gguf.is_file():
        return unavailable_row(model_name, "llama.cpp", f"{gguf}: file not found")
    n_threads = n_threads or os.cpu_count()
    llm = llama_cpp.Llama(model_path=str(gguf), n_ctx=n_ctx, n_threads=n_threads, verbose=False)
    llm.create_chat_completion(messages=prompt_messages(records[0]["context"]), temperature=0, max_tokens=2)
    answers, tokens = [], 0
    start = time.perf_counter()
    for record in track(records, f"llama.cpp ({model_name})"):
        response = llm.create_chat_completion(
            messages=prompt_messages(record["context"]), temperature=0, max_tokens=max_new_tokens
        )
        answers.append(response["choices"][0]["message"]["content"] or "")
        tokens += response["usage"]["completion_tokens"]
    seconds = time.perf_counter() - start
    return generation_row(
        model_name,
        "llama.cpp",
        records,
        answers,
        seconds,
        tokens,
        evaluate,
        gguf=str(gguf),
        n_ctx=n_ctx,
        n_threads=n_threads,
    )


def with_speedups(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """On each available row, ``speedup_vs_naive`` (its model's naive s/paper over its own) and
    ``same_answers_as_naive`` (the share of papers answered word for word as the naive row did: greedy
    decoding of the same prompt, so below 1 only where padding or another runtime changed the numerics, or
    where the row stopped at the end of its answer and the naive one wrote on), and ``same_parse_as_naive``
    (the share whose parsed datasets are the same)."""
    naive = {row["model"]: row for row in rows if row["row"] == NAIVE}
    for row in rows:
        if row["available"]:
            baseline = naive[row["model"]]
            row["speedup_vs_naive"] = significant(baseline["s_per_paper"] / row["s_per_paper"])
            pairs = list(zip(row["answers"], baseline["answers"], strict=True))
            row["same_answers_as_naive"] = round(sum(a == b for a, b in pairs) / len(pairs), 4)
            same = [parse_answer(a).datasets == parse_answer(b).datasets for a, b in pairs]
            row["same_parse_as_naive"] = round(sum(same) / len(same), 4)
    for row in rows:
        row.pop("answers", None)
    return rows


def generation_rows(
    run: Path,
    models: Sequence[str],
    records: Sequence[dict],
    max_new_tokens: int,
    batch_sizes: Sequence[int],
    evaluate: EvaluateParams,
    gguf: dict[str, Path],
    threads: int | None = None,
) -> list[dict[str, Any]]:
    """Rows (a), (b) at each batch size and at the largest with each ``LEVERS_OFF`` entry and in the other
    precision (``other_precision``), and (c), for each model in ``models`` (tuned merges the adapter into
    the base in place, so the base goes first)."""
    adapter = run / "models/adapter"
    if "tuned" in models and not (adapter / "adapter_config.json").is_file():
        raise PaperdcatError(f"{adapter}: no adapter_config.json; run train, or pass --models base")
    model, tokenizer = load_model(run / "models/base", "fp32")  # the naive baseline's
    fast = model  # the evaluate path's: evaluate.precision
    if inference_device_and_dtype(evaluate.precision)[1] != model.dtype:
        fast = load_model(run / "models/base", evaluate.precision)[0]
    other = other_precision(model, fast)
    shortest = min((r["context"] for r in records), key=len)
    n_ctx = max(len(prompt_ids(tokenizer, r["context"])) for r in records) + max_new_tokens + 64
    largest = max(batch_sizes)
    # fast is model where both are fp32: merging the adapter into it twice would add its weights twice
    distinct = list({id(each): each for each in (model, fast, *other.values())}.values())
    rows: list[dict[str, Any]] = []
    for name in [m for m in MODELS if m in models]:
        if name == "tuned":  # in place: each model object keeps its identity
            merged = {id(each): with_adapter(each, adapter) for each in distinct}
            model, fast = merged[id(model)], merged[id(fast)]
            other = {label: merged[id(each)] for label, each in other.items()}
            distinct = list(merged.values())
        for each in distinct:
            warm_up(each, tokenizer, shortest)
        rows.append(naive_row(model, tokenizer, records, max_new_tokens, evaluate, name))
        for batch_size in batch_sizes:
            rows.append(project_row(fast, tokenizer, records, max_new_tokens, batch_size, evaluate, name))
        for levers_off in LEVERS_OFF:
            rows.append(
                project_row(fast, tokenizer, records, max_new_tokens, largest, evaluate, name, levers_off)
            )
        for label, each in other.items():
            rows.append(project_row(each, tokenizer, records, max_new_tokens, largest, evaluate, name, label))
        rows.append(llama_cpp_row(gguf.get(name), records, max_new_tokens, n_ctx, evaluate, name, threads))
    return with_speedups(rows)


# ------------------------------------------------------------------------------------------------ training


def train_examples(tokenized: Path, steps: int) -> list[dict[str, list[int]]]:
    """The first ``steps`` train sequences (input_ids, attention_mask, labels), in order."""
    from datasets import load_from_disk

    train = load_from_disk(str(tokenized))["train"].select_columns(MODEL_COLUMNS)
    if len(train) < steps:
        raise PaperdcatError(
            f"{tokenized}: the train split has {len(train)} sequences, --train-steps {steps}"
        )
    return [train[i] for i in range(steps)]


def lora_model(base: Path, lora: LoraParams, seed: int):
    """A fresh fp32 LoRA model of ``base``: the seed is set just before peft draws the initialisation."""
    import torch
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM, set_seed

    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    set_seed(seed)
    model = get_peft_model(model, lora_config(lora))
    set_seed(seed)  # dropout draws from here on, as after the Trainer's own set_seed
    return model


def training_row(
    row: str, model, step_tokens: Sequence, step_ends: Sequence[float], losses: Sequence, init: str
) -> dict[str, Any]:
    """tokens/s over steps 2..K: their tokens over the time from the end of step 1 to the end of step K.

    ``step_tokens`` and ``losses`` are what each step was fed and computed (tensors, read after the loop
    so that no step waits on them); ``lora_init`` is the digest of the LoRA weights before step 1."""
    tokens = [int(count) for count in step_tokens]
    seconds = step_ends[-1] - step_ends[0]
    return {
        "section": "training",
        "row": row,
        "steps": len(tokens),
        "timed_steps": len(tokens) - 1,
        "timed_tokens": sum(tokens[1:]),
        "seconds": significant(seconds),
        "tokens_per_s": significant(sum(tokens[1:]) / seconds),
        "step_tokens": tokens,
        "first_step_loss": round(float(losses[0]), 4),
        "lora_init": init,
        "trainable_params": held_values(model)[1],
    }


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _device():
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def bare_loop_row(
    base: Path, examples: Sequence[dict], lora: LoraParams, lr: float, seed: int, answer_logits: bool = True
) -> dict:
    """The baseline training loop: forward, the project's loss, backward, AdamW step, zero_grad; nothing
    else. ``answer_logits``: the project's collator, vocabulary logits only from the first answer token;
    off, logits at every position (the lever's off row)."""
    import torch
    from transformers import AutoTokenizer

    device = _device()
    model = lora_model(base, lora, seed)
    init = weights_digest(lora_weights(model))
    model.to(device).train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.0)
    collate, loss_of = (
        answer_logits_collator(AutoTokenizer.from_pretrained(base)),
        answer_start_weighted_loss(1.0),
    )
    batches = [collate([example]) for example in examples]
    if not answer_logits:
        for batch in batches:
            batch["logits_to_keep"] = 0
    step_ends, step_tokens, losses = [], [], []
    for batch in track(batches, BARE if answer_logits else BARE_ALL_LOGITS):
        inputs = {key: value.to(device) if hasattr(value, "to") else value for key, value in batch.items()}
        labels = inputs.pop("labels")
        loss = loss_of(model(**inputs), labels)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        _sync(device)
        step_ends.append(time.perf_counter())
        step_tokens.append(batch["attention_mask"].sum())
        losses.append(loss.detach())
    row = BARE if answer_logits else BARE_ALL_LOGITS
    return training_row(row, model, step_tokens, step_ends, losses, init)


def trainer_row(base: Path, examples: Sequence[dict], lora: LoraParams, lr: float, seed: int) -> dict:
    """The Trainer on the same model setup and sequences: batch 1, no accumulation, K steps, in order;
    its other settings are the Trainer's defaults, as the project's train stage leaves them."""
    from datasets import Dataset
    from transformers import AutoTokenizer, Trainer, TrainerCallback, TrainingArguments

    device = _device()
    step_ends, step_tokens, losses = [], [], []

    class StepClock(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            _sync(device)
            step_ends.append(time.perf_counter())

    model = lora_model(base, lora, seed)
    init = weights_digest(lora_weights(model))
    with tempfile.TemporaryDirectory() as output_dir:
        args = TrainingArguments(
            output_dir=output_dir,
            max_steps=len(examples),
            per_device_train_batch_size=1,
            gradient_accumulation_steps=1,
            learning_rate=lr,
            seed=seed,
            train_sampling_strategy="sequential",
            save_strategy="no",
            eval_strategy="no",
            report_to="none",
            use_cpu=device.type == "cpu",
            remove_unused_columns=False,
            dataloader_num_workers=0,
        )
        trainer = Trainer(
            model=model,
            args=args,
            train_dataset=Dataset.from_list(list(examples)),
            data_collator=answer_logits_collator(AutoTokenizer.from_pretrained(base)),
            callbacks=[StepClock()],
            compute_loss_func=answer_start_weighted_loss(1.0),
        )
        compute_loss = trainer.compute_loss

        def recorded_loss(model, inputs, *args, **kwargs):
            """The Trainer's own loss; what it was fed and computed kept as tensors (no sync)."""
            result = compute_loss(model, inputs, *args, **kwargs)
            step_tokens.append(inputs["attention_mask"].sum().detach())
            losses.append((result[0] if isinstance(result, tuple) else result).detach())
            return result

        trainer.compute_loss = recorded_loss
        trainer.train()
    if len(step_ends) != len(examples):
        raise PaperdcatError(f"the Trainer ran {len(step_ends)} steps, expected {len(examples)}")
    return training_row("Trainer", model, step_tokens, step_ends, losses, init)


def training_rows(run: Path, steps: int, lora: LoraParams, lr: float, seed: int) -> list[dict[str, Any]]:
    """The bare loop (the baseline), the bare loop with logits at every position, and the Trainer."""
    examples = train_examples(run / "data/tokenized", steps)
    base = run / "models/base"
    rows = [
        bare_loop_row(base, examples, lora, lr, seed),
        bare_loop_row(base, examples, lora, lr, seed, answer_logits=False),
        trainer_row(base, examples, lora, lr, seed),
    ]
    for row in rows:
        row["ratio_vs_bare"] = significant(row["tokens_per_s"] / rows[0]["tokens_per_s"])
    return rows


# ------------------------------------------------------------------------------------------------- output


def _figure(value: Any, form: str = "{:.4g}") -> str:
    return "" if value is None else form.format(value)


def results_table(result: dict[str, Any]) -> Table:
    """Generation rows, then training rows; a row that did not run says why under the table."""
    settings, machine = result["settings"], result["machine"]
    missing = [
        f"{row['row']} ({row['model']}): {row['reason']}"
        for row in result["generation"]
        if not row["available"]
    ]
    table = Table(
        title=f"Speed: {settings['papers']} papers, at most {settings['max_new_tokens']} new tokens; "
        f"{settings['train_steps']} training steps",
        caption="\n".join(
            [
                *(f"not available: {line}" for line in missing),
                f"{machine['cpu_count']} CPUs, {machine['torch_threads']} torch threads, avx512_bf16 "
                f"{machine['avx512_bf16']}, torch {machine['torch']}, {machine['timestamp']}; "
                f"{machine['note']}",
            ]
        ),
    )
    labels = ["model", "row"]
    figures = ["s/paper", "tokens/s", "gen tokens", "dataset F1", "creator F1", "same parse", "x baseline"]
    for column in labels:
        table.add_column(column, no_wrap=True)
    for column in figures:
        table.add_column(column, justify="right")
    for row in result["generation"]:
        if not row["available"]:
            table.add_row(row["model"], row["row"], *["n/a"] * (len(figures) - 1), "")
            continue
        table.add_row(
            row["model"],
            row["row"],
            _figure(row["s_per_paper"]),
            _figure(row["tokens_per_s"]),
            _figure(row["generated_tokens_mean"], "{:.1f}"),
            _figure(row["dataset_f1"], "{:.4f}"),
            _figure(row["creator_f1"], "{:.4f}"),
            _figure(row["same_parse_as_naive"], "{:.2f}"),
            _figure(row["speedup_vs_naive"], "{:.3g}x"),
        )
    table.rows[-1].end_section = True
    for row in result["training"]:
        ratio = _figure(row["ratio_vs_bare"], "{:.3g}x")
        table.add_row("train LoRA", row["row"], "", _figure(row["tokens_per_s"]), "", "", "", "", ratio)
    return table


def converted_ggufs(run: Path, models: Sequence[str], converter: Path, folder: Path) -> dict[str, Path]:
    """llama.cpp files of ``models`` at full precision (f32, as the project generates on CPU), written by
    llama.cpp's own ``convert_hf_to_gguf.py``: the base from models/base, tuned from the base with the
    adapter merged into its weights."""
    import subprocess

    if not converter.is_file():
        raise PaperdcatError(f"--llama-cpp-converter {converter}: file not found")
    files = {}
    for name in models:
        source = run / "models/base"
        if name == "tuned":
            model, tokenizer = load_model(source)
            source = folder / "tuned-merged"
            with_adapter(model, run / "models/adapter").save_pretrained(source)
            tokenizer.save_pretrained(source)
        files[name] = folder / f"{name}.f32.gguf"
        command = [
            sys.executable,
            str(converter),
            str(source),
            "--outtype",
            "f32",
            "--outfile",
            str(files[name]),
        ]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise PaperdcatError(f"{converter}: converting {source} failed: {last}")
    return files


def parse_gguf(entries: Sequence[str]) -> dict[str, Path]:
    """``MODEL=PATH`` entries (a bare PATH is the base model's) by model name."""
    files = {}
    for entry in entries:
        name, _, path = entry.partition("=") if "=" in entry else ("base", "", entry)
        if name not in MODELS:
            raise PaperdcatError(f"--gguf {entry}: the model is one of {', '.join(MODELS)}")
        files[name] = Path(path)
    return files


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=Path("."), help="a finished dvc repro workspace")
    parser.add_argument("--params", type=Path, help="params file (default: RUN/params.yaml)")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--max-papers", type=int, help="the first N test papers (default: all)")
    parser.add_argument("--max-new-tokens", type=int, help="default: evaluate.max_new_tokens")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--train-steps", type=int, default=8, help="K training steps (>= 2; 0: no training)")
    parser.add_argument("--gguf", nargs="+", default=[], metavar="[MODEL=]PATH", help="llama.cpp model files")
    parser.add_argument(
        "--llama-cpp-converter",
        type=Path,
        help="llama.cpp's convert_hf_to_gguf.py: base and tuned to f32 GGUF files for the llama.cpp rows",
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/speed.json"))
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's own choice)")
    args = parser.parse_args(argv)
    if args.train_steps == 1 or args.train_steps < 0:
        parser.error("--train-steps: 0, or at least 2 (the first step is warm-up)")
    counts = (args.max_papers, args.max_new_tokens, args.threads)
    if min(args.batch_sizes) < 1 or any(n is not None and n < 1 for n in counts):
        parser.error("--batch-sizes, --max-papers, --max-new-tokens and --threads: at least 1")
    return args


@cli_entry
def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = arguments(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    params = load_params(args.params or args.run / "params.yaml")
    records = read_jsonl(args.run / "data/processed/test.jsonl")[: args.max_papers]
    if not records:
        raise PaperdcatError(f"{args.run / 'data/processed/test.jsonl'}: no test papers")
    max_new_tokens = args.max_new_tokens or params.evaluate.max_new_tokens
    result: dict[str, Any] = {
        "command": " ".join(["python -m benchmarks.speed", *(argv if argv is not None else sys.argv[1:])]),
        "machine": machine_line(),
        "settings": {
            "run": str(args.run.resolve()),
            "models": args.models,
            "papers": len(records),
            "max_new_tokens": max_new_tokens,
            "batch_sizes": args.batch_sizes,
            "train_steps": args.train_steps,
        },
    }
    with tempfile.TemporaryDirectory() as folder:
        ggufs = parse_gguf(args.gguf)
        if args.llama_cpp_converter:
            missing = [name for name in args.models if name not in ggufs]
            ggufs |= converted_ggufs(args.run, missing, args.llama_cpp_converter, Path(folder))
            result["settings"]["gguf"] = "f32, converted by " + str(args.llama_cpp_converter)
        result["generation"] = generation_rows(
            args.run,
            args.models,
            records,
            max_new_tokens,
            args.batch_sizes,
            params.evaluate,
            ggufs,
            args.threads,
        )
    result["training"] = (
        training_rows(args.run, args.train_steps, params.lora, params.train.learning_rate, params.train.seed)
        if args.train_steps
        else []
    )
    Console().print(results_table(result))
    write_json(args.out, result)
    return result


if __name__ == "__main__":
    main()
