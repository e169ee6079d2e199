"""The one typed loader for params.yaml: unknown keys, wrong types and out-of-range values stop a stage
before any work, with one line that names the file and the key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from paperdcat.errors import PaperdcatError

PARAMS_FILE = Path("params.yaml")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SplitParams(Section):
    train: float = Field(0.8, ge=0, le=1)
    val: float = Field(0.05, ge=0, le=1)
    test: float = Field(0.15, gt=0, le=1)

    @model_validator(mode="after")
    def _sums_to_one(self) -> SplitParams:
        if abs(self.train + self.val + self.test - 1.0) > 1e-6:
            raise ValueError("train + val + test must sum to 1")
        return self


SourceName = Literal["generated", "jsonl", "scirex", "metamine"]
Precision = Literal["auto", "fp32", "bf16"]


def local_path(path: str | None) -> Path | None:
    """A corpus path from params.yaml, relative paths read from the project root.

    ``dvc exp run --temp`` and queued experiments run in a copy under ``<project>/.dvc/tmp/exps/``,
    where a path such as ``../shared/data/...`` would miss; there it is tried against the project too.
    """
    if path is None:
        return None
    found = Path(path).expanduser()
    if found.is_absolute() or found.exists():
        return found
    for folder in Path.cwd().resolve().parents:
        if folder.parts[-3:] == (".dvc", "tmp", "exps"):
            in_project = folder.parents[2] / found
            if in_project.exists():
                return in_project
    return found


class SourceEntry(Section):
    """One item of the list form of ``data.source``; ``n_papers`` defaults to ``data.n_papers``."""

    name: SourceName
    path: str | None = None
    n_papers: int = Field(ge=1)


@dataclass(frozen=True)
class SourceParams:
    """One corpus source to load, whichever form ``data.source`` takes."""

    name: SourceName
    path: str | None
    n_papers: int
    seed: int
    key: str = "data"  # where its path is set: ``data`` (data.path) or ``data.source.<index>``

    def local_path(self) -> Path | None:
        """Its path, relative paths read from the project root (see ``local_path``)."""
        return local_path(self.path)


# Tags of the two forms of data.source; validation errors leave them out of the key they name.
ONE, SEVERAL = "<one>", "<several>"


def _source_form(value: Any) -> str:
    return SEVERAL if isinstance(value, list) else ONE


class DataParams(Section):
    source: Annotated[
        Annotated[SourceName, Tag(ONE)] | Annotated[list[SourceEntry], Field(min_length=1), Tag(SEVERAL)],
        Discriminator(_source_form),
    ] = Field("generated", description="one source (then data.path, data.n_papers), or a list of sources")
    path: str | None = None
    n_papers: int = Field(300, ge=1)
    seed: int = 42
    split: SplitParams = SplitParams()

    @model_validator(mode="before")
    @classmethod
    def _default_n_papers(cls, values: Any) -> Any:
        """A list item without ``n_papers`` takes ``data.n_papers``."""
        if not isinstance(values, dict) or not isinstance(values.get("source"), list):
            return values
        default = values.get("n_papers", cls.model_fields["n_papers"].default)
        items = [
            {"n_papers": default, **item} if isinstance(item, dict) else item for item in values["source"]
        ]
        return {**values, "source": items}

    @field_validator("source")
    @classmethod
    def _distinct_names(cls, source: str | list[SourceEntry]) -> str | list[SourceEntry]:
        if isinstance(source, list):
            names = [entry.name for entry in source]
            if repeated := next((name for name in names if names.count(name) > 1), None):
                raise ValueError(
                    f"each source at most once ({repeated!r} is listed {names.count(repeated)} times)"
                )
        return source

    def sources(self) -> list[SourceParams]:
        """The sources to load: ``data.source`` with ``data.path`` and ``data.n_papers``, or each item."""
        if isinstance(self.source, str):
            return [SourceParams(self.source, self.path, self.n_papers, self.seed)]
        return [
            SourceParams(entry.name, entry.path, entry.n_papers, self.seed, key=f"data.source.{index}")
            for index, entry in enumerate(self.source)
        ]


class ModelParams(Section):
    base: str = "smollm2-135m-instruct"


class PreprocessParams(Section):
    max_context_tokens: int = Field(512, ge=64)
    strategy: Literal["evidence", "head"] = Field(
        "evidence", description="context builder: evidence-bearing passages, or the first N tokens"
    )
    cue_window_words: int = Field(
        8, ge=0, description="evidence strategy: words a cue sentence keeps on each side of its cues (0: all)"
    )


class TokenizeParams(Section):
    max_seq_length: int = Field(768, ge=64)


class LoraParams(Section):
    rank: int = Field(16, ge=1)
    alpha: float = Field(32, gt=0)
    dropout: float = Field(0.05, ge=0, lt=1)
    target_modules: list[str] = Field(
        default=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"], min_length=1
    )


class TrainParams(Section):
    epochs: float = Field(1.0, gt=0)
    max_steps: int = Field(-1, ge=-1, description="-1: train for `epochs`")
    learning_rate: float = Field(2e-4, gt=0)
    warmup_ratio: float = Field(0.1, ge=0, lt=1)
    weight_decay: float = Field(0.01, ge=0)
    batch_size: int = Field(1, ge=1)
    gradient_accumulation_steps: int = Field(8, ge=1)
    gradient_checkpointing: bool = False
    seed: int = 42
    logging_steps: int = Field(1, ge=1)
    save_steps: int = Field(20, ge=1, description="checkpoint every N optimizer steps (resume point)")
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto",
        description="auto: CUDA GPUs when visible (nccl, one process per GPU), else CPU processes (gloo)",
    )
    num_processes: int = Field(
        1, ge=1, description="training processes on this node; > 1 runs data parallel under torchrun"
    )
    deepspeed: str | None = Field(
        None,
        description="DeepSpeed config file; set: train runs under torchrun with DeepSpeed, on any device",
    )
    precision: Precision = Field(
        "auto", description="auto: bf16 autocast on a GPU or CPU that computes bf16 natively, else fp32"
    )
    answer_start_weight: float = Field(
        1.0, ge=1.0, description="loss weight of the first answer tokens, where the model decides [] or not"
    )


class EvaluateParams(Section):
    max_new_tokens: int = Field(256, ge=1)
    batch_size: int = Field(4, ge=1)
    max_papers: int | None = Field(None, ge=1, description="score only the first N test papers")
    precision: Precision = Field(
        "auto", description="generation dtype; auto: bf16 weights on a GPU, fp32 on a CPU"
    )
    title_match_threshold: float = Field(85, ge=0, le=100)
    item_match_threshold: float = Field(90, ge=0, le=100)


class Params(Section):
    data: DataParams = DataParams()
    model: ModelParams = ModelParams()
    preprocess: PreprocessParams = PreprocessParams()
    tokenize: TokenizeParams = TokenizeParams()
    lora: LoraParams = LoraParams()
    train: TrainParams = TrainParams()
    evaluate: EvaluateParams = EvaluateParams()


def _describe(error: ValidationError, path: Path) -> str:
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"] if part not in (ONE, SEVERAL)) or "(top level)"
    message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
    return f"{path}: {key}: {message}" + (
        f" (got {first['input']!r})" if first["type"] != "extra_forbidden" else ""
    )


def load_params(path: str | Path = PARAMS_FILE) -> Params:
    """Load and validate the whole params file (every stage validates all of it, so a typo anywhere
    stops the first stage that runs)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise PaperdcatError(f"{path}: file not found") from None
    except yaml.YAMLError as error:
        raise PaperdcatError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise PaperdcatError(f"{path}: expected a mapping of sections, got {type(raw).__name__}")
    try:
        return Params.model_validate(raw, strict=False)
    except ValidationError as error:
        raise PaperdcatError(_describe(error, path)) from None
