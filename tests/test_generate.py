"""The dataset catalogue and the synthetic corpus: determinism, text shape, and gold supported by the text."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from typing import Any

import pytest

from paperdcat.corpus.catalogue import AREAS, CATALOGUE, CatalogueEntry
from paperdcat.corpus.generated import MAX_WORDS, MIN_WORDS, GeneratedPaper, generate_corpus, generate_paper
from paperdcat.schema import ALIASES, DCAT_FIELDS, LIST_FIELDS, is_empty

N_PAPERS = 80
BY_TITLE = {entry.title: entry for entry in CATALOGUE}
CASE_INSENSITIVE_FIELDS = (
    "dcat:landingPage",
    "dcterms:identifier",
    "dcterms:description",
    "dcterms:hasVersion",
    "dcterms:format",
    "dcterms:language",
    "mls:task",
    "dcat:theme",
    "dcat:keyword",
)


def names_pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


ANY_NAME = names_pattern(tuple(name for entry in CATALOGUE for name in entry.names))


def entry_of(dataset: dict[str, Any]) -> CatalogueEntry:
    """The catalogue entry a gold dataset was generated from (its title is one of the entry's names)."""
    return next(entry for entry in CATALOGUE if dataset["dcterms:title"] in entry.names)


@pytest.fixture(scope="module")
def papers() -> list[GeneratedPaper]:
    return [generate_paper(42, index) for index in range(N_PAPERS)]


# ------------------------------------------------------------------------------------------ catalogue
def test_catalogue_is_large_and_covers_every_area() -> None:
    assert len({entry.title for entry in CATALOGUE}) == len(CATALOGUE) >= 80
    per_area = Counter(entry.area for entry in CATALOGUE)
    assert set(per_area) == set(AREAS)
    assert min(per_area.values()) >= 7


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda e: e.title)
def test_catalogue_entry_is_complete(entry: CatalogueEntry) -> None:
    assert entry.creators and all(len(name.split()) >= 2 for name in entry.creators)
    assert 1900 < entry.year <= 2025
    assert entry.tasks and all(task == task.lower() for task in entry.tasks)
    assert entry.theme and entry.modality_format and entry.description and entry.reference_title
    assert 2 <= len(entry.keywords) <= 4
    assert entry.landing_page == "" or entry.landing_page.startswith(("http://", "https://"))
    assert entry.doi == "" or entry.doi.startswith("10.")
    assert entry.language in ("", "English", "multilingual")


def test_catalogue_descriptions_name_no_other_dataset() -> None:
    for entry in CATALOGUE:
        description = names_pattern(entry.names).sub(" ", entry.description)
        for other in CATALOGUE:
            if other is not entry:
                assert not names_pattern(other.names).search(description), (entry.title, other.title)


# ------------------------------------------------------------------------------------------ determinism
def test_corpus_is_deterministic_and_prefix_stable(papers: list[GeneratedPaper]) -> None:
    corpus = generate_corpus(6, 42)
    assert corpus == generate_corpus(6, 42)
    assert corpus == [paper.record for paper in papers[:6]]
    assert generate_corpus(3, 42) == corpus[:3]
    assert generate_corpus(6, 43) != corpus


def test_corpus_does_not_depend_on_hash_seed() -> None:
    code = (
        "import json; from paperdcat.corpus.generated import generate_corpus as g; print(json.dumps(g(2, 5)))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PYTHONPATH": "."},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1


# ------------------------------------------------------------------------------------------ shape
def test_records_have_the_schema(papers: list[GeneratedPaper]) -> None:
    for index, paper in enumerate(papers):
        record = paper.record
        assert set(record) == {"paper_id", "text", "datasets"}
        assert record["paper_id"] == f"gen-{index:04d}"
        for dataset in record["datasets"]:
            assert set(dataset) == {*DCAT_FIELDS, ALIASES}
            for field in DCAT_FIELDS:
                assert isinstance(dataset[field], list if field in LIST_FIELDS else str)
            assert dataset["dcterms:title"]


def test_text_layout(papers: list[GeneratedPaper]) -> None:
    heading = re.compile(r"^\d+(\.\d+)? [A-Z][A-Za-z ,-]+$")
    for paper in papers:
        text = paper.record["text"]
        lines = text.split("\n")
        assert lines[0].strip() and lines[1] == "" and lines[2] == "Abstract"
        body, references = text.split("\n\nReferences\n\n")
        headings = [line for line in body.split("\n") if heading.match(line)]
        assert headings[0] == "1 Introduction" and any(re.match(r"\d\.1 ", h) for h in headings)
        assert all(line.strip() for line in references.split("\n"))
        assert MIN_WORDS <= len(text.split()) <= MAX_WORDS


