"""Chat prompts for extraction, and tokenisation with the loss on the answer only."""

from __future__ import annotations

from typing import Any

from paperdcat.extraction.parse import format_answer

SYSTEM_PROMPT = (
    "You extract DCAT metadata of the datasets that a scientific paper uses in its own experiments. "
    "Answer with a compact JSON list, one object per dataset; [] if the paper uses none. Skip datasets "
    "only mentioned as related work. Keys (omit any the paper does not state): title, creator (list of "
    "the dataset's authors, from its reference entry), issued (year), description, language, identifier "
    "(DOI), landingPage (URL), hasVersion, format, theme (list), keyword (list), task (list)."
)
IGNORE_INDEX = -100


def prompt_messages(context: str, system_prompt: str = SYSTEM_PROMPT) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": system_prompt},
        {"role": "user", "content": f"Paper:\n{context}\n\nList the datasets this paper uses as JSON."},
    ]


def prompt_ids(tokenizer, context: str, system_prompt: str = SYSTEM_PROMPT) -> list[int]:
    """Token ids of the prompt up to and including the assistant header (what generation starts from)."""
    return list(
        tokenizer.apply_chat_template(
            prompt_messages(context, system_prompt),
            add_generation_prompt=True,
            tokenize=True,
            return_dict=True,
        )["input_ids"]
    )


def training_example(tokenizer, context: str, datasets: list[dict[str, Any]], max_length: int) -> dict:
    """input_ids, attention_mask and labels for one paper; every prompt token is masked to -100.

    The answer ends with the template's end-of-turn token, so the model learns to stop. Longer examples
    are cut at ``max_length`` and flagged as truncated.
    """
    prompt = prompt_ids(tokenizer, context)
    messages = [*prompt_messages(context), {"role": "assistant", "content": format_answer(datasets)}]
    full = list(tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True)["input_ids"])
    if full[: len(prompt)] != prompt:
        raise ValueError(
            "the chat template does not extend the prompt with the answer; cannot mask the prompt"
        )
    labels = [IGNORE_INDEX] * len(prompt) + full[len(prompt) :]
    return {
        "input_ids": full[:max_length],
        "attention_mask": [1] * min(len(full), max_length),
        "labels": labels[:max_length],
        "prompt_tokens": len(prompt),
        "answer_tokens": len(full) - len(prompt),
        "truncated": len(full) > max_length,
    }


def tokenize_records(records: list[dict], tokenizer, max_length: int):
    """A ``datasets.Dataset`` of training examples for ``records``, and its length statistics."""
    from datasets import Dataset

    examples = [training_example(tokenizer, r["context"], r["datasets"], max_length) for r in records]
    dataset = (
        Dataset.from_list(examples)
        if examples
        else Dataset.from_dict(
            {
                key: []
                for key in (
                    "input_ids",
                    "attention_mask",
                    "labels",
                    "prompt_tokens",
                    "answer_tokens",
                    "truncated",
                )
            }
        )
    )
    lengths = [len(example["input_ids"]) for example in examples]
    stats = {
        "examples": len(examples),
        "truncated": sum(example["truncated"] for example in examples),
        "tokens_mean": round(sum(lengths) / len(lengths), 1) if lengths else 0,
        "tokens_max": max(lengths, default=0),
        "answer_tokens_mean": round(sum(e["answer_tokens"] for e in examples) / len(examples), 1)
        if examples
        else 0,
        "answer_tokens_max": max((e["answer_tokens"] for e in examples), default=0),
    }
    return dataset, stats
