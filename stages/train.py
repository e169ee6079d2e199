"""train: LoRA on the tokenized train split; writes models/adapter and dvclive training curves, and resumes
from models/checkpoints after an interruption.

With ``train.num_processes`` > 1 or ``train.deepspeed`` set, this command starts torchrun on itself and
every rank trains (paperdcat/training/launch.py); only rank 0 writes the adapter, curves and metrics."""

from pathlib import Path

from paperdcat.errors import cli_entry
from paperdcat.extraction.settings import ExtractionSettings, base_architecture
from paperdcat.io import write_json
from paperdcat.params import Params, load_params
from paperdcat.training.launch import launch, needs_launcher, rank, under_launcher, worker
from paperdcat.training.train import train_adapter


def train(params: Params) -> None:
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
    if rank() == 0:
        write_json("metrics/train.json", metrics)
        print(f"models/adapter: {metrics}")


@cli_entry
def main() -> None:
    params = load_params()
    if under_launcher():
        worker(lambda: train(params))
    elif needs_launcher(params.train):
        launch(params.train, "stages.train")
    else:
        train(params)


if __name__ == "__main__":
    main()
