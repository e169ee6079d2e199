"""preprocess: clean text, build evidence-preserving contexts, split train/val/test."""

from transformers import AutoTokenizer

from paperdcat.corpus.preprocess import SPLITS, build_contexts, count_by_source, split_by_source
from paperdcat.corpus.sources import read_papers
from paperdcat.errors import cli_entry
from paperdcat.io import write_json, write_jsonl
from paperdcat.params import load_params


@cli_entry
def main() -> None:
    params = load_params()
    papers = read_papers("data/raw/papers.jsonl")
    tokenizer = AutoTokenizer.from_pretrained("models/base")
    records, stats = build_contexts(papers, tokenizer, params.preprocess)
    splits = split_by_source(records, params.data.seed, params.data.split)
    for name in SPLITS:
        write_jsonl(f"data/processed/{name}.jsonl", splits[name])
    stats["papers"] = {name: len(splits[name]) for name in SPLITS}
    if by_source := count_by_source(splits):
        stats["papers_by_source"] = by_source
    write_json("metrics/preprocess.json", stats)
    print(
        f"data/processed: {stats['papers']}; evidence recall {stats['evidence_recall']} "
        f"(first-N baseline {stats['evidence_recall_head']})"
    )


if __name__ == "__main__":
    main()
