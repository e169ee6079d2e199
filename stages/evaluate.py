"""evaluate: generate with the base and the tuned model on the test split, score, write metrics."""

from pathlib import Path

from paperdcat.errors import cli_entry
from paperdcat.io import read_jsonl, write_json, write_jsonl
from paperdcat.params import load_params
from paperdcat.scoring.evaluate import evaluate_both


@cli_entry
def main() -> None:
    params = load_params().evaluate
    records = read_jsonl("data/processed/test.jsonl")[: params.max_papers]
    results = evaluate_both(
        Path("models/base"),
        Path("models/adapter"),
        records,
        precision=params.precision,
        max_new_tokens=params.max_new_tokens,
        batch_size=params.batch_size,
        title_threshold=params.title_match_threshold,
        item_threshold=params.item_match_threshold,
    )
    for name, (metrics, predictions) in results.items():
        write_jsonl(f"data/predictions/{name}.jsonl", predictions)
        write_json(f"metrics/{name}.json", metrics)
        print(
            f"{name}: dataset F1 {metrics['datasets']['f1']}, fields macro F1 {metrics['fields_macro_f1']}, "
            f"JSON valid {metrics['json_valid_rate']} (+{metrics['repaired_rate']} repaired; strict dataset "
            f"F1 {metrics['strict']['datasets']['f1']}), {metrics['sec_per_paper']} s/paper "
            f"({metrics['precision']})"
        )
        for source, scores in metrics.get("by_source", {}).items():
            print(
                f"  {source} ({scores['papers']} papers): dataset F1 {scores['datasets']['f1']}, "
                f"fields macro F1 {scores['fields_macro_f1']}, JSON valid {scores['json_valid_rate']}"
            )


if __name__ == "__main__":
    main()
