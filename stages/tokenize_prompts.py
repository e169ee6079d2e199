"""tokenize: chat-template prompts with labels on the answer only, saved as Arrow under data/tokenized."""

from datasets import DatasetDict
from transformers import AutoTokenizer

from paperdcat.errors import cli_entry
from paperdcat.extraction.prompt import tokenize_records
from paperdcat.io import atomic_path, read_jsonl, write_json
from paperdcat.params import load_params


@cli_entry
def main() -> None:
    params = load_params()
    tokenizer = AutoTokenizer.from_pretrained("models/base")
    splits, stats = {}, {}
    for name in ("train", "val"):
        splits[name], stats[name] = tokenize_records(
            read_jsonl(f"data/processed/{name}.jsonl"), tokenizer, params.tokenize.max_seq_length
        )
    with atomic_path("data/tokenized") as tmp:
        DatasetDict(splits).save_to_disk(str(tmp))
    write_json("metrics/tokenize.json", stats)
    print(f"data/tokenized: {stats}")


if __name__ == "__main__":
    main()
