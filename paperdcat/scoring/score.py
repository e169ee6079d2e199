"""Score extracted DCAT records against gold: which datasets were found, and how well each field was filled.

Per paper, predicted datasets are matched one-to-one to gold datasets by title (exact normalised matches
first, then an optimal assignment over fuzzy similarity at least ``title_threshold``; a gold dataset's
``aliases`` count as further titles). Dataset identification is scored on the matches, each field on the
matched pairs, and counts are summed over papers (micro averages). A field is scored for a pair only when
the gold dataset has the key: an absent key means the source does not annotate the field, while an empty
value means the paper does not state it. Where both sides are empty the pair counts as ``both_empty``,
reported apart from precision and recall.

Decisions beyond that:

- A record whose every field is empty is no dataset (a model's "nothing found" placeholder): it is neither
  counted nor matched. A title that normalises to the empty string never matches.
- Repeated predicted titles (a model stuck in a loop) match at most once, the copies are false positives;
  only when gold itself lists k datasets under one title may k copies of it match.

Command line, for the MetaMine layout ``<Topic>/paper_N.json`` (one JSON list of dataset objects per
paper)::

    python -m paperdcat.scoring.score --gold GOLD_DIR --pred PRED_DIR --out metrics.json

The gold files define the paper set. A paper whose prediction file is missing is scored as an empty
prediction, so all its gold datasets are false negatives, and counted in ``missing_predictions``: a model
that produced nothing for a paper must not be scored as if the paper did not exist, and the count says how
much of a low recall is due to absent files. A prediction file that is not JSON, or whose JSON is neither a
list nor a single object, is scored the same way and counted in ``invalid_predictions``;
``json_valid_rate`` is the valid share of the papers that have a prediction file. Prediction files with no
gold file are ignored and counted in ``extra_predictions``. A gold file that cannot be read is an error
(exit code 1).
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import astuple, dataclass, field
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


# ---------------------------------------------------------------------------------------------- matching


Pairs = list[tuple[int, int]]


def _assign(weights: np.ndarray, valid: np.ndarray, rows: list[int], cols: list[int]) -> Pairs:
    """Maximum-weight one-to-one assignment restricted to ``valid`` cells, mapped back to row/col ids."""
    if not rows or not cols or not valid.any():
        return []
    chosen_rows, chosen_cols = linear_sum_assignment(np.where(valid, weights, 0.0), maximize=True)
    return [(rows[r], cols[c]) for r, c in zip(chosen_rows, chosen_cols, strict=True) if valid[r, c]]


def _one_to_one(
    gold_names: Sequence[Sequence[str]],
    preds: Sequence[str],
    threshold: float,
    eligible: Sequence[bool] | None = None,
) -> Pairs:
    """Match normalised predicted strings to gold items, each known by one or more normalised names.

    Exact matches are assigned first; the rest by an optimal assignment over the best fuzzy similarity
    (token sort ratio, 0-100) to any of a gold item's names, at least ``threshold``. Empty strings never
    match. Returns ``(gold_index, pred_index)`` pairs.
    """
    names = [sorted({name for name in item if name}) for item in gold_names]
    free_gold = [i for i, item in enumerate(names) if item]
    free_pred = [j for j, pred in enumerate(preds) if pred and (eligible is None or eligible[j])]
    if not free_gold or not free_pred:
        return []

    exact = np.array([[preds[j] in names[i] for j in free_pred] for i in free_gold])
    pairs = _assign(exact.astype(float), exact, free_gold, free_pred)
    matched_gold, matched_pred = {i for i, _ in pairs}, {j for _, j in pairs}
    free_gold = [i for i in free_gold if i not in matched_gold]
    free_pred = [j for j in free_pred if j not in matched_pred]
    if free_gold and free_pred:
        flat = [name for i in free_gold for name in names[i]]
        starts = np.cumsum([0] + [len(names[i]) for i in free_gold[:-1]])
        similarity = process.cdist([preds[j] for j in free_pred], flat, scorer=fuzz.token_sort_ratio)
        best = np.maximum.reduceat(similarity, starts, axis=1).T  # gold x pred
        pairs += _assign(best, best >= threshold, free_gold, free_pred)
    return sorted(pairs)


def _title_names(record: Mapping[str, Any]) -> list[str]:
    return [normalize(record.get(TITLE) or "")] + [normalize(alias) for alias in record.get(ALIASES, [])]


def _match_records(
    gold: Sequence[Mapping[str, Any]], pred: Sequence[Mapping[str, Any]], title_threshold: float
) -> Pairs:
    gold_names = [_title_names(record) for record in gold]
    pred_titles = [normalize(record.get(TITLE) or "") for record in pred]
    seen: Counter[str] = Counter()
    eligible = []
    for title in pred_titles:
        seen[title] += 1
        eligible.append(seen[title] <= max(1, sum(title in names for names in gold_names)))
    return _one_to_one(gold_names, pred_titles, title_threshold, eligible)


def match_datasets(
    gold: Sequence[Mapping[str, Any]], pred: Sequence[Mapping[str, Any]], title_threshold: float = 85
) -> Pairs:
    """Match predicted to gold datasets one-to-one by title; ``(gold_index, pred_index)`` pairs, sorted."""
    return _match_records(
        [coerce_dataset(d, fill_missing=False) for d in gold],
        [coerce_dataset(d, fill_missing=True) for d in pred],
        title_threshold,
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
        return Counts(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

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


def score_field(field_name: str, gold: Any, pred: Any, item_threshold: float = 90) -> Counts:
    """Counts for one field of one matched pair (``pairs`` = 1)."""
    if field_name in LIST_FIELDS:
        gold_items = [item for item in map(normalize, gold or []) if item]
        pred_items = [item for item in map(normalize, pred or []) if item]
        if not gold_items and not pred_items:
            return Counts(both_empty=1, pairs=1)
        tp = len(_one_to_one([[item] for item in gold_items], pred_items, item_threshold))
        return Counts(tp=tp, fp=len(pred_items) - tp, fn=len(gold_items) - tp, pairs=1)
    gold_key, pred_key = _scalar_key(field_name, gold), _scalar_key(field_name, pred)
    if not gold_key and not pred_key:
        return Counts(both_empty=1, pairs=1)
    if gold_key and pred_key and _scalar_equal(field_name, gold_key, pred_key):
        return Counts(tp=1, pairs=1)
    return Counts(fp=int(bool(pred_key)), fn=int(bool(gold_key)), pairs=1)


def _is_blank(record: Mapping[str, Any]) -> bool:
    return all(is_empty(value) for value in record.values())


def score_paper(
    gold: Sequence[Mapping[str, Any]],
    pred: Sequence[Mapping[str, Any]],
    *,
    title_threshold: float = 85,
    item_threshold: float = 90,
) -> PaperScore:
    """Score one paper's predicted datasets against its gold datasets (loosely typed dicts are coerced)."""
    gold_records = [coerce_dataset(d, fill_missing=False) for d in gold]
    pred_records = [coerce_dataset(d, fill_missing=True) for d in pred]
    pairs = _match_records(gold_records, pred_records, title_threshold)
    n_gold = sum(not _is_blank(record) for record in gold_records)
    n_pred = sum(not _is_blank(record) for record in pred_records)
    fields = {name: Counts() for name in DCAT_FIELDS}
    for i, j in pairs:
        gold_record, pred_record = gold_records[i], pred_records[j]
        for name in DCAT_FIELDS:
            if name in gold_record:
                fields[name] += score_field(name, gold_record[name], pred_record[name], item_threshold)
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
    title_threshold: float = 85,
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
        paper = score_paper(gold, pred, title_threshold=title_threshold, item_threshold=item_threshold)
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


