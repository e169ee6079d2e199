"""Extraction on users' papers: inputs in, one MetaMine-layout JSON per paper, a DCAT graph and a summary out.

The same context builder, prompt and batched generation as evaluate (``paper_context``, ``generate_batches``),
with the settings the adapter was trained with (``paperdcat.json`` beside it), so a pulled adapter needs no
params.yaml. Each paper's JSON is written atomically as soon as its batch is done; a rerun skips papers whose
JSON exists. With ``shard`` (``K/N``) a run takes every N-th paper from K, and its summary, errors and graph
carry the shard in their names, so that N runs on N machines share one output folder without colliding.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paperdcat.errors import PaperdcatError
from paperdcat.extraction.context import clean_text, paper_context
from paperdcat.extraction.generation import generate_batches, load_model, precision_name, with_adapter
from paperdcat.extraction.inputs import RUN_FILES, PaperInput, discover_inputs, parse_shard, shard
from paperdcat.extraction.parse import parse_answer
from paperdcat.extraction.pdf import UnreadablePaper, paper_text
from paperdcat.extraction.settings import (
    ExtractionSettings,
    architecture_of,
    check_base,
    load_settings,
)
from paperdcat.io import read_json, write_json, write_text
from paperdcat.models import hub_reachable, looks_like_path
from paperdcat.params import Precision
from paperdcat.progress import progress_bar

DEFAULT_BATCH_SIZE = 16
DEFAULT_MAX_NEW_TOKENS = 320


class BadArguments(PaperdcatError):
    """A command-line argument names no usable input, adapter or model (exit status 2)."""


@dataclass
class ExtractOptions:
    inputs: Sequence[Path]
    out: Path
    base: str = "models/base"
    adapter: Path | None = Path("models/adapter")
    model: str | None = None  # a hub id or merged model folder instead of base + adapter
    batch_size: int = DEFAULT_BATCH_SIZE
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    precision: Precision = "auto"  # generation dtype (inference_device_and_dtype)
    shard: str | None = None
    force: bool = False
    base_iri: str | None = None
    merge_datasets: bool = False
    validate: bool = False


@dataclass
class RunTotals:
    extracted: int = 0
    failed: int = 0
    valid: int = 0
    repaired: int = 0
    read_s: float = 0.0  # PDF or text to clean text
    context_s: float = 0.0  # the context builder
    generate_s: float = 0.0
    new_tokens: int = 0
    precision: str | None = None  # the generation dtype; None when no paper needed the model
    errors: list[dict[str, str]] = field(default_factory=list)


def run_suffix(spec: str | None) -> str:
    """``""`` for a whole run, ``".2-of-4"`` for shard 2/4: the shard's summary, errors and graph names."""
    if not spec:
        return ""
    index, count = parse_shard(spec)
    return f".{index}-of-{count}"


def check_model_spec(flag: str, spec: str) -> None:
    """A local folder must hold a model; a hub id needs the hub. Otherwise one BadArguments line."""
    if looks_like_path(spec):
        if not (Path(spec).expanduser() / "config.json").is_file():
            raise BadArguments(f"{flag} {spec}: no model folder there (config.json not found)")
    elif not hub_reachable():
        raise BadArguments(f"{flag} {spec}: a Hugging Face hub id, but the hub is unreachable (offline)")


def load_extractor(options: ExtractOptions):
    """(model, tokenizer, settings) for ``--model`` or ``--base`` + ``--adapter``; a missing or mismatched
    adapter is a BadArguments line."""
    from transformers import AutoConfig
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # the run has its own bar; stderr keeps to error lines
    transformers_logging.set_verbosity_error()
    if options.model:
        check_model_spec("--model", options.model)
        folder = Path(options.model).expanduser()
        settings = (load_settings(folder) if folder.is_dir() else None) or ExtractionSettings()
        model, tokenizer = load_model(options.model, options.precision)
        return model, tokenizer, settings
    adapter = options.adapter
    if adapter is None or not (adapter / "adapter_config.json").is_file():
        raise BadArguments(
            f"--adapter {adapter}: no adapter there (adapter_config.json not found); "
            "run `dvc pull models/adapter` or `dvc repro train`, or pass --model"
        )
    settings = load_settings(adapter)
    if settings is None:
        raise BadArguments(
            f"--adapter {adapter}: no paperdcat.json beside the adapter (trained before extraction "
            "settings were saved); retrain it with `dvc repro train`"
        )
    check_model_spec("--base", options.base)
    try:  # from the config alone, before any weight is loaded
        check_base(settings, architecture_of(AutoConfig.from_pretrained(options.base)), adapter, options.base)
    except PaperdcatError as error:
        raise BadArguments(str(error)) from None
    model, tokenizer = load_model(options.base, options.precision)
    return with_adapter(model, adapter), tokenizer, settings


