"""Batched greedy generation of answers from chat prompts, and loading the base model with an adapter.

One path for evaluate and extract: prompts from ``paperdcat.extraction.prompt``, batches of similar length
with the KV cache, the prompts' shared beginning (system prompt and chat header) computed once, and early
stops for a row whose answer is complete or caught in a repetition loop."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from paperdcat.extraction.parse import parse_answer
from paperdcat.extraction.prompt import SYSTEM_PROMPT, prompt_ids
from paperdcat.params import Precision
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


class AnswerEnd:
    """Per row, whether the answer is complete: its first JSON list or object has closed and reads as an
    answer (``parse_answer``'s strict parse). Generating on would only add prose that the parser skips.

    Tracks bracket depth outside JSON strings over the newly generated tokens, one column per call."""

    def __init__(self, tokenizer, rows: int, start: int):
        self.tokenizer, self.start = tokenizer, start
        self.pieces: dict[int, str] = {}
        self.depth, self.in_string, self.escaped = [0] * rows, [False] * rows, [False] * rows
        self.seen = start

    def piece(self, token: int) -> str:
        if token not in self.pieces:
            self.pieces[token] = self.tokenizer.decode([token])
        return self.pieces[token]

    def closes(self, row: int, text: str) -> bool:
        """Feed one token's text to ``row``'s tracker; whether a top-level value closed in it."""
        closed = False
        for char in text:
            if self.in_string[row]:
                if self.escaped[row]:
                    self.escaped[row] = False
                elif char == "\\":
                    self.escaped[row] = True
                elif char == '"':
                    self.in_string[row] = False
            elif char == '"' and self.depth[row]:
                self.in_string[row] = True
            elif char in "[{":
                self.depth[row] += 1
            elif char in "]}" and self.depth[row]:
                self.depth[row] -= 1
                closed |= self.depth[row] == 0
        return closed

    def __call__(self, input_ids, done):
        for column in range(self.seen, input_ids.shape[1]):
            for row, token in enumerate(input_ids[:, column].tolist()):
                if not done[row] and self.closes(row, self.piece(token)):
                    answer = self.tokenizer.decode(input_ids[row, self.start : column + 1].tolist())
                    done[row] = parse_answer(answer).valid
        self.seen = input_ids.shape[1]
        return done


def _stops(tokenizer, rows: int, start: int, stop_at_answer_end: bool):
    """Stopping criteria for a batch whose prompts end at column ``start``."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    answer_end = AnswerEnd(tokenizer, rows, start) if stop_at_answer_end else None

    class EarlyStops(StoppingCriteria):
        def __init__(self):
            self.done = torch.zeros(rows, dtype=torch.bool)

        def __call__(self, input_ids, scores, **kwargs):
            self.done |= repeating_rows(input_ids, start).cpu()
            if answer_end is not None:
                self.done = answer_end(input_ids, self.done)
            return self.done.to(input_ids.device)

    return StoppingCriteriaList([EarlyStops()])


def shared_prefix_length(prompts: Sequence[Sequence[int]]) -> int:
    """How many leading tokens all ``prompts`` share (the system prompt and the chat header), keeping at
    least one token of each prompt to generate from; 0 for a single prompt (nothing to share)."""
    if len(prompts) < 2:
        return 0
    first, shortest = prompts[0], min(len(p) for p in prompts) - 1
    return next(
        (n for n in range(shortest) if any(p[n] != first[n] for p in prompts)),
        shortest,
    )


def prefix_cache(model, prefix: Sequence[int]):
    """The KV cache of ``prefix`` at batch size 1 (computed once, copied for every batch)."""
    import torch

    ids = torch.tensor([list(prefix)], device=model.device)
    return model(input_ids=ids, use_cache=True).past_key_values


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
    *,
    share_prefix: bool = True,
    stop_at_answer_end: bool = True,
) -> Iterator[Batch]:
    """Generate one answer per context, yielding batch by batch; prompts of similar length share a batch
    (longest first, KV cache), so little compute goes into padding.

    ``share_prefix``: the tokens every prompt begins with are run once and their KV cache is copied into
    each batch; each row is then [shared prefix, padding, rest of its prompt], the padding masked and the
    positions counted from the attention mask, so every row sees what it would see alone.
    ``stop_at_answer_end``: a row stops once its JSON answer is complete (``AnswerEnd``). A row caught in
    a repetition loop always stops early (its answer stays unparsable), so that it does not hold its whole
    batch until ``max_new_tokens``.
    """
    import torch

    prompts = [prompt_ids(tokenizer, context, system_prompt) for context in contexts]
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]), reverse=True)
    stop_ids = stop_token_ids(tokenizer)
    ends = set(stop_ids) | ({tokenizer.pad_token_id} - {None})  # a row stopped early is padded afterwards
    tokenizer.padding_side = "left"
    with torch.inference_mode():
        shared = shared_prefix_length(prompts) if share_prefix else 0
        cache = prefix_cache(model, prompts[0][:shared]) if shared else None
        for offset in range(0, len(order), batch_size):
            indices = order[offset : offset + batch_size]
            inputs = tokenizer.pad({"input_ids": [prompts[i][shared:] for i in indices]}, return_tensors="pt")
            inputs = inputs.to(model.device)
            options = {}
            if cache is not None:
                prefix = torch.tensor([prompts[0][:shared]], device=model.device).expand(len(indices), -1)
                inputs = {
                    "input_ids": torch.cat([prefix, inputs["input_ids"]], dim=1),
                    "attention_mask": torch.cat([torch.ones_like(prefix), inputs["attention_mask"]], dim=1),
                }
                options["past_key_values"] = copy.deepcopy(cache)
                options["past_key_values"].batch_repeat_interleave(len(indices))
            start = inputs["input_ids"].shape[1]
            output = model.generate(
                **inputs,
                **options,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                use_cache=True,
                eos_token_id=stop_ids,
                pad_token_id=tokenizer.pad_token_id,
                stopping_criteria=_stops(tokenizer, len(indices), start, stop_at_answer_end),
            )
            answers, counts = [], []
            for row in output[:, start:].tolist():
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
    **options: bool,
) -> tuple[list[str], dict[str, float]]:
    """All answers of ``generate_batches`` in context order, with a progress bar and speed figures;
    ``options``: ``generate_batches``' levers (``share_prefix``, ``stop_at_answer_end``)."""
    answers: list[str] = [""] * len(contexts)
    generated_tokens = 0
    start = time.perf_counter()
    with progress_bar() as progress:
        task = progress.add_task(description, total=len(contexts))
        for batch in generate_batches(
            model, tokenizer, contexts, max_new_tokens, batch_size, system_prompt, **options
        ):
            for index, answer in zip(batch.indices, batch.answers, strict=True):
                answers[index] = answer
            generated_tokens += sum(batch.new_tokens)
            progress.advance(task, len(batch.indices))
    seconds = time.perf_counter() - start
    return answers, {
        "sec_per_paper": round(seconds / max(len(contexts), 1), 3),
        "tokens_per_s": round(generated_tokens / seconds, 2) if seconds else 0.0,
        "generated_tokens_mean": round(generated_tokens / max(len(contexts), 1), 1),
        "precision": precision_name(model),
    }


