"""Score extracted DCAT records against gold: which datasets were found, and how well each field was filled.

Two protocols (``PROTOCOLS``; docs/scoring.md compares them on MetaMine's predictions):

``strict`` (the default, and what the DVC pipeline's evaluate uses)
    Per paper, predicted datasets are matched one-to-one to gold datasets by title: titles that share a
    name first, then an optimal assignment over fuzzy similarity (token sort ratio) at least
    ``title_threshold`` (85); a gold dataset's ``aliases`` count as further titles. Titles are compared
    under the rules of ``paperdcat.scoring.titles``: strict about the dataset, not about its wording
    (generic words such as "dataset", a parenthesised acronym and a trailing version do not decide a
    match; two different stated versions, or numbers that each title states and the other does not, keep
    two titles apart). Every gold paper is scored.
``metamine``
    Scores as MetaMine's published table did, as far as their outputs tell: only the papers with both a
    gold and a readable prediction file; titles as written (normalised, no rules) matched one-to-one at
    a fuzzy similarity of only ``METAMINE_TITLE_THRESHOLD`` (31, fitted to their published counts);
    repeated titles and all-empty records count like any prediction; a scalar field is right or wrong on
    every matched pair (P = R = accuracy), agreeing on "not stated" counting as right.

Dataset identification is scored on the matches, each field on the matched pairs, and counts are summed
over papers (micro averages). A field is scored for a pair only when the gold dataset has the key: an
absent key means the source does not annotate the field, while an empty value means the paper does not
state it. Under the strict protocol, where both sides are empty the pair counts as ``both_empty``,
reported apart from precision and recall.

Decisions beyond that (strict protocol):

- A record whose every field is empty is no dataset (a model's "nothing found" placeholder): it is neither
  counted nor matched. A title that normalises to the empty string never matches.
- Repeated predicted titles (a model stuck in a loop) match at most once, the copies are false positives;
  only when gold itself lists k datasets under one title may k copies of it match.

Command line, for the MetaMine layout ``<Topic>/paper_N.json`` (one JSON list of dataset objects per
paper; a single object counts as a list of one)::

    paperdcat score --gold GOLD_DIR --pred PRED_DIR --out metrics.json [--protocol strict|metamine]

Under the strict protocol the gold files define the paper set. A paper whose prediction file is missing is
scored as an empty prediction, so all its gold datasets are false negatives, and counted in
``missing_predictions``: a model that produced nothing for a paper must not be scored as if the paper did
not exist, and the count says how much of a low recall is due to absent files. A prediction file that is
not JSON, or whose JSON is neither a list nor a single object, is scored the same way and counted in
``invalid_predictions`` (the MetaMine protocol leaves both kinds of paper out, and counts them the same
way); ``json_valid_rate`` is the valid share of the papers that have a prediction file. Prediction files
with no gold file are ignored and counted in ``extra_predictions``. A gold file that cannot be read is an
error (exit code 1).
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process
from scipy.optimize import linear_sum_assignment

from paperdcat.errors import PaperdcatError, cli_entry
from paperdcat.extraction.parse import ParsedAnswer, dataset_objects, load_json, read_dataset_objects
from paperdcat.io import write_json
from paperdcat.schema import (
    ALIASES,
    DCAT_FIELDS,
    LIST_FIELDS,
    SHORT_NAME,
    coerce_dataset,
    is_empty,
    normalize,
)
from paperdcat.scoring.titles import TITLE_RULES, TitleKey, compatible, title_key

TITLE = "dcterms:title"
_ISSUED = "dcterms:issued"
_DESCRIPTION = "dcterms:description"
_VERSION = "dcterms:hasVersion"
_URL_FIELDS = frozenset({"dcterms:identifier", "dcat:landingPage"})

_YEAR = re.compile(r"(?<!\d)(?:1[89]|20)\d\d(?!\d)")
_VERSION_PREFIX = re.compile(r"^(?:version|v)\s*(?=\d)")
_URL_PREFIX = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:www\.)?(?:(?:dx\.)?doi\.org/|doi:\s*)?")
_URL_EDGE = "/.,;:!?'\"()[]{}<> "
_DESCRIPTION_MIN_F1 = 0.5


# ---------------------------------------------------------------------------------------------- normalising


def url_key(text: str) -> str:
    """A URL or DOI without scheme, ``www.``, DOI resolver or ``doi:`` prefix, or trailing punctuation."""
    text = unicodedata.normalize("NFKC", text).strip(_URL_EDGE).lower()
    return _URL_PREFIX.sub("", text).strip(_URL_EDGE)


def _scalar_key(field_name: str, value: Any) -> str:
    """The form in which a scalar field is compared; empty when the value states nothing."""
    text = value if isinstance(value, str) else "" if is_empty(value) else str(value)
    if field_name in _URL_FIELDS:
        return url_key(text)
    if field_name == _ISSUED and (year := _YEAR.search(text)):
        return year.group()
    key = normalize(text)
    return _VERSION_PREFIX.sub("", key) if field_name == _VERSION else key


def token_f1(gold: str, pred: str) -> float:
    """F1 of the overlap of two whitespace-tokenised strings, counting repeated tokens."""
    gold_tokens, pred_tokens = Counter(gold.split()), Counter(pred.split())
    overlap = sum((gold_tokens & pred_tokens).values())
    return _f1(overlap, pred_tokens.total() - overlap, gold_tokens.total() - overlap)


def _scalar_equal(field_name: str, gold_key: str, pred_key: str) -> bool:
    if field_name == _DESCRIPTION:
        return token_f1(gold_key, pred_key) >= _DESCRIPTION_MIN_F1
    return gold_key == pred_key


# ---------------------------------------------------------------------------------------------- protocols


@dataclass(frozen=True)
class Protocol:
    """How predictions are scored; the module docstring says what ``STRICT`` and ``METAMINE`` reward.

    ``title_rules`` are ``paperdcat.scoring.titles`` rules; ``repeats_match_once`` lets a repeated predicted
    title match only as many gold datasets as share it exactly; ``predicted_papers_only`` scores only the
    papers that have a readable prediction file; ``blank_records_count`` counts an all-empty predicted
    record as a prediction; ``scalar_accuracy`` scores a scalar field right or wrong on every matched pair
    (P = R = accuracy), agreement on an empty value counting as right.
    """

    name: str
    title_threshold: float
    title_rules: frozenset[str] = TITLE_RULES
    repeats_match_once: bool = True
    predicted_papers_only: bool = False
    blank_records_count: bool = False
    scalar_accuracy: bool = False


STRICT = Protocol("strict", 85)
# Fitted to MetaMine's published dataset counts (benchmarks/scorer_protocols.py --fit, docs/scoring.md).
METAMINE_TITLE_THRESHOLD = 31
METAMINE = Protocol(
    "metamine",
    METAMINE_TITLE_THRESHOLD,
    title_rules=frozenset(),
    repeats_match_once=False,
    predicted_papers_only=True,
    blank_records_count=True,
    scalar_accuracy=True,
)
PROTOCOLS: dict[str, Protocol] = {protocol.name: protocol for protocol in (STRICT, METAMINE)}


def _protocol(protocol: Protocol | str) -> Protocol:
    return protocol if isinstance(protocol, Protocol) else PROTOCOLS[protocol]


# ---------------------------------------------------------------------------------------------- matching


Pairs = list[tuple[int, int]]


def _assign(weights: np.ndarray, valid: np.ndarray, rows: list[int], cols: list[int]) -> Pairs:
    """Maximum-weight one-to-one assignment restricted to ``valid`` cells, mapped back to row/col ids."""
    if not rows or not cols or not valid.any():
        return []
    chosen_rows, chosen_cols = linear_sum_assignment(np.where(valid, weights, 0.0), maximize=True)
    return [(rows[r], cols[c]) for r, c in zip(chosen_rows, chosen_cols, strict=True) if valid[r, c]]


def _one_to_one(
    exact: np.ndarray, similarity: np.ndarray, threshold: float, prefer: np.ndarray | None = None
) -> Pairs:
    """One-to-one ``(gold, pred)`` pairs from gold x pred matrices: as many ``exact`` cells as possible
    first (among as many, those with the highest ``prefer``, 0-100), then an optimal assignment of the
    rest over ``similarity`` (0-100) at least ``threshold``."""
    rows, cols = list(range(exact.shape[0])), list(range(exact.shape[1]))
    # The tie-break adds at most 1e-4 a cell: it never trades away an exact pair.
    weights = 1.0 + (0.0 if prefer is None else prefer / 1e6)
    pairs = _assign(np.broadcast_to(weights, exact.shape), exact, rows, cols)
    free_rows = [i for i in rows if i not in {i for i, _ in pairs}]
    free_cols = [j for j in cols if j not in {j for _, j in pairs}]
    rest = similarity[np.ix_(free_rows, free_cols)]
    return sorted(pairs + _assign(rest, rest >= threshold, free_rows, free_cols))


def _match_items(gold: Sequence[str], pred: Sequence[str], threshold: float) -> Pairs:
    """Match normalised non-empty strings one-to-one: equal first, then token sort ratio >= threshold."""
    exact = np.array([[g == p for p in pred] for g in gold], dtype=bool).reshape(len(gold), len(pred))
    if not gold or not pred:
        return []
    return _one_to_one(exact, process.cdist(gold, pred, scorer=fuzz.token_sort_ratio), threshold)


def _name_spans(keys: Sequence[tuple[int, TitleKey]]) -> list[slice]:
    """Where each key's names lie in the flat list of all keys' names."""
    ends = np.cumsum([len(key.names) for _, key in keys])
    return [slice(int(end) - len(key.names), int(end)) for end, (_, key) in zip(ends, keys, strict=True)]


def _title_matrices(
    gold: Sequence[Sequence[TitleKey]], pred: Sequence[Sequence[TitleKey]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gold x pred: whether two compatible keys share a name; the best token sort ratio of two names of
    compatible keys; the best ratio of the titles as written (both -1 where no two keys are compatible)."""
    exact = np.zeros((len(gold), len(pred)), dtype=bool)
    similarity = np.full((len(gold), len(pred)), -1.0)
    written = similarity.copy()
    gold_keys = [(i, key) for i, keys in enumerate(gold) for key in keys]
    pred_keys = [(j, key) for j, keys in enumerate(pred) for key in keys]
    if not gold_keys or not pred_keys:
        return exact, similarity, written
    ratios = process.cdist(
        [name for _, key in gold_keys for name in key.names],
        [name for _, key in pred_keys for name in key.names],
        scorer=fuzz.token_sort_ratio,
    )
    pred_spans = _name_spans(pred_keys)
    for (i, gold_key), rows in zip(gold_keys, _name_spans(gold_keys), strict=True):
        for (j, pred_key), cols in zip(pred_keys, pred_spans, strict=True):
            if compatible(gold_key, pred_key):
                exact[i, j] |= not set(gold_key.names).isdisjoint(pred_key.names)
                similarity[i, j] = max(similarity[i, j], ratios[rows, cols].max())
                written[i, j] = max(written[i, j], ratios[rows.start, cols.start])
    return exact, similarity, written


