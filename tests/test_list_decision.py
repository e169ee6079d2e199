"""The answer surgery of the list-decision probe (benchmarks/list_decision.py)."""

from __future__ import annotations

from benchmarks.list_decision import SECOND_OBJECT, distinct, first_name_origin, first_object_end, objects_in
from paperdcat.extraction.parse import format_answer
from paperdcat.schema import coerce_dataset


def test_the_first_object_ends_where_the_training_answer_opens_a_second_one() -> None:
    datasets = ({"title": "SST-2", "task": ["sentiment"]}, {"title": "MNLI"})
    answer = format_answer([coerce_dataset(d, fill_missing=False) for d in datasets])
    cut = first_object_end(answer)
    assert answer[:cut] == '[{"title":"SST-2","task":["sentiment"]}'
    assert answer[cut:].startswith(SECOND_OBJECT)


def test_no_first_object_in_an_empty_list_prose_or_a_cut_object() -> None:
    assert first_object_end("[]") is None
    assert first_object_end('The paper uses {"title": "MNIST"}.') is None
    assert first_object_end('[{"title":"ImageNet","description":"a large') is None


def test_objects_of_a_cut_answer_are_the_complete_ones() -> None:
    objects = objects_in('[{"title":"CoNLL 2003"},{"title":"OntoNotes"},{"title":"WNU')
    assert [o["dcterms:title"] for o in objects] == ["CoNLL 2003", "OntoNotes"]


def test_distinct_drops_repeated_titles_before_it_counts() -> None:
    objects = objects_in('[{"title":"SQuAD"},{"title":"squad"},{"title":"TriviaQA"},{"title":"NQ"}]')
    assert [o["dcterms:title"] for o in distinct(objects, 2)] == ["SQuAD", "TriviaQA"]


def test_the_first_name_is_sorted_by_where_it_comes_from() -> None:
    record = {
        "context": "We train on ImageNet and report results on CIFAR-10.",
        "datasets": [{"dcterms:title": "CIFAR 10", "aliases": ["CIFAR-10"]}],
    }
    assert first_name_origin(record, objects_in('[{"title":"CIFAR-10"}]')) == (True, "gold")
    assert first_name_origin(record, objects_in('[{"title":"ImageNet"},{"title":"CIFAR-10"}]')) == (
        True,
        "other name in context",
    )
    assert first_name_origin(record, objects_in('[{"title":"MNIST"}]')) == (True, "not in context")
    assert first_name_origin({**record, "context": "We train on ImageNet."}, []) == (False, "no dataset")
