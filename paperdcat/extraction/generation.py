"""Batched greedy generation of answers from chat prompts, and loading the base model with an adapter.

One path for evaluate and extract: prompts from ``paperdcat.extraction.prompt``, left-padded batches of
similar length with the KV cache, and an early stop for rows caught in a repetition loop."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from paperdcat.extraction.prompt import prompt_ids
from paperdcat.progress import progress_bar

LOOP_WINDOW = 48
LOOP_MAX_PERIOD = 16


def repeating_rows(input_ids, start: int, window: int = LOOP_WINDOW, max_period: int = LOOP_MAX_PERIOD):
    """Rows whose last ``window`` generated tokens (those after position ``start``) repeat with a period of
    at most ``max_period`` tokens: a degenerate loop (``"A. B", "A. B", ...``) that would only run on to
    ``max_new_tokens``. A valid answer has no 48-token stretch with such a short period."""
    import torch

    done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
    if input_ids.shape[1] - start < window + max_period:
        return done
    tail = input_ids[:, -window:]
    for period in range(1, max_period + 1):
        done |= (tail == input_ids[:, -window - period : -period]).all(dim=1)
    return done


def _loop_stop(start: int):
    from transformers import StoppingCriteria, StoppingCriteriaList

    class StopLoops(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            return repeating_rows(input_ids, start)

    return StoppingCriteriaList([StopLoops()])


def generate_answers(
    model, tokenizer, contexts: Sequence[str], max_new_tokens: int, batch_size: int, description: str
) -> tuple[list[str], dict[str, float]]:
    """Generate one answer per context, batching prompts of similar length (left-padded, KV cache).

    A row that falls into a repetition loop stops early (its answer stays unparsable), so that it does
    not hold its whole batch until ``max_new_tokens``.
    """
    import torch

    prompts = [prompt_ids(tokenizer, context) for context in contexts]
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]), reverse=True)
    stop_ids = {tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<|im_end|>")} - {None}
    stop_ids = {i for i in stop_ids if isinstance(i, int) and i >= 0}
    ends = stop_ids | ({tokenizer.pad_token_id} - {None})  # a row stopped early is padded afterwards
    answers: list[str] = [""] * len(prompts)
    generated_tokens = 0
    tokenizer.padding_side = "left"
    start = time.perf_counter()
    with progress_bar() as progress, torch.inference_mode():
        task = progress.add_task(description, total=len(prompts))
        for offset in range(0, len(order), batch_size):
            batch = order[offset : offset + batch_size]
            inputs = tokenizer.pad({"input_ids": [prompts[i] for i in batch]}, return_tensors="pt")
            output = model.generate(
                **inputs,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                use_cache=True,
                eos_token_id=sorted(stop_ids),
                pad_token_id=tokenizer.pad_token_id,
                stopping_criteria=_loop_stop(inputs["input_ids"].shape[1]),
            )
            new_tokens = output[:, inputs["input_ids"].shape[1] :]
            for row, index in zip(new_tokens.tolist(), batch, strict=True):
                length = next((n for n, token in enumerate(row) if token in ends), len(row))
                generated_tokens += length
                answers[index] = tokenizer.decode(row[:length], skip_special_tokens=True)
            progress.advance(task, len(batch))
    seconds = time.perf_counter() - start
    return answers, {
        "sec_per_paper": round(seconds / max(len(prompts), 1), 3),
        "tokens_per_s": round(generated_tokens / seconds, 2) if seconds else 0.0,
        "generated_tokens_mean": round(generated_tokens / max(len(prompts), 1), 1),
    }


def load_base(base_dir: Path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32).eval()
    return model, tokenizer


def with_adapter(model, adapter_dir: Path):
    """Base + LoRA adapter merged into the weights (in place), so generation costs what the base costs."""
    from peft import PeftModel

    return PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload().eval()