def test_dataset_counts_and_citation_styles(papers: list[GeneratedPaper]) -> None:
    counts = Counter(len(paper.record["datasets"]) for paper in papers)
    assert counts[0] >= 1 and max(counts) <= 4 and sum(counts[k] for k in (2, 3, 4)) > N_PAPERS / 2
    styles = Counter(paper.citation_style for paper in papers)
    assert styles["numbered"] > 10 and styles["author-year"] > 10
    for paper in papers:
        references = paper.record["text"].split("\n\nReferences\n\n")[1]
        assert references.startswith("[1] ") == (paper.citation_style == "numbered")
    assert any(re.search(r"\([A-Z][\w-]+ et al\., \d{4}[;)]", p.record["text"]) for p in papers)


# ------------------------------------------------------------------------------------------ gold
def test_gold_values_occur_in_the_text(papers: list[GeneratedPaper]) -> None:
    for paper in papers:
        text = paper.record["text"]
        lowered = text.lower()
        for dataset in paper.record["datasets"]:
            assert dataset[ALIASES][0] == dataset["dcterms:title"]
            for name in dataset[ALIASES]:
                assert name in text
            for creator in dataset["dcterms:creator"]:
                assert creator in text
            if dataset["dcterms:issued"]:
                assert re.fullmatch(r"\d{4}", dataset["dcterms:issued"]) and dataset["dcterms:issued"] in text
            for field in CASE_INSENSITIVE_FIELDS:
                values = dataset[field] if field in LIST_FIELDS else [dataset[field]]
                for value in values:
                    assert value.lower() in lowered, (paper.record["paper_id"], field, value)


def test_gold_matches_the_catalogue(papers: list[GeneratedPaper]) -> None:
    for paper in papers:
        for dataset in paper.record["datasets"]:
            entry = entry_of(dataset)
            assert set(dataset[ALIASES]) <= set(entry.names)
            assert dataset["dcterms:issued"] in ("", str(entry.year))
            assert dataset["dcterms:description"] in ("", entry.description)
            assert dataset["dcterms:identifier"] in ("", entry.doi)
            assert set(dataset["mls:task"]) <= set(entry.tasks)
            assert len(dataset["dcterms:creator"]) <= len(entry.creators)


def test_every_field_is_sometimes_filled_and_sometimes_empty(papers: list[GeneratedPaper]) -> None:
    datasets = [dataset for paper in papers for dataset in paper.record["datasets"]]
    for field in DCAT_FIELDS:
        filled = sum(not is_empty(dataset[field]) for dataset in datasets)
        assert filled > 0, field
        assert field == "dcterms:title" or filled < len(datasets), field
    creators = [c for d in datasets for c in d["dcterms:creator"]]
    full_names = {name for entry in CATALOGUE for name in entry.creators}
    assert any(c in full_names for c in creators) and any(c not in full_names for c in creators)


def test_distractors_are_mentioned_but_not_gold(papers: list[GeneratedPaper]) -> None:
    assert sum(len(paper.distractors) for paper in papers) >= N_PAPERS
    for paper in papers:
        gold_names = {name for dataset in paper.record["datasets"] for name in dataset[ALIASES]}
        for title in paper.distractors:
            entry = BY_TITLE[title]
            assert not gold_names & set(entry.names)
            assert names_pattern(entry.names).search(paper.record["text"])


def test_gold_is_ordered_by_first_mention_in_the_datasets_section(papers: list[GeneratedPaper]) -> None:
    for paper in papers:
        text = paper.record["text"]
        start = re.search(r"\n\d\.1 [A-Z]", text).start()
        firsts = [
            min(text.find(name, start) for name in dataset[ALIASES] if name in text[start:])
            for dataset in paper.record["datasets"]
        ]
        assert firsts == sorted(firsts)


def test_no_catalogue_dataset_is_mentioned_unplanned(papers: list[GeneratedPaper]) -> None:
    """Apart from the used and distractor datasets, no catalogue name occurs in a paper."""
    for paper in papers:
        planned = [entry_of(d) for d in paper.record["datasets"]] + [BY_TITLE[t] for t in paper.distractors]
        text = re.sub(r"https?://\S+", " ", paper.record["text"])
        strings = {s for entry in planned for s in (*entry.names, entry.reference_title, entry.description)}
        for string in sorted(strings, key=len, reverse=True):
            text = text.replace(string, " ")
        assert not ANY_NAME.search(text), (paper.record["paper_id"], ANY_NAME.search(text))
