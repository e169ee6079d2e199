"""Parsing generated answers, and the compact answer format it must read back."""

from __future__ import annotations

import json

import pytest

from paperdcat.extraction.parse import dataset_objects, format_answer, parse_answer
from paperdcat.schema import DCAT_FIELDS, coerce_dataset, empty_dataset


def filled(**fields: object) -> dict:
    """A full record (every field present) with some local-name fields set."""
    return {**empty_dataset(), **coerce_dataset(fields, fill_missing=False)}


def titles(text: str) -> tuple[list[str], bool]:
    datasets, valid = parse_answer(text)
    return [d["dcterms:title"] for d in datasets], valid


def test_plain_list_gets_every_field() -> None:
    datasets, valid = parse_answer('[{"title": "MNIST", "issued": "1998"}]')
    assert valid
    assert datasets == [filled(title="MNIST", issued="1998")]
    assert list(datasets[0]) == list(DCAT_FIELDS)


def test_fenced_json() -> None:
    text = 'Here are the datasets:\n```json\n[\n  {"title": "SQuAD"},\n  {"title": "GLUE"}\n]\n```\n'
    assert titles(text) == (["SQuAD", "GLUE"], True)


def test_prose_around_json_and_a_citation_before_it() -> None:
    text = 'As shown in [1] and {see below}, the paper uses [{"title": "COCO"}]. Also [{"title": "VOC"}].'
    assert titles(text) == (["COCO"], True)


def test_wrapper_object_is_looked_into() -> None:
    assert titles('{"datasets": [{"title": "COCO"}]}') == (["COCO"], True)


def test_single_object_is_a_list_of_one() -> None:
    assert titles('The answer: {"dcterms:title": "ImageNet"}') == (["ImageNet"], True)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "I could not find any dataset.",
        "[Smith et al., 2020]",
        "[1, 2, 3]",
        '[{"title": "A"}, {"title": "B", "creator": ["X',  # truncated mid-string
        '[{"title": "A"}, {"title": "B"}',  # truncated before the closing bracket
        '```json\n[{"title": "A"},\n',
    ],
)
def test_garbage_and_truncated_answers_are_invalid(text: str) -> None:
    assert parse_answer(text) == ([], False)


def test_empty_list_is_a_valid_answer() -> None:
    assert parse_answer("[]") == ([], True)
    assert parse_answer("No datasets are used: []") == ([], True)


def test_prefixed_and_short_keys_are_coerced() -> None:
    text = json.dumps([{"dcterms:title": "A", "creator": "Ada", "dcat:keyword": ["x", ""], "foo": 1}])
    datasets, valid = parse_answer(text)
    assert valid
    assert datasets == [filled(title="A", creator=["Ada"], keyword=["x"])]


def test_non_object_elements_are_dropped() -> None:
    assert titles('[1, "text", null, {"title": "A"}, ["nested"]]') == (["A"], True)


def test_never_raises_on_odd_input() -> None:
    assert parse_answer("[" * 100_000) == ([], False)
    assert parse_answer("[" + "1" * 5000 + "]") == ([], False)  # beyond int's digit limit: ValueError
    assert parse_answer(None) == ([], False)  # type: ignore[arg-type]


def test_dataset_objects() -> None:
    assert dataset_objects([{"a": 1}, 2]) == [{"a": 1}]
    assert dataset_objects({"a": 1}) == [{"a": 1}]
    assert dataset_objects("text") is None
    assert dataset_objects(42) is None


def test_format_answer_is_compact_with_short_keys_in_order() -> None:
    dataset = {
        "dcat:keyword": ["news"],
        "dcterms:title": "CNN/Daily Mail",
        "dcterms:creator": ["Tomás Kočiský"],
        "dcterms:language": "",
        "aliases": ["CNN-DM"],
    }
    expected = '[{"title":"CNN/Daily Mail","creator":["Tomás Kočiský"],"keyword":["news"]}]'
    assert format_answer([dataset]) == expected
    assert format_answer([]) == "[]"


def test_round_trip() -> None:
    datasets = [
        {
            "dcterms:title": "TL;DR Reddit corpus",
            "dcterms:creator": ["Michael Völske", "Martin Potthast"],
            "dcterms:issued": "2017",
            "dcterms:description": 'Pairs mined from Reddit, with "quotes" and ] brackets [.',
            "dcat:landingPage": "https://example.org/tldr",
            "mls:task": [],
            "aliases": ["TL;DR"],
        },
        {"dcterms:title": "Empty one"},
        empty_dataset(),
    ]
    expected = [{key: value for key, value in filled(**d).items() if key != "aliases"} for d in datasets]
    assert parse_answer(format_answer(datasets)) == (expected, True)
