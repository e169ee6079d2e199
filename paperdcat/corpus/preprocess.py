"""Clean papers, build their model contexts, and split them deterministically into train/val/test."""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence
from typing import Any

from paperdcat.extraction.context import (
    clean_text,
    creator_evidence_recall,
    evidence_recall,
    head_context,
    mention_counts,
    mentioned_in_text,
    paper_context,
    token_counter,
)
from paperdcat.params import PreprocessParams, SplitParams
from paperdcat.progress import track

SPLITS = ("train", "val", "test")


def split_papers(papers: Sequence[dict], seed: int, ratios: SplitParams) -> dict[str, list[dict]]:
    """Shuffle by ``seed`` and cut by the ratios; the test split gets at least one paper."""
    order = list(papers)
    random.Random(seed).shuffle(order)
    n_train = round(len(order) * ratios.train)
    n_val = round(len(order) * ratios.val)
    n_train = min(n_train, max(len(order) - n_val - 1, 0))
    return {
        "train": order[:n_train],
        "val": order[n_train : n_train + n_val],
        "test": order[n_train + n_val :],
    }


def split_by_source(records: Sequence[dict], seed: int, ratios: SplitParams) -> dict[str, list[dict]]:
    """``split_papers`` on each source's records (``"source"``; untagged records are one source), the
    splits concatenated in the order the sources first appear.

    Each source keeps its share of every split, and its test papers are exactly those of a run on that
    source alone (the shuffle depends only on the seed and the number of papers), so that runs on mixed
    and on single sources are scored on the same papers. With one source this is ``split_papers``.
    """
    groups: dict[str | None, list[dict]] = {}
    for record in records:
        groups.setdefault(record.get("source"), []).append(record)
    if len(groups) <= 1:
        return split_papers(records, seed, ratios)
    splits: dict[str, list[dict]] = {name: [] for name in SPLITS}
    for group in groups.values():
        for name, part in split_papers(group, seed, ratios).items():
            splits[name] += part
    return splits


def count_by_source(splits: dict[str, list[dict]]) -> dict[str, dict[str, int]]:
    """Papers per source and split, for records tagged with their source (empty for untagged ones)."""
    counts: dict[str, dict[str, int]] = {}
    for name in SPLITS:
        for record in splits[name]:
            if "source" in record:
                per_split = counts.setdefault(record["source"], dict.fromkeys(SPLITS, 0))
                per_split[name] += 1
    return counts


def build_contexts(
    papers: Sequence[dict], tokenizer, params: PreprocessParams
) -> tuple[list[dict], dict[str, Any]]:
    """Return processed records and statistics, including the evidence recall of ``params.strategy`` and
    of the first-N-tokens baseline (``*_head``).

    Each record says whether all its gold datasets are mentioned in the full text (``datasets_mentioned``),
    so that evaluate can also score over the papers whose evidence exists at all.
    """

    count_tokens = token_counter(tokenizer)
    gold = [paper["datasets"] for paper in papers]
    named, records, heads = [], [], []
    for paper in track(papers, "building contexts"):
        text = clean_text(paper["text"])
        found = mentioned_in_text(paper["datasets"], text)
        head = head_context(text, params.max_context_tokens, tokenizer)
        context = head if params.strategy == "head" else paper_context(text, tokenizer, params)
        records.append(
            {
                "paper_id": paper["paper_id"],
                **({"source": paper["source"]} if "source" in paper else {}),
                "context": context,
                "datasets": paper["datasets"],
                "datasets_mentioned": len(found) == len(paper["datasets"]),
            }
        )
        named.append(found)
        heads.append(head)
    contexts = [record["context"] for record in records]
    lengths = count_tokens(contexts)
    stats = {
        "context_tokens_mean": round(statistics.fmean(lengths), 1),
        "context_tokens_max": max(lengths),
        "paper_tokens_mean": round(statistics.fmean(count_tokens([p["text"] for p in papers])), 1),
        "evidence_recall": evidence_recall(contexts, gold),
        "evidence_recall_head": evidence_recall(heads, gold),
        "evidence_recall_of_mentioned": evidence_recall(contexts, named),
        "evidence_recall_of_mentioned_head": evidence_recall(heads, named),
        "creator_evidence_recall": creator_evidence_recall(contexts, gold),
        "creator_evidence_recall_head": creator_evidence_recall(heads, gold),
        "papers_without_datasets": sum(not datasets for datasets in gold),
        "text_mentions": mention_counts(gold, named),
    }
    return records, stats