def _record_keys(record: Mapping[str, Any], rules: frozenset[str]) -> list[TitleKey]:
    """A record's title keys; a gold dataset's ``aliases`` count as further titles."""
    keys = (title_key(title, rules) for title in [record.get(TITLE) or "", *record.get(ALIASES, [])])
    return list(dict.fromkeys(key for key in keys if key is not None))


def _match_records(
    gold: Sequence[Mapping[str, Any]],
    pred: Sequence[Mapping[str, Any]],
    title_threshold: float,
    protocol: Protocol,
) -> Pairs:
    """Match coerced records by title; among exact matches, titles closer as written pair first. With
    ``repeats_match_once`` a predicted title repeated k times may match only as many gold datasets as
    share its exact title (at least one): the other copies stay unmatched, fuzzy matches included."""
    rules = protocol.title_rules
    pred_keys = [_record_keys(record, rules) for record in pred]
    exact, similarity, written = _title_matrices([_record_keys(record, rules) for record in gold], pred_keys)
    seen: Counter[tuple[TitleKey, ...]] = Counter()
    for j, keys in enumerate(pred_keys):
        seen[tuple(keys)] += 1
        if protocol.repeats_match_once and seen[tuple(keys)] > max(1, exact[:, j].sum()):
            exact[:, j], similarity[:, j] = False, -1.0
    return _one_to_one(exact, similarity, title_threshold, prefer=written)


