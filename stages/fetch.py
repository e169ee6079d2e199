"""fetch: resolve model.base into models/base and data.source into data/raw/papers.jsonl."""

from collections import Counter
from pathlib import Path

from paperdcat.corpus.sources import load_corpus
from paperdcat.errors import cli_entry
from paperdcat.io import write_jsonl
from paperdcat.models import fetch_base_model
from paperdcat.params import load_params


@cli_entry
def main() -> None:
    params = load_params()
    papers = load_corpus(params.data)
    answer = fetch_base_model(params.model.base, Path("models/base"))
    print(f"models/base: {params.model.base}; smoke answer: {answer!r}")
    write_jsonl("data/raw/papers.jsonl", papers)
    single = params.data.sources()[0].name  # the source of untagged records
    counts = Counter(paper.get("source", single) for paper in papers)
    print(
        f"data/raw/papers.jsonl: {len(papers)} papers from "
        + ", ".join(f"source {name!r} ({count})" for name, count in counts.items())
    )


if __name__ == "__main__":
    main()
