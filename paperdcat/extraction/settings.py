"""What an adapter was trained with, saved beside it (``paperdcat.json``) so that extraction on a pulled
adapter builds the same contexts and prompts without the repo's params.yaml, and refuses another base model.

Written by train; read by extract (and by anyone loading ``models/adapter`` on its own)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from paperdcat.errors import PaperdcatError
from paperdcat.extraction.prompt import SYSTEM_PROMPT
from paperdcat.params import PreprocessParams

SETTINGS_FILE = "paperdcat.json"
# The config keys that make two checkpoints interchangeable for a LoRA adapter: the same architecture and
# shapes. A name or a path says nothing (models/base is the same path for every base).
ARCHITECTURE_KEYS = (
    "model_type",
    "vocab_size",
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
)


class ExtractionSettings(BaseModel):
    """Context builder, prompt and base-model fingerprint of one trained adapter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    context: PreprocessParams = PreprocessParams()
    system_prompt: str = SYSTEM_PROMPT
    max_seq_length: int | None = None
    base_model: str | None = None  # model.base as given at training time, for people to read
    architecture: dict[str, Any] | None = None


def architecture_of(config: Any) -> dict[str, Any]:
    """The ARCHITECTURE_KEYS of a transformers config (object or dict); absent keys are left out."""
    values = config if isinstance(config, dict) else config.to_dict()
    return {key: values[key] for key in ARCHITECTURE_KEYS if values.get(key) is not None}


def base_architecture(base_dir: Path) -> dict[str, Any]:
    config = base_dir / "config.json"
    try:
        return architecture_of(json.loads(config.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError) as error:
        raise PaperdcatError(f"{config}: cannot read the base model's config ({error})") from None


def save_settings(settings: ExtractionSettings, folder: Path) -> None:
    (folder / SETTINGS_FILE).write_text(settings.model_dump_json(indent=2) + "\n", encoding="utf-8")


def load_settings(folder: Path) -> ExtractionSettings | None:
    """The settings saved beside an adapter or merged model; None when the folder has none."""
    path = folder / SETTINGS_FILE
    if not path.is_file():
        return None
    try:
        return ExtractionSettings.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise PaperdcatError(f"{path}: {key}: {first['msg']}") from None


def check_base(settings: ExtractionSettings, architecture: dict[str, Any], adapter: Path, base: str) -> None:
    """Raise one line when the adapter was trained on a base with another architecture than ``base``."""
    if settings.architecture is None:
        return
    differing = [
        f"{key} {settings.architecture[key]} vs {architecture.get(key)}"
        for key in settings.architecture
        if architecture.get(key) != settings.architecture[key]
    ]
    if differing:
        raise PaperdcatError(
            f"{adapter}: trained on base {settings.base_model!r}, which differs from {base} "
            f"({', '.join(differing)}); pass the matching --base"
        )