def match_datasets(
    gold: Sequence[Mapping[str, Any]],
    pred: Sequence[Mapping[str, Any]],
    title_threshold: float | None = None,
    protocol: Protocol | str = STRICT,
) -> Pairs:
    """Match predicted to gold datasets one-to-one by title; ``(gold_index, pred_index)`` pairs, sorted.

    ``title_threshold`` defaults to the protocol's."""
    protocol = _protocol(protocol)
    return _match_records(
        [coerce_dataset(d, fill_missing=False) for d in gold],
        [coerce_dataset(d, fill_missing=True) for d in pred],
        protocol.title_threshold if title_threshold is None else title_threshold,
        protocol,
    )


# ---------------------------------------------------------------------------------------------- counting


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


@dataclass
class Counts:
    """Confusion counts; ``both_empty`` and ``pairs`` are only used for fields."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    both_empty: int = 0
    pairs: int = 0

    def __add__(self, other: Counts) -> Counts:
        # vars(), not dataclasses.astuple: astuple deep-copies, and this runs for every field of every pair
        return Counts(*(a + b for a, b in zip(vars(self).values(), vars(other).values(), strict=True)))

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp else 0.0

    @property
    def f1(self) -> float:
        return _f1(self.tp, self.fp, self.fn)

    @property
    def stated(self) -> bool:
        """Whether gold or prediction stated the field on at least one pair (so it enters the macro F1)."""
        return self.tp + self.fp + self.fn > 0


@dataclass
class PaperScore:
    """Counts for one paper; ``fields`` is keyed by DCAT field, ``pairs`` are ``(gold, pred)`` indices."""

    datasets: Counts
    fields: dict[str, Counts] = field(default_factory=dict)
    pairs: list[tuple[int, int]] = field(default_factory=list)


def score_field(
    field_name: str, gold: Any, pred: Any, item_threshold: float = 90, *, scalar_accuracy: bool = False
) -> Counts:
    """Counts for one field of one matched pair (``pairs`` = 1).

    With ``scalar_accuracy`` (the MetaMine protocol) a scalar field is either right (``tp``, also when
    both sides are empty) or wrong (``fp`` and ``fn``), so that its precision and recall are its accuracy.
    """
    if field_name in LIST_FIELDS:
        gold_items = [item for item in map(normalize, gold or []) if item]
        pred_items = [item for item in map(normalize, pred or []) if item]
        if not gold_items and not pred_items:
            return Counts(both_empty=1, pairs=1)
        tp = len(_match_items(gold_items, pred_items, item_threshold))
        return Counts(tp=tp, fp=len(pred_items) - tp, fn=len(gold_items) - tp, pairs=1)
    gold_key, pred_key = _scalar_key(field_name, gold), _scalar_key(field_name, pred)
    both_empty = not gold_key and not pred_key
    equal = bool(gold_key and pred_key) and _scalar_equal(field_name, gold_key, pred_key)
    if scalar_accuracy:
        return Counts(tp=1, pairs=1) if equal or both_empty else Counts(fp=1, fn=1, pairs=1)
    if both_empty:
        return Counts(both_empty=1, pairs=1)
    if equal:
        return Counts(tp=1, pairs=1)
    return Counts(fp=int(bool(pred_key)), fn=int(bool(gold_key)), pairs=1)


def _is_blank(record: Mapping[str, Any]) -> bool:
    return all(is_empty(value) for value in record.values())


def score_paper(
    gold: Sequence[Mapping[str, Any]],
    pred: Sequence[Mapping[str, Any]],
    *,
    protocol: Protocol | str = STRICT,
    title_threshold: float | None = None,
    item_threshold: float = 90,
) -> PaperScore:
    """Score one paper's predicted datasets against its gold datasets (loosely typed dicts are coerced).

    ``title_threshold`` defaults to the protocol's."""
    protocol = _protocol(protocol)
    if title_threshold is None:
        title_threshold = protocol.title_threshold
    gold_records = [coerce_dataset(d, fill_missing=False) for d in gold]
    pred_records = [coerce_dataset(d, fill_missing=True) for d in pred]
    pairs = _match_records(gold_records, pred_records, title_threshold, protocol)
    n_gold = sum(not _is_blank(record) for record in gold_records)
    n_pred = sum(protocol.blank_records_count or not _is_blank(record) for record in pred_records)
    fields = {name: Counts() for name in DCAT_FIELDS}
    for i, j in pairs:
        gold_record, pred_record = gold_records[i], pred_records[j]
        for name in DCAT_FIELDS:
            if name in gold_record:
                fields[name] += score_field(
                    name,
                    gold_record[name],
                    pred_record[name],
                    item_threshold,
                    scalar_accuracy=protocol.scalar_accuracy,
                )
    datasets = Counts(tp=len(pairs), fp=n_pred - len(pairs), fn=n_gold - len(pairs))
    return PaperScore(datasets=datasets, fields=fields, pairs=pairs)


