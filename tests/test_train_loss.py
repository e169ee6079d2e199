"""The training loss: answer-only logits (``answer_logits_collator``) and the answer-start weight."""

import pytest
import torch


def test_answer_start_weight_adds_only_the_first_answer_tokens_again():
    import torch
    from transformers.loss.loss_utils import ForCausalLMLoss

    from paperdcat.training.train import ANSWER_START_TOKENS, answer_start_weighted_loss

    torch.manual_seed(0)
    logits = torch.randn(2, 7, 11)
    labels = torch.tensor([[-100, -100, 3, 4, 5, 6, 7], [-100, -100, -100, -100, 1, 2, -100]])
    n_items = int((labels[:, 1:] != -100).sum())
    plain = answer_start_weighted_loss(1.0)({"logits": logits}, labels, num_items_in_batch=n_items)
    reference = ForCausalLMLoss(logits, labels, vocab_size=11, num_items_in_batch=n_items)
    assert torch.isclose(plain, reference)
    per_token = torch.nn.functional.cross_entropy(
        logits[:, :-1].transpose(1, 2), labels[:, 1:], ignore_index=-100, reduction="none"
    )
    first = per_token[0, 1 : 1 + ANSWER_START_TOKENS].sum() + per_token[1, 3 : 3 + ANSWER_START_TOKENS].sum()
    weighted = answer_start_weighted_loss(5.0)({"logits": logits}, labels, num_items_in_batch=n_items)
    assert torch.isclose(weighted - plain, 4 * first / n_items)


def example(ids: range, prompt: int) -> dict[str, list[int]]:
    """A training example whose first ``prompt`` tokens carry no label."""
    return {
        "input_ids": list(ids),
        "attention_mask": [1] * len(ids),
        "labels": [-100] * prompt + list(ids)[prompt:],
    }


def test_logits_kept_from_the_first_answer_token_give_the_full_sequence_loss(tiny_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from paperdcat.training.train import answer_logits_collator, answer_start_weighted_loss

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    features = [
        {
            "input_ids": list(range(5, 17)),
            "attention_mask": [1] * 12,
            "labels": [-100] * 8 + list(range(9, 13)),
        },
        {
            "input_ids": list(range(20, 29)),
            "attention_mask": [1] * 9,
            "labels": [-100] * 4 + list(range(24, 29)),
        },
    ]
    batch = answer_logits_collator(tokenizer)(features)
    width = batch["labels"].shape[1]
    labelled = (batch["labels"] != -100).any(dim=0).nonzero().min().item()
    assert batch["logits_to_keep"] == width - labelled + 1 < width
    labels = batch.pop("labels")
    kept = model(**batch)
    batch["logits_to_keep"] = 0  # every position
    full = model(**batch)
    assert kept.logits.shape[1] == width - labelled + 1 and full.logits.shape[1] == width
    for weight in (1.0, 10.0):
        loss = answer_start_weighted_loss(weight)
        assert torch.allclose(loss(kept, labels), loss(full, labels), atol=1e-6)


def test_a_batch_without_answer_tokens_keeps_one_position_and_a_zero_loss(tiny_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from paperdcat.training.train import answer_logits_collator, answer_start_weighted_loss

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    batch = answer_logits_collator(tokenizer)(
        [{"input_ids": [5, 6, 7], "attention_mask": [1, 1, 1], "labels": [-100] * 3}]
    )
    assert batch["logits_to_keep"] == 1
    labels = batch.pop("labels")
    outputs = AutoModelForCausalLM.from_pretrained(tiny_model_dir)(**batch)
    assert answer_start_weighted_loss(1.0)(outputs, labels).item() == pytest.approx(0.0)
