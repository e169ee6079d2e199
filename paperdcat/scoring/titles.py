"""The forms under which a dataset title is compared: strict about the dataset, not about its wording.

``title_key(title, rules)`` turns a title into a ``TitleKey``: the names it is known by, the title as
written (normalised as ``paperdcat.schema.normalize`` does) first, and what must agree for two titles to
name the same dataset (``compatible``). With no rules the key holds that one name and any two keys are
compatible. The ``generic``, ``acronym`` and ``version`` rules add names, so that a wording difference
does not decide a match (they take none away: the title as written is still compared); the ``numbers``
rule and a stated version make two keys incompatible, so that different datasets do not match however
alike their titles are:

``generic``
    The generic words *the*, *dataset(s)*, *data set(s)*, *data*, *corpus/corpora*, *benchmark(s)* and
    *database(s)* are dropped (unless nothing else is left): "Cityscapes dataset" is also "cityscapes".
``acronym``
    A title with one parenthesised part where one side is an acronym of the other ("Stanford Question
    Answering Dataset (SQuAD)", "SST (Stanford Sentiment Treebank)") is also known by each side, like a
    gold alias. A parenthesised part that is no acronym of the rest ("WMT14 (English-German)") is not.
``version``
    A trailing version ("v2", "version 2", "2.0", or a year such as "2014", also glued as in "ScanNetV2"
    or "DUC2002") is set apart from the names: "SQuAD" matches "SQuAD 2.0", where one side leaves the
    version open, but two stated versions must agree ("2.0" = "v2"): "SQuAD 1.1" never matches "SQuAD
    2.0". Different
    versions of a dataset hold different data (SQuAD 2.0 adds unanswerable questions, VOC 2007 and 2012
    differ in images), so a version that both sides state decides; one that a side leaves out does not.
``numbers``
    Two titles that each state a number (a digit run) the other does not never match, however close the
    strings: "CIFAR-10" and "CIFAR-100" (fuzzy similarity 94), "WMT14" and "WMT16", "SemEval 2013 Task
    10" and "SemEval 2015 Task 10" are different datasets. A title that states fewer numbers leaves them
    open, as a missing version does: "WMT En-De" may match "WMT14 En-De", "Manually Labeled Tweets" may
    match "4,000 Manually Labeled Tweets" (if their similarity reaches the threshold).

The matcher compares the names of two compatible keys: a name in common is an exact match, otherwise the
best fuzzy similarity of two names decides.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

GENERIC = "generic"
ACRONYM = "acronym"
VERSION = "version"
NUMBERS = "numbers"
TITLE_RULES: frozenset[str] = frozenset({GENERIC, ACRONYM, VERSION, NUMBERS})

_GENERIC_WORDS = frozenset(
    {"the", "data", "dataset", "datasets", "corpus", "corpora"}
    | {"benchmark", "benchmarks", "database", "databases"}
)
# A dotted number ("1.1", "v2.0") stays one token so that a version can be read; in a name it is rendered
# with spaces, as normalize() would.
_TOKEN = re.compile(r"v?\d+(?:\.\d+)+|[^\W_]+")
_YEAR = re.compile(r"(?:19|20)\d\d")
_VERSION_TOKEN = re.compile(r"v?(\d+(?:\.\d+)*)")  # a plain integer only counts after "version"
_GLUED_VERSION = re.compile(r"([^\W\d_]{3,}?)(?:v(\d+)|((?:19|20)\d\d))")  # "ScanNetV2", "DUC2002"
_DIGITS = re.compile(r"\d+")
_PARENTHESISED = re.compile(r"^(?P<before>[^()]*)\((?P<inside>[^()]+)\)(?P<after>[^()]*)$")
_ACRONYM_MAX_CHARS = 12


@dataclass(frozen=True)
class TitleKey:
    """A title's comparable form: ``names`` (normalised, the title as written first); ``version`` ("" when
    none is stated, always without the ``version`` rule); ``numbers``, the distinct digit runs of the title
    (always empty without the ``numbers`` rule)."""

    names: tuple[str, ...]
    version: str = ""
    numbers: frozenset[str] = frozenset()


def compatible(a: TitleKey, b: TitleKey) -> bool:
    """Whether two titles may name the same dataset: no two different stated versions, and no number that
    each states and the other does not (a side that states fewer numbers leaves them open)."""
    if a.version and b.version and a.version != b.version:
        return False
    return a.numbers <= b.numbers or b.numbers <= a.numbers


def is_acronym(short: str, long: str) -> bool:
    """Whether ``short`` abbreviates ``long``: at most two words and 12 letters or digits, at least two
    capitals, whose letters, lower-cased, occur in order in ``long`` starting with its first letter after
    a leading "the" ("SQuAD" in "Stanford Question Answering Dataset", "PTB" in "The Penn Treebank")."""
    capitals = [char.lower() for char in short if char.isupper()]
    long = re.sub(r"^\s*the\s+", "", long, flags=re.IGNORECASE)
    letters = [char.lower() for char in long if char.isalnum()]
    size = sum(char.isalnum() for char in short)
    if len(short.split()) > 2 or not 2 <= size <= _ACRONYM_MAX_CHARS or len(capitals) < 2:
        return False
    if len(letters) <= size or letters[0] != capitals[0]:
        return False
    remaining = iter(letters)
    return all(char in remaining for char in capitals)  # `in` consumes the iterator: a subsequence test


def _surface_forms(title: str) -> list[str]:
    """The title, and when it holds an acronym in parentheses, its two sides."""
    if match := _PARENTHESISED.match(title):
        inside = match["inside"].strip()
        outside = " ".join(f"{match['before']} {match['after']}".split())
        if outside and (is_acronym(inside, outside) or is_acronym(outside, inside)):
            return [title, outside, inside]
    return [title]


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())


def _drop_generic(tokens: list[str]) -> list[str]:
    kept = [
        token
        for i, token in enumerate(tokens)
        if token not in _GENERIC_WORDS and not (token in ("set", "sets") and tokens[i - 1 : i] == ["data"])
    ]
    return kept or tokens


def _split_version(tokens: list[str]) -> tuple[list[str], str]:
    """Tokens without a trailing version, and the version's number as written ("" when there is none)."""
    if len(tokens) >= 3 and tokens[-2] == "version" and tokens[-1][:1].isdigit():
        return tokens[:-2], tokens[-1]
    if len(tokens) >= 2 and (version := _VERSION_TOKEN.fullmatch(tokens[-1])):
        if _YEAR.fullmatch(tokens[-1]) or "." in tokens[-1] or tokens[-1].startswith("v"):
            return tokens[:-1], version[1]
        return tokens, ""  # "CIFAR 10": a plain integer is part of the name
    if tokens and (glued := _GLUED_VERSION.fullmatch(tokens[-1])):
        return [*tokens[:-1], glued[1]], glued[2] or glued[3]
    return tokens, ""