def _rates(counts: Counts) -> dict[str, float | int]:
    return {
        "precision": round(counts.precision, 4),
        "recall": round(counts.recall, 4),
        "f1": round(counts.f1, 4),
        "tp": counts.tp,
        "fp": counts.fp,
        "fn": counts.fn,
    }


def score_papers(
    papers: Iterable[tuple[Sequence[Mapping[str, Any]], Sequence[Mapping[str, Any]]]],
    *,
    protocol: Protocol | str = STRICT,
    title_threshold: float | None = None,
    item_threshold: float = 90,
) -> dict[str, Any]:
    """Micro-averaged metrics over ``(gold, pred)`` dataset lists, one pair per paper.

    Keys are short and stable for ``dvc metrics diff``: ``papers``, ``datasets`` (identification),
    ``fields`` (by local field name) and ``fields_macro_f1`` (mean F1 over fields stated at least once).
    """
    n_papers = 0
    datasets = Counts()
    fields = {name: Counts() for name in DCAT_FIELDS}
    for gold, pred in papers:
        paper = score_paper(
            gold, pred, protocol=protocol, title_threshold=title_threshold, item_threshold=item_threshold
        )
        n_papers += 1
        datasets += paper.datasets
        for name in DCAT_FIELDS:
            fields[name] += paper.fields[name]
    stated = [counts.f1 for counts in fields.values() if counts.stated]
    return {
        "papers": n_papers,
        "datasets": _rates(datasets),
        "fields": {
            SHORT_NAME[name]: {**_rates(counts), "both_empty": counts.both_empty, "pairs": counts.pairs}
            for name, counts in fields.items()
        },
        "fields_macro_f1": round(sum(stated) / len(stated), 4) if stated else 0.0,
    }


