"""Property tests: parse_answer on any text, the scorer on any lists of JSON objects.

Example counts come from the hypothesis profile (tests/conftest.py): ``ci`` by default,
``HYPOTHESIS_PROFILE=slow`` for ten times as many.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from paperdcat.extraction.parse import ParsedAnswer, format_answer, parse_answer
from paperdcat.schema import DCAT_FIELDS, LIST_FIELDS, SHORT_NAME, coerce_dataset, is_empty
from paperdcat.scoring.score import match_datasets, normalize, score_paper, score_papers

# ---------------------------------------------------------------------------------------------- strategies

FRAGMENTS = (
    "[", "]", "{", "}", '"', "'", ",", ":", " ", "\n", "\\", "```json\n", "```", "null", "true", "-0",
    "1e999", '"title"', "'title'", "title", '"creator"', '"landingPage"', '"issued"', '"aliases"',
    '"datasets"', '{"title": "', '"MNIST"', '"COCO"', "[1]", "[]", "{}", '\\"', '"\\u00e9"', "\\ud800", "é",
    "数据集", "\u0000", "\u2028", "𝔘", '[{"title":"X","landingPage":"', "reddit/", '{"title": "A"}', ",]",
    ",}", '"}]',
)  # fmt: skip
fragment_texts = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=3), max_size=30).map("".join)

# JSON values as json.loads returns them (its integers stay within Python's str() digit limit)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()
    | st.text(max_size=8)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=4,
)
# A few titles that match each other exactly, fuzzily, or not at all, so that matching has work to do.
TITLES = ("MNIST", "mnist", "MNIST!", "CIFAR-10", "CIFAR 10", "Cifar-100", "ImageNet", "", " ", "!!!", "é")
KEYS = (*DCAT_FIELDS, *SHORT_NAME.values(), "aliases", "foo", "dcterms:", ":title", "Title", "dct:title")
keys = st.sampled_from(KEYS) | st.text(max_size=6)
values = st.sampled_from(TITLES) | st.lists(st.sampled_from(TITLES), max_size=3) | json_values
records = st.dictionaries(keys, values, max_size=4) | st.fixed_dictionaries(
    {"dcterms:title": st.sampled_from(TITLES)},
    optional={"aliases": st.lists(st.sampled_from(TITLES), max_size=2)},
)
record_lists = st.lists(records, max_size=4)


@st.composite
def deep_nesting(draw: st.DrawFn) -> str:
    """Brackets nested beyond Python's recursion limit (about 1,000) and json-repair's (about 400), or
    dense runs of brackets and quotes, on which json-repair is slow (so they are kept short), optionally
    closed and followed by fragments."""
    deep = st.tuples(
        st.sampled_from(["[", "[ ", '{"a":', "[1,", '[{"title":', '{"a":[']), st.integers(0, 1_200)
    )
    dense = st.tuples(st.sampled_from(["{", '{"', "{'", "[{]", "[[{"]), st.integers(0, 60))
    unit, depth = draw(deep | dense)
    closing = draw(st.sampled_from(["]", "}", "}]", '"}]', '"}', ""]))
    closed = draw(st.integers(0, depth))
    return unit * depth + draw(fragment_texts) + closing * closed


# ---------------------------------------------------------------------------------------------- parsing


def check_answer(answer: ParsedAnswer) -> None:
    """What every parsed answer promises, whatever the text."""
    assert isinstance(answer, ParsedAnswer)
    assert not (answer.valid and answer.repaired)
    if not answer.valid and not answer.repaired:
        assert answer.datasets == []
    if answer.repaired:
        assert any(dataset["dcterms:title"] for dataset in answer.datasets)
    assert answer.strict_datasets == (answer.datasets if answer.valid else [])
    for dataset in answer.datasets:
        assert list(dataset) == list(DCAT_FIELDS)
        for field, value in dataset.items():
            if field in LIST_FIELDS:
                assert isinstance(value, list) and all(isinstance(item, str) and item for item in value)
            else:
                assert isinstance(value, str) and value == value.strip()


@given(st.text() | fragment_texts | deep_nesting())
def test_parse_never_raises(text: str) -> None:
    check_answer(parse_answer(text))


@given(
    st.text(alphabet=st.characters(exclude_characters="[{"), max_size=40), st.lists(json_values, max_size=4)
)
def test_a_json_list_after_prose_is_read_strictly_as_its_objects(prose: str, items: list[Any]) -> None:
    answer = parse_answer(prose + json.dumps(items))
    check_answer(answer)
    if not items or any(isinstance(item, dict) for item in items):
        expected = [coerce_dataset(item, fill_missing=True) for item in items if isinstance(item, dict)]
        assert answer == ParsedAnswer(expected, valid=True)


# Answers as the model writes them, with values that hold JSON's own characters.
answer_text = st.text(alphabet=st.sampled_from('[]{}",:\\ aé1\n'), max_size=8)
answer_records = st.dictionaries(
    st.sampled_from(list(SHORT_NAME.values())), answer_text | st.lists(answer_text, max_size=2), max_size=4
)


@given(st.lists(answer_records, min_size=1, max_size=3), st.data())
def test_a_cut_answer_is_never_strictly_valid(datasets: list[dict], data: st.DataObject) -> None:
    """An answer cut at the token limit is broken JSON: the strict parse must not read a part of it."""
    text = format_answer(datasets)
    cut = data.draw(st.integers(1, len(text) - 1), label="cut")
    answer = parse_answer(text[:cut])
    check_answer(answer)
    assert not answer.valid


# ---------------------------------------------------------------------------------------------- scoring


def counted(objects: Sequence[Mapping[str, Any]]) -> list[bool]:
    """Which objects the scorer counts as datasets: those that state something (a blank one is skipped)."""
    return [
        not all(is_empty(value) for value in coerce_dataset(obj, fill_missing=False).values())
        for obj in objects
    ]


def check_copy_of_gold_scores_perfectly(records: list[dict]) -> None:
    """Copying the gold finds every dataset whose title normalises to something and fills every field it
    states. Titles are made distinct and aliases dropped, else equal titles may pair copies crosswise."""
    gold, seen = [], set()
    for record in records:
        record = {key: value for key, value in record.items() if key != "aliases"}
        title = normalize(coerce_dataset(record, fill_missing=True)["dcterms:title"])
        if not title or title not in seen:
            seen.add(title)
            gold.append(record)
    score = score_paper(gold, gold)
    untitled = [not normalize(coerce_dataset(d, fill_missing=True)["dcterms:title"]) for d in gold]
    expected = sum(c and u for c, u in zip(counted(gold), untitled, strict=True))
    assert (score.datasets.fp, score.datasets.fn) == (expected, expected)
    for counts in score.fields.values():
        assert counts.fp == counts.fn == 0


@given(record_lists, record_lists)
def test_scores_count_every_stated_dataset_once_and_stay_within_bounds(
    gold: list[dict], pred: list[dict]
) -> None:
    score = score_paper(gold, pred)
    n_gold, n_pred = sum(counted(gold)), sum(counted(pred))
    counts = score.datasets
    assert counts.tp + counts.fn == n_gold
    assert counts.tp + counts.fp == n_pred
    assert min(counts.tp, counts.fp, counts.fn) >= 0
    gold_indices, pred_indices = [i for i, _ in score.pairs], [j for _, j in score.pairs]
    assert len(set(gold_indices)) == len(gold_indices) and len(set(pred_indices)) == len(pred_indices)
    assert all(counted(gold)[i] and counted(pred)[j] for i, j in score.pairs)
    assert score.pairs == match_datasets(gold, pred)
    for field, field_counts in score.fields.items():
        annotated = sum(field in coerce_dataset(gold[i], fill_missing=False) for i, _ in score.pairs)
        assert field_counts.pairs == annotated
        assert field_counts.both_empty <= field_counts.pairs
        assert min(field_counts.tp, field_counts.fp, field_counts.fn) >= 0

    check_copy_of_gold_scores_perfectly(gold)

    # two papers, the second with the roles swapped, so that counts are summed over papers
    metrics = score_papers([(gold, pred), (pred, gold)])
    assert metrics["papers"] == 2
    assert metrics["datasets"]["tp"] + metrics["datasets"]["fn"] == n_gold + n_pred
    for rates in (metrics["datasets"], *metrics["fields"].values()):
        for key in ("precision", "recall", "f1"):
            assert 0 <= rates[key] <= 1
    assert 0 <= metrics["fields_macro_f1"] <= 1
