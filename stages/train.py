"""train: LoRA on the tokenized train split; writes models/adapter and dvclive training curves, and resumes
from models/checkpoints after an interruption."""

from pathlib import Path

from paperdcat.errors import cli_entry
from paperdcat.extraction.settings import ExtractionSettings, base_architecture
from paperdcat.io import write_json
from paperdcat.params import load_params
from paperdcat.training.train import train_adapter


@cli_entry
def main() -> None:
    params = load_params()
    metrics = train_adapter(
        Path("models/base"),
        Path("data/tokenized"),
        Path("models/adapter"),
        Path("dvclive/train"),
        Path("models/checkpoints"),
        params.lora,
        params.train,
        ExtractionSettings(
            context=params.preprocess,
            max_seq_length=params.tokenize.max_seq_length,
            base_model=params.model.base,
            architecture=base_architecture(Path("models/base")),
        ),
    )
    write_json("metrics/train.json", metrics)
    print(f"models/adapter: {metrics}")


if __name__ == "__main__":
    main()