def _share(flags: Sequence[bool]) -> float:
    return round(sum(flags) / len(flags), 4) if flags else 0.0


def score_answers(
    papers: Iterable[tuple[Sequence[Mapping[str, Any]], ParsedAnswer]],
    *,
    title_threshold: float = 85,
    item_threshold: float = 90,
) -> dict[str, Any]:
    """``score_papers`` over ``(gold, parsed answer)`` pairs, with and without the repair fallback.

    The scores use every answer read, strictly or by repair; ``strict`` repeats ``datasets`` and
    ``fields_macro_f1`` with the strict parse alone. ``json_valid_rate`` is the share of answers the strict
    parse read (comparable with runs before the fallback), ``repaired_rate`` the share only repair read.
    """
    pairs = list(papers)
    answers = [answer for _, answer in pairs]
    thresholds = {"title_threshold": title_threshold, "item_threshold": item_threshold}
    metrics = score_papers([(gold, answer.datasets) for gold, answer in pairs], **thresholds)
    strict = score_papers([(gold, answer.strict_datasets) for gold, answer in pairs], **thresholds)
    metrics["strict"] = {key: strict[key] for key in ("datasets", "fields_macro_f1")}
    metrics["json_valid_rate"] = _share([a.valid for a in answers])
    metrics["repaired_rate"] = _share([a.repaired for a in answers])
    return metrics


# ---------------------------------------------------------------------------------------------- folders


def _load_gold(path: Path) -> list[dict[str, Any]]:
    try:
        objects = dataset_objects(load_json(path))
    except (OSError, ValueError) as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        reason = " ".join(str(error).split())  # one line, whatever the OS or decoder says
        raise PaperdcatError(f"cannot read gold file {path}: {reason}") from error
    if objects is None:
        raise PaperdcatError(f"cannot read gold file {path}: not a JSON list of dataset objects")
    return objects


