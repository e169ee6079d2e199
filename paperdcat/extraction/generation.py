"""Batched greedy generation of answers from chat prompts, and loading the base model with an adapter.

One path for evaluate and extract: prompts from ``paperdcat.extraction.prompt``, left-padded batches of
similar length with the KV cache, and an early stop for rows caught in a repetition loop."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from paperdcat.extraction.prompt import SYSTEM_PROMPT, prompt_ids
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


def stop_token_ids(tokenizer) -> list[int]:
    """The ids a generated answer ends at: the tokenizer's eos and the ChatML ``<|im_end|>``."""
    ids = {tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<|im_end|>")} - {None}
    return sorted(i for i in ids if isinstance(i, int) and i >= 0)


@dataclass
class Batch:
    """One finished generation batch: the indices of its contexts, their answers and new-token counts."""

    indices: list[int]
    answers: list[str]
    new_tokens: list[int]


def generate_batches(
    model,
    tokenizer,
    contexts: Sequence[str],
    max_new_tokens: int,
    batch_size: int,
    system_prompt: str = SYSTEM_PROMPT,
) -> Iterator[Batch]:
    """Generate one answer per context, yielding batch by batch; prompts of similar length share a batch
    (longest first, left-padded, KV cache), so little compute goes into padding.

    A row that falls into a repetition loop stops early (its answer stays unparsable), so that it does
    not hold its whole batch until ``max_new_tokens``.
    """
    import torch

    prompts = [prompt_ids(tokenizer, context, system_prompt) for context in contexts]
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]), reverse=True)
    stop_ids = stop_token_ids(tokenizer)
    ends = set(stop_ids) | ({tokenizer.pad_token_id} - {None})  # a row stopped early is padded afterwards
    tokenizer.padding_side = "left"
    with torch.inference_mode():
        for offset in range(0, len(order), batch_size):
            indices = order[offset : offset + batch_size]
            inputs = tokenizer.pad({"input_ids": [prompts[i] for i in indices]}, return_tensors="pt")
            inputs = inputs.to(model.device)
            output = model.generate(
                **inputs,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                use_cache=True,
                eos_token_id=stop_ids,
                pad_token_id=tokenizer.pad_token_id,
                stopping_criteria=_loop_stop(inputs["input_ids"].shape[1]),
            )
            answers, counts = [], []
            for row in output[:, inputs["input_ids"].shape[1] :].tolist():
                length = next((n for n, token in enumerate(row) if token in ends), len(row))
                counts.append(length)
                answers.append(tokenizer.decode(row[:length], skip_special_tokens=True))
            yield Batch(indices, answers, counts)


def generate_answers(
    model,
    tokenizer,
    contexts: Sequence[str],
    max_new_tokens: int,
    batch_size: int,
    description: str,
    system_prompt: str = SYSTEM_PROMPT,
) -> tuple[list[str], dict[str, float]]:
    """All answers of ``generate_batches`` in context order, with a progress bar and speed figures."""
    answers: list[str] = [""] * len(contexts)
    generated_tokens = 0
    start = time.perf_counter()
    with progress_bar() as progress:
        task = progress.add_task(description, total=len(contexts))
        for batch in generate_batches(model, tokenizer, contexts, max_new_tokens, batch_size, system_prompt):
            for index, answer in zip(batch.indices, batch.answers, strict=True):
                answers[index] = answer
            generated_tokens += sum(batch.new_tokens)
            progress.advance(task, len(batch.indices))
    seconds = time.perf_counter() - start
    return answers, {
        "sec_per_paper": round(seconds / max(len(contexts), 1), 3),
        "tokens_per_s": round(generated_tokens / seconds, 2) if seconds else 0.0,
        "generated_tokens_mean": round(generated_tokens / max(len(contexts), 1), 1),
    }


def inference_device_and_dtype():
    """bf16 with SDPA attention on a GPU that supports it, fp32 on CPU (bf16 matmuls are slow or emulated
    on most CPUs, and fp32 keeps CPU runs comparable across machines)."""
    import torch

    if torch.cuda.is_available():
        return torch.device("cuda"), torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.device("cpu"), torch.float32


def load_model(folder: str | Path):
    """(model, tokenizer) from a local folder or hub id, in eval mode on the inference device."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device, dtype = inference_device_and_dtype()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype, attn_implementation="sdpa")
    return model.to(device).eval(), tokenizer


def with_adapter(model, adapter_dir: Path):
    """Base + LoRA adapter merged into the weights (in place), so generation costs what the base costs."""
    from peft import PeftModel

    return PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload().eval()