def _canonical_version(number: str) -> str:
    """ "2.0" and "2" are one version; "1.1" and "1.10" are not."""
    parts = number.split(".")
    while len(parts) > 1 and not parts[-1].strip("0"):
        parts.pop()
    return ".".join(parts)


def _reduced(tokens: list[str], rules: frozenset[str]) -> tuple[list[str], str]:
    """Tokens without generic words and a trailing version (as far as ``rules`` say), and the version's
    number as written."""
    if GENERIC in rules:
        tokens = _drop_generic(tokens)
    return _split_version(tokens) if VERSION in rules else (tokens, "")


def _name(tokens: list[str]) -> str:
    return " ".join(tokens).replace(".", " ")


def title_key(title: str, rules: Iterable[str] = TITLE_RULES) -> TitleKey | None:
    """The key under which ``title`` is compared; None for a title with no letter or digit."""
    rules = frozenset(rules)
    if unknown := rules - TITLE_RULES:
        raise ValueError(f"unknown title rules: {sorted(unknown)}")
    written = _name(_tokens(title))
    if not written:
        return None
    kept, number = _reduced(_tokens(title), rules)
    names = [written]
    if rules & {GENERIC, VERSION}:
        names.append(_name(kept))
    if ACRONYM in rules:
        names += [_name(_reduced(_tokens(form), rules)[0]) for form in _surface_forms(title)[1:]]
    numbers = frozenset(_DIGITS.findall(written)) if NUMBERS in rules else frozenset()
    return TitleKey(tuple(dict.fromkeys(name for name in names if name)), _canonical_version(number), numbers)