def score_dirs(
    gold_dir: Path | str, pred_dir: Path | str, *, title_threshold: float = 85, item_threshold: float = 90
) -> dict[str, Any]:
    """Score a folder of prediction files against a folder of gold files with the same relative paths.

    Returns ``score_papers``'s metrics plus ``missing_predictions``, ``invalid_predictions``,
    ``extra_predictions`` and ``json_valid_rate``. Raises ``PaperdcatError`` for an unreadable gold file.
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
        gold = _load_gold(gold_dir / relative)
        pred = None
        if not (pred_dir / relative).is_file():
            missing += 1
        elif (pred := read_dataset_objects(pred_dir / relative)) is None:
            invalid += 1
        papers.append((gold, pred or []))
    with_file = len(gold_files) - missing
    extra = {path.relative_to(pred_dir) for path in pred_dir.rglob("*.json") if path.is_file()}
    metrics = score_papers(papers, title_threshold=title_threshold, item_threshold=item_threshold)
    return {
        "papers": metrics.pop("papers"),
        "missing_predictions": missing,
        "invalid_predictions": invalid,
        "extra_predictions": len(extra - set(gold_files)),
        "json_valid_rate": round((with_file - invalid) / with_file, 4) if with_file else 0.0,
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
    parser.add_argument("--title-threshold", type=float, default=85, help="fuzzy title match, 0-100")
    parser.add_argument("--item-threshold", type=float, default=90, help="fuzzy list item match, 0-100")


def run(args: argparse.Namespace) -> int:
    """Score a prediction folder against a gold folder; an unreadable gold file exits 1 with one line."""
    metrics = score_dirs(
        args.gold, args.pred, title_threshold=args.title_threshold, item_threshold=args.item_threshold
    )
    write_json(args.out, metrics)  # atomic: temporary sibling, then os.replace
    print_table(metrics, title=f"{args.pred} vs {args.gold}")
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