def inference_device_and_dtype(precision: Precision = "auto"):
    """(device, dtype) for generation. ``auto``: bf16 (fp16 where bf16 is missing) with SDPA attention on a
    GPU, fp32 on a CPU; ``fp32`` and ``bf16`` force the dtype. bf16 weights on a CPU that computes bf16
    natively (AVX512-BF16, AMX) generated 1.6x faster but lost 0.05 creator F1 on the default run
    (docs/results.md), and elsewhere torch emulates bf16 matmuls, 5x slower than fp32; so ``auto`` keeps
    CPUs in fp32."""
    import torch

    if torch.cuda.is_available():
        if precision == "fp32":
            return torch.device("cuda"), torch.float32
        return torch.device("cuda"), torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.device("cpu"), torch.bfloat16 if precision == "bf16" else torch.float32


def load_model(folder: str | Path, precision: Precision = "auto"):
    """(model, tokenizer) from a local folder or hub id, in eval mode on the inference device, in the
    dtype of ``precision`` (``inference_device_and_dtype``)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device, dtype = inference_device_and_dtype(precision)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype, attn_implementation="sdpa")
    return model.to(device).eval(), tokenizer


def precision_name(model) -> str:
    """The dtype a model generates in, as metrics record it (``bf16``, ``fp16``, ``fp32``)."""
    return {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}.get(
        str(model.dtype).split(".")[-1], str(model.dtype)
    )


def with_adapter(model, adapter_dir: Path):
    """Base + LoRA adapter merged into the weights (in place), so generation costs what the base costs."""
    from peft import PeftModel

    return PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload().eval()
