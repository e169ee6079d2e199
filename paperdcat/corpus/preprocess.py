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
