"""The strict protocol's title rules: each lets a wording difference pass or keeps two datasets apart, and
fails its test without it; none of them merges different datasets."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paperdcat.schema import normalize
from paperdcat.scoring.score import STRICT, match_datasets
from paperdcat.scoring.titles import (
    ACRONYM,
    GENERIC,
    NUMBERS,
    TITLE_RULES,
    VERSION,
    compatible,
    is_acronym,
    title_key,
)


def matches(gold: str, pred: str, rules: frozenset[str] = TITLE_RULES) -> bool:
    """Whether a one-dataset prediction matches a one-dataset gold by title under the strict protocol."""
    protocol = replace(STRICT, title_rules=rules)
    return match_datasets([{"dcterms:title": gold}], [{"dcterms:title": pred}], protocol=protocol) == [(0, 0)]


@pytest.mark.parametrize(
    ("rule", "gold", "pred"),
    [
        (GENERIC, "Cityscapes", "Cityscapes dataset"),
        (GENERIC, "The Penn Treebank", "Penn Treebank corpus"),
        (GENERIC, "DCU data set", "DCU"),
        (GENERIC, "GLUE benchmark", "GLUE"),
        (ACRONYM, "Stanford Question Answering Dataset (SQuAD)", "SQuAD"),
        (ACRONYM, "SST (Stanford Sentiment Treebank)", "SST"),
        (ACRONYM, "MRPC (Microsoft Research Paraphrase Corpus)", "MSR Paraphrase Corpus (MRPC)"),
        (VERSION, "SQuAD", "SQuAD 2.0"),
        (VERSION, "VQA v2.0", "VQA"),
        (VERSION, "Europarl", "Europarl version 7"),
        (VERSION, "CoNLL2003", "CoNLL"),
    ],
)
def test_each_wording_rule_adds_a_match_that_fails_without_it(rule: str, gold: str, pred: str) -> None:
    assert matches(gold, pred)
    assert not matches(gold, pred, TITLE_RULES - {rule})
    assert matches(pred, gold)  # symmetric: the rule does not care which side is gold


@pytest.mark.parametrize(
    ("gold", "pred"),
    [
        ("CIFAR-10", "CIFAR-100"),  # token sort ratio 94
        ("WMT14 English-German", "WMT16 English-German"),
        ("SemEval 2013 task 10", "SemEval 2015 task 10"),
        ("English NTCIR-8", "English NTCIR-84"),
    ],
)
def test_numbers_rule_keeps_numbered_datasets_apart(gold: str, pred: str) -> None:
    assert matches(gold, pred, TITLE_RULES - {NUMBERS})  # close enough to match on wording alone
    assert not matches(gold, pred)


@pytest.mark.parametrize(
    ("gold", "pred"),
    [
        ("SQuAD 1.1", "SQuAD 2.0"),
        ("SQuAD v1.0", "SQuAD v1.1"),
        ("PASCAL VOC 2007", "PASCAL VOC 2012 dataset"),
        ("Stanford Sentiment Treebank (SST-1)", "Stanford Sentiment Treebank (SST-2)"),
        ("Stanford Sentiment Treebank (SST-1)", "SST-2"),
        ("CIFAR-10", "CIFAR-100 dataset"),
        ("WMT14 (English-German)", "WMT14 (English-French)"),
        ("MountainCar-v0", "MountainCar-v1"),
    ],
)
def test_rules_do_not_merge_different_datasets(gold: str, pred: str) -> None:
    assert not matches(gold, pred)
    assert not matches(pred, gold)


def test_stated_versions_decide_missing_ones_do_not() -> None:
    squad = title_key("SQuAD")
    v11, v2, v2_again = title_key("SQuAD v1.1"), title_key("SQuAD 2.0"), title_key("squad version 2")
    assert v2 is not None and v2.version == "2" and v2_again is not None and v2_again.version == "2"
    assert compatible(squad, v11) and compatible(squad, v2) and compatible(v2, v2_again)
    assert not compatible(v11, v2)
    assert not compatible(title_key("SQuAD v1.1", TITLE_RULES - {NUMBERS}), v2)  # the version alone decides
    assert title_key("CIFAR-10").version == ""  # a plain integer is part of the name, not a version
    for title in ("DUC2002", "DUC 2002", "DUC-2002 dataset"):
        key = title_key(title)
        assert key is not None and key.version == "2002" and "duc" in key.names, title


def test_a_title_that_states_fewer_numbers_leaves_them_open() -> None:
    assert matches("WMT14 En-De", "WMT En-De")
    assert matches("CoNLL 2002/2003", "CoNLL 2002/2003 NER")
    assert not matches("CIFAR", "CIFAR-10")  # compatible, but "cifar" vs "cifar 10" is only 77 similar


def test_title_as_written_is_always_compared() -> None:
    """A rule only adds names: a pair that matches on the titles as written still matches."""
    assert matches("WMT English-German (WMT14)", "WMT14 English-German", frozenset())
    assert matches("WMT English-German (WMT14)", "WMT14 English-German")
    assert matches("Drosophila TEM data", "Drosophila TEM dataset", frozenset())
    assert matches("Drosophila TEM data", "Drosophila TEM dataset")


def test_keys_without_rules_are_the_normalised_title() -> None:
    key = title_key("  The CNN/Daily-Mail Corpus! (v2.0) ", frozenset())
    assert key is not None and key.names == ("the cnn daily mail corpus v2 0",)
    assert (key.version, key.numbers) == ("", frozenset())
    assert title_key("...") is None
    with pytest.raises(ValueError, match="unknown title rules"):
        title_key("MNIST", {"stemming"})


def test_generic_words_alone_stay() -> None:
    key = title_key("The Dataset")
    assert key is not None and key.names == ("the dataset",)
    assert not matches("Benchmark", "Corpus")


@pytest.mark.parametrize(
    ("short", "long", "expected"),
    [
        ("SQuAD", "Stanford Question Answering Dataset", True),
        ("PTB", "The Penn Treebank", True),
        ("MS COCO", "Microsoft Common Objects in Context", True),
        ("CLIC.p", "CLIC professional validation dataset", True),
        ("English-German", "WMT14", False),  # a language pair, not an acronym of the rest
        ("Atari Game", "BREAKOUT", False),
        ("test set", "Real world data", False),  # no capitals
        ("2018", "Naik et al.", False),
        ("WNLI", "Winograd Schema Challenge", False),  # the letters are not all there in order
        ("ABCDEFGHIJKLM", "A B C D E F G H I J K L M N", False),  # too long for an acronym
        ("SQuAD", "SQuAD", False),  # not shorter than the long form
    ],
)
def test_is_acronym(short: str, long: str, expected: bool) -> None:
    assert is_acronym(short, long) is expected


def test_parenthesised_text_that_is_no_acronym_stays_in_the_title() -> None:
    key = title_key("WMT14 (English-German)")
    assert key is not None and "wmt14" not in key.names
    assert "english german" not in key.names
    squad = title_key("Stanford Question Answering Dataset (SQuAD) corpus")
    assert squad is not None and {"stanford question answering", "squad"} <= set(squad.names)
    assert title_key("Stanford Question Answering Dataset (SQuAD)", TITLE_RULES - {ACRONYM}).names == (
        "stanford question answering dataset squad",
        "stanford question answering squad",
    )


def test_version_forms() -> None:
    for title in ("VQA v2", "VQA 2.0", "VQA version 2", "VQA V2.00", "VQAv2"):
        key = title_key(title)
        assert key is not None and key.version == "2" and "vqa" in key.names, title
    assert title_key("MultiWOZ 2.1").version == "2.1"
    assert title_key("Yelp 2014").version == "2014"
    assert title_key("2014").version == ""  # a version needs a name before it
    assert title_key("SQuAD 2.0", TITLE_RULES - {VERSION}).version == ""


@given(st.text(max_size=60), st.sets(st.sampled_from(sorted(TITLE_RULES))))
def test_the_title_as_written_is_the_first_name_and_keys_agree_with_themselves(
    title: str, rules: set[str]
) -> None:
    key = title_key(title, rules)
    if not normalize(title):
        assert key is None
        return
    assert key is not None and key.names[0] == normalize(title)
    assert all(key.names) and compatible(key, key)
