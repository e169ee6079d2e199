"""``paperdcat extract INPUT... --out DIR``: run a trained adapter on PDFs, texts or a corpus JSONL.

Exit status: 0 when at least one paper has its JSON (extracted now or kept from an earlier run), 1 when
every paper failed, 2 for bad arguments (missing input, empty folder, unknown adapter or model)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from paperdcat.extraction.pipeline import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_NEW_TOKENS,
    BadArguments,
    ExtractOptions,
    extract,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "inputs", nargs="+", type=Path, metavar="INPUT", help="PDF/.txt files, folders, a .jsonl"
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder (mirrors the input layout)")
    parser.add_argument("--base", default="models/base", help="base model folder or hub id (models/base)")
    parser.add_argument("--adapter", type=Path, default=Path("models/adapter"), help="LoRA adapter folder")
    parser.add_argument("--model", help="a merged model folder or hub id instead of --base and --adapter")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="papers per batch")
    parser.add_argument(
        "--max-new-tokens", type=int, default=DEFAULT_MAX_NEW_TOKENS, help="answer length cap"
    )
    parser.add_argument(
        "--precision",
        choices=["auto", "fp32", "bf16"],
        default="auto",
        help="generation dtype; auto: bf16 on a GPU, fp32 on a CPU",
    )
    parser.add_argument("--shard", metavar="K/N", help="take every N-th paper from K (0 <= K < N)")
    parser.add_argument("--force", action="store_true", help="redo papers whose JSON exists")
    parser.add_argument("--base-iri", help="namespace of the graph's IRIs")
    parser.add_argument(
        "--merge-datasets", action="store_true", help="one graph node per dataset title across papers"
    )
    parser.add_argument("--validate", action="store_true", help="check the graph against DCAT-AP 3 SHACL")


def run(args: argparse.Namespace) -> int:
    if args.batch_size < 1 or args.max_new_tokens < 1:
        print("error: --batch-size and --max-new-tokens must be at least 1", file=sys.stderr)
        return 2
    options = ExtractOptions(
        inputs=args.inputs,
        out=args.out,
        base=args.base,
        adapter=args.adapter,
        model=args.model,
        batch_size=args.batch_size,
        max_new_tokens=args.max_new_tokens,
        precision=args.precision,
        shard=args.shard,
        force=args.force,
        base_iri=args.base_iri,
        merge_datasets=args.merge_datasets,
        validate=args.validate,
    )
    try:
        summary = extract(options)
    except BadArguments as error:  # any other PaperdcatError: paperdcat.cli.main prints it, exit 1
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(
        f"{args.out}: {summary['extracted']} extracted, {summary['skipped_existing']} kept, "
        f"{summary['failures']} failed; {summary['datasets']} datasets; "
        f"s/paper: {summary['s_per_paper']['read']} reading, {summary['s_per_paper']['context']} context, "
        f"{summary['s_per_paper']['generate']} generating"
    )
    if "shacl" in summary:
        print(f"SHACL: conforms {summary['shacl']['conforms']}")
    succeeded = summary["extracted"] + summary["skipped_existing"]
    return 1 if summary["failures"] and not succeeded else 0