def select_papers(options: ExtractOptions) -> list[PaperInput]:
    try:
        papers = discover_inputs(list(options.inputs))
        if options.shard:
            papers = shard(papers, options.shard)
    except PaperdcatError as error:
        raise BadArguments(str(error)) from None
    reserved = [p.key for p in papers if p.key in RUN_FILES]
    if reserved:
        raise BadArguments(
            f"{reserved[0]}: a paper may not be named like a run file ({', '.join(RUN_FILES)})"
        )
    return papers


def output_path(out: Path, paper: PaperInput) -> Path:
    return out / f"{paper.key}.json"


def read_text(paper: PaperInput) -> str:
    """The cleaned text of a PDF, a .txt or a corpus record; UnreadablePaper when there is none."""
    text = clean_text(paper.text) if paper.text is not None else paper_text(paper.source)
    if not text.strip():
        raise UnreadablePaper(paper.source, "empty")
    return text


def extract(options: ExtractOptions) -> dict[str, Any]:
    """Run extraction; return the summary (also written to ``<out>/summary<shard>.json``)."""
    papers = select_papers(options)
    todo = [p for p in papers if options.force or not output_path(options.out, p).is_file()]
    totals = RunTotals()
    started = time.perf_counter()
    if todo:
        model, tokenizer, settings = load_extractor(options)
        totals.precision = precision_name(model)
        with progress_bar("papers") as progress:
            reading = progress.add_task("reading", total=len(todo))
            contexts: list[str] = []
            readable: list[PaperInput] = []
            for paper in todo:
                start = time.perf_counter()
                try:
                    text = read_text(paper)
                except UnreadablePaper as error:
                    totals.failed += 1
                    totals.errors.append(
                        {"path": str(paper.source), "key": paper.key, "reason": error.reason}
                    )
                    text = None
                totals.read_s += time.perf_counter() - start
                if text is not None:
                    start = time.perf_counter()
                    contexts.append(paper_context(text, tokenizer, settings.context))
                    readable.append(paper)
                    totals.context_s += time.perf_counter() - start
                progress.advance(reading)
            extracting = progress.add_task("extracting", total=len(readable))
            start = time.perf_counter()
            batches = generate_batches(
                model, tokenizer, contexts, options.max_new_tokens, options.batch_size, settings.system_prompt
            )
            for batch in batches:
                for index, answer in zip(batch.indices, batch.answers, strict=True):
                    parsed = parse_answer(answer)  # its datasets are MetaMine records already
                    write_text(
                        output_path(options.out, readable[index]),
                        json.dumps(parsed.datasets, indent=2, ensure_ascii=False) + "\n",
                    )
                    totals.extracted += 1
                    totals.valid += parsed.valid
                    totals.repaired += parsed.repaired
                totals.new_tokens += sum(batch.new_tokens)
                progress.advance(extracting, len(batch.indices))
            totals.generate_s = time.perf_counter() - start
    return finish_run(options, papers, todo, totals, time.perf_counter() - started)


def finish_run(
    options: ExtractOptions,
    papers: Sequence[PaperInput],
    todo: Sequence[PaperInput],
    totals: RunTotals,
    seconds: float,
) -> dict[str, Any]:
    """Errors, the DCAT graph of every paper of this run that has a JSON (new or kept), and the summary."""
    from paperdcat.dcat.graph import DEFAULT_BASE_IRI, build_graph, write_catalog

    suffix = run_suffix(options.shard)
    out = options.out
    write_text(out / f"errors{suffix}.jsonl", "".join(json.dumps(row) + "\n" for row in totals.errors))
    done = [(p.key, read_json(output_path(out, p))) for p in papers if output_path(out, p).is_file()]
    graph, rdf_stats = build_graph(
        done, base_iri=options.base_iri or DEFAULT_BASE_IRI, merge_datasets=options.merge_datasets
    )
    write_catalog(graph, out / f"catalog{suffix}.ttl", out / f"catalog{suffix}.jsonld")
    processed = max(totals.extracted, 1)
    summary: dict[str, Any] = {
        "papers": len(papers),
        "precision": totals.precision,
        "extracted": totals.extracted,
        "skipped_existing": len(papers) - len(todo),
        "failures": totals.failed,
        "datasets": sum(len(datasets) for _, datasets in done),
        "json_valid": totals.valid,
        "json_repaired": totals.repaired,
        "seconds": round(seconds, 2),
        "s_per_paper": {
            "read": round(totals.read_s / max(len(todo), 1), 4),
            "context": round(totals.context_s / processed, 4),
            "generate": round(totals.generate_s / processed, 3),
        },
        "generated_tokens_per_s": round(totals.new_tokens / totals.generate_s, 2) if totals.generate_s else 0,
        "rdf": rdf_stats,
        "shard": options.shard,
    }
    if options.validate:
        from paperdcat.dcat.shacl import validate

        summary["shacl"] = validate(graph)
    write_json(out / f"summary{suffix}.json", summary)
    return summary