@dataclass
class FolderPapers:
    """The papers of a gold folder with their predictions: ``papers`` holds ``(relative path, gold,
    prediction)``, the prediction ``None`` when its file is missing or unreadable."""

    papers: list[tuple[Path, list[dict[str, Any]], list[dict[str, Any]] | None]]
    missing: int
    invalid: int
    extra: int

    def scored(self, protocol: Protocol) -> list[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
        """The ``(gold, pred)`` lists a protocol scores: an absent prediction is empty, or, under
        ``predicted_papers_only``, the paper is left out."""
        return [
            (gold, pred or [])
            for _, gold, pred in self.papers
            if pred is not None or not protocol.predicted_papers_only
        ]


def read_folders(gold_dir: Path | str, pred_dir: Path | str) -> FolderPapers:
    """Read a gold folder and the prediction files at the same relative paths.

    Raises ``PaperdcatError`` for a missing folder, a gold folder without files or an unreadable gold file.
    """
    gold_dir, pred_dir = Path(gold_dir), Path(pred_dir)
    if not pred_dir.is_dir():
        raise PaperdcatError(f"prediction folder {pred_dir} does not exist")
    gold_files = sorted(path.relative_to(gold_dir) for path in gold_dir.rglob("*.json") if path.is_file())
    if not gold_files:
        raise PaperdcatError(f"no gold files (<Topic>/paper_N.json) under {gold_dir}")
    papers = []
    missing = invalid = 0
    for relative in gold_files:
        pred = None
        if not (pred_dir / relative).is_file():
            missing += 1
        elif (pred := read_dataset_objects(pred_dir / relative)) is None:
            invalid += 1
        papers.append((relative, _load_gold(gold_dir / relative), pred))
    extra = {path.relative_to(pred_dir) for path in pred_dir.rglob("*.json") if path.is_file()}
    return FolderPapers(papers, missing, invalid, len(extra - set(gold_files)))


def score_dirs(
    gold_dir: Path | str,
    pred_dir: Path | str,
    *,
    protocol: Protocol | str = STRICT,
    title_threshold: float | None = None,
    item_threshold: float = 90,
) -> dict[str, Any]:
    """Score a folder of prediction files against a folder of gold files with the same relative paths.

    Returns ``protocol`` (its name), ``score_papers``'s metrics plus ``missing_predictions``,
    ``invalid_predictions``, ``extra_predictions`` and ``json_valid_rate``. Under a protocol that scores
    predicted papers only, ``papers`` counts the papers scored. Raises ``PaperdcatError`` as
    ``read_folders`` does.
    """
    protocol = _protocol(protocol)
    folder = read_folders(gold_dir, pred_dir)
    with_file = len(folder.papers) - folder.missing
    metrics = score_papers(
        folder.scored(protocol),
        protocol=protocol,
        title_threshold=title_threshold,
        item_threshold=item_threshold,
    )
    return {
        "protocol": protocol.name,
        "papers": metrics.pop("papers"),
        "missing_predictions": folder.missing,
        "invalid_predictions": folder.invalid,
        "extra_predictions": folder.extra,
        "json_valid_rate": round((with_file - folder.invalid) / with_file, 4) if with_file else 0.0,
        **metrics,
    }


def print_table(metrics: Mapping[str, Any], title: str = "Scores") -> None:
    """A short table of dataset identification and per-field scores (rich is only needed here)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in ("", "P", "R", "F1", "TP", "FP", "FN", "both empty"):
        table.add_column(column, justify="left" if not column else "right")
    rows = [("datasets", metrics["datasets"]), *metrics["fields"].items()]
    for name, row in rows:
        table.add_row(
            name,
            *(f"{row[key]:.3f}" for key in ("precision", "recall", "f1")),
            *(str(row[key]) for key in ("tp", "fp", "fn")),
            str(row.get("both_empty", "")),
            end_section=name == "datasets",
        )
    notes = ("papers", "fields_macro_f1", "missing_predictions", "invalid_predictions", "json_valid_rate")
    table.caption = ", ".join(f"{key} {metrics[key]}" for key in notes if key in metrics)
    Console().print(table)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gold", type=Path, required=True, help="gold folder (<Topic>/paper_N.json)")
    parser.add_argument("--pred", type=Path, required=True, help="prediction folder, same layout")
    parser.add_argument("--out", type=Path, required=True, help="metrics JSON to write")
    parser.add_argument(
        "--protocol",
        choices=sorted(PROTOCOLS),
        default=STRICT.name,
        help="strict (default): every gold paper, title rules, threshold 85; metamine: as MetaMine's "
        "published table (papers with predictions only, lenient titles); see docs/scoring.md",
    )
    parser.add_argument(
        "--title-threshold", type=float, help="fuzzy title match, 0-100 (default: the protocol's)"
    )
    parser.add_argument("--item-threshold", type=float, default=90, help="fuzzy list item match, 0-100")


def run(args: argparse.Namespace) -> int:
    """Score a prediction folder against a gold folder; an unreadable gold file exits 1 with one line."""
    metrics = score_dirs(
        args.gold,
        args.pred,
        protocol=args.protocol,
        title_threshold=args.title_threshold,
        item_threshold=args.item_threshold,
    )
    write_json(args.out, metrics)  # atomic: temporary sibling, then os.replace
    print_table(metrics, title=f"{args.pred} vs {args.gold} ({args.protocol} protocol)")
    return 0


@cli_entry
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m paperdcat.scoring.score", description=__doc__.split("\n")[0]
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
