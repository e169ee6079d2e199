"""`paperdcat extract` on the tiny model: PDFs, texts and a corpus JSONL in; MetaMine-layout JSON, a DCAT
graph, errors and a summary out; exit codes; reruns; shards."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import RDF, Graph, Namespace

from paperdcat.corpus.generated import generate_corpus
from paperdcat.corpus.render import render_pdf
from paperdcat.dcat.command import load_folder
from paperdcat.extraction import pipeline
from paperdcat.extraction.generation import Batch
from paperdcat.extraction.parse import format_answer
from paperdcat.extraction.settings import ExtractionSettings, architecture_of, save_settings
from paperdcat.io import write_jsonl
from paperdcat.schema import metamine_record
from paperdcat.scoring.score import score_dirs

REPO = Path(__file__).resolve().parents[1]
DCAT = Namespace("http://www.w3.org/ns/dcat#")


@pytest.fixture(scope="module")
def papers() -> list[dict]:
    return generate_corpus(6, seed=3)


@pytest.fixture(scope="module")
def adapter_dir(tmp_path_factory, tiny_model_dir) -> Path:
    """A LoRA adapter of the tiny model (random, non-zero B) with its extraction settings beside it."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    config = LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    folder = tmp_path_factory.mktemp("adapter")
    get_peft_model(base, config).save_pretrained(folder)
    settings = ExtractionSettings(base_model="tiny", architecture=architecture_of(base.config))
    save_settings(settings, folder)
    return folder


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, papers) -> Path:
    """``Topic_A/`` with a one- and a two-column PDF, ``Topic_B/`` with a .txt and a corrupt PDF."""
    root = tmp_path_factory.mktemp("papers")
    (root / "Topic_A").mkdir()
    (root / "Topic_B").mkdir()
    render_pdf(papers[0], root / "Topic_A/paper_1.pdf", columns=1)
    render_pdf(papers[1], root / "Topic_A/paper_2.pdf", columns=2)
    (root / "Topic_B/paper_3.txt").write_text(papers[2]["text"], encoding="utf-8")
    (root / "Topic_B/paper_4.pdf").write_bytes(b"%PDF-1.7\n1 0 obj <<>> garbage")
    return root


def extract_cli(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "paperdcat.extract", *map(str, args)]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def tiny_args(tiny_model_dir: Path, adapter_dir: Path) -> list[str | Path]:
    return ["--base", tiny_model_dir, "--adapter", adapter_dir, "--max-new-tokens", "12", "--batch-size", "2"]


def test_extract_mirrors_the_layout_and_writes_graph_errors_and_summary(
    tmp_path, inputs, tiny_model_dir, adapter_dir
):
    out = tmp_path / "out"
    result = extract_cli(inputs, "--out", out, *tiny_args(tiny_model_dir, adapter_dir), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = sorted(path.relative_to(out).as_posix() for path in out.rglob("paper_*.json"))
    assert written == ["Topic_A/paper_1.json", "Topic_A/paper_2.json", "Topic_B/paper_3.json"]
    for path in out.rglob("paper_*.json"):
        assert isinstance(json.loads(path.read_text()), list)
    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    assert [(e["key"], e["reason"]) for e in errors] == [("Topic_B/paper_4", "corrupt")]
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["papers"], summary["extracted"], summary["failures"]) == (4, 3, 1)
    assert summary["s_per_paper"]["read"] > 0 and summary["s_per_paper"]["generate"] > 0
    assert summary["precision"] == "fp32"  # --precision auto, on a CPU
    graph = Graph().parse(out / "catalog.ttl")
    assert len(set(graph.subjects(RDF.type, DCAT.Dataset))) == summary["datasets"]
    assert len(Graph().parse(out / "catalog.jsonld", format="json-ld")) == len(graph)
    assert not list(out.rglob(".*"))  # no temporary file left behind

    again = extract_cli(inputs, "--out", out, *tiny_args(tiny_model_dir, adapter_dir), cwd=tmp_path)
    assert again.returncode == 0
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["extracted"], summary["skipped_existing"], summary["failures"]) == (0, 3, 1)
    forced = extract_cli(
        inputs, "--out", out, "--force", "--precision", "bf16", *tiny_args(tiny_model_dir, adapter_dir)
    )
    assert forced.returncode == 0
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["extracted"], summary["precision"]) == (3, "bf16")


@pytest.mark.parametrize(
    ("make_args", "message"),
    [
        (lambda tmp, model, adapter: [tmp / "missing.pdf"], "missing.pdf"),
        (lambda tmp, model, adapter: [tmp / "empty"], "empty"),
        (lambda tmp, model, adapter: [tmp / "in", "--adapter", tmp / "nowhere"], "--adapter"),
        (lambda tmp, model, adapter: [tmp / "in", "--shard", "3/2"], "--shard"),
        (lambda tmp, model, adapter: [tmp / "in", "--model", tmp / "nowhere"], "--model"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(tmp_path, tiny_model_dir, adapter_dir, make_args, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "in").mkdir()
    (tmp_path / "in/a.txt").write_text("A paper about ImageNet.")
    args = make_args(tmp_path, tiny_model_dir, adapter_dir)
    defaults = ["--base", tiny_model_dir, "--adapter", adapter_dir]
    result = extract_cli(*args[:1], "--out", tmp_path / "out", *defaults, *args[1:])
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


def test_all_papers_failing_exits_1(tmp_path, tiny_model_dir, adapter_dir):
    (tmp_path / "bad.pdf").write_bytes(b"not a pdf at all")
    result = extract_cli(
        tmp_path / "bad.pdf", "--out", tmp_path / "out", *tiny_args(tiny_model_dir, adapter_dir)
    )
    assert result.returncode == 1
    assert json.loads((tmp_path / "out/errors.jsonl").read_text())["reason"] == "corrupt"


def test_adapter_of_another_base_is_refused(tmp_path, tiny_model_dir, adapter_dir):
    other = dict(json.loads((adapter_dir / "paperdcat.json").read_text()))
    other["architecture"] = {**other["architecture"], "hidden_size": 64}
    mismatched = tmp_path / "adapter"
    mismatched.mkdir()
    for path in adapter_dir.iterdir():
        (mismatched / path.name).write_bytes(path.read_bytes())
    (mismatched / "paperdcat.json").write_text(json.dumps(other))
    (tmp_path / "a.txt").write_text("We train on ImageNet.")
    result = extract_cli(
        tmp_path / "a.txt", "--out", tmp_path / "out", "--base", tiny_model_dir, "--adapter", mismatched
    )
    assert result.returncode == 2
    assert "hidden_size 64 vs 32" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_shards_partition_the_papers_without_colliding(tmp_path, papers, tiny_model_dir, adapter_dir):
    corpus = tmp_path / "corpus.jsonl"
    write_jsonl(corpus, papers)
    out = tmp_path / "out"
    for k in range(2):
        result = extract_cli(
            corpus, "--out", out, "--shard", f"{k}/2", *tiny_args(tiny_model_dir, adapter_dir)
        )
        assert result.returncode == 0, result.stderr
    assert sorted(p.stem for p in out.glob("*.json") if p.stem.startswith("gen")) == sorted(
        p["paper_id"] for p in papers
    )
    summaries = [json.loads((out / f"summary.{k}-of-2.json").read_text()) for k in range(2)]
    assert sum(s["extracted"] for s in summaries) == len(papers)
    assert (out / "catalog.0-of-2.ttl").is_file() and (out / "catalog.1-of-2.ttl").is_file()


def test_each_answer_lands_in_its_own_papers_file_and_scores_and_graphs_back(
    tmp_path, monkeypatch, papers, tiny_model_dir, adapter_dir
):
    """Generation replaced by each paper's gold answer (recognised from its context): the files must hold
    exactly their own paper's datasets, score F1 1 against gold, and give one graph node per dataset."""
    by_title = {p["text"].splitlines()[0]: format_answer(p["datasets"]) for p in papers}

    def gold_batches(model, tokenizer, contexts, max_new_tokens, batch_size, system_prompt):
        order = sorted(range(len(contexts)), key=lambda i: len(contexts[i]))  # not the input order
        for start in range(0, len(order), batch_size):
            indices = order[start : start + batch_size]
            answers = [by_title[contexts[i].splitlines()[0]] for i in indices]
            yield Batch(indices, answers, [1] * len(indices))

    monkeypatch.setattr(pipeline, "generate_batches", gold_batches)
    corpus = tmp_path / "corpus.jsonl"
    write_jsonl(corpus, papers)
    options = pipeline.ExtractOptions(
        inputs=[corpus], out=tmp_path / "out", base=str(tiny_model_dir), adapter=adapter_dir, batch_size=4
    )
    summary = pipeline.extract(options)
    gold = tmp_path / "gold"
    for paper in papers:
        gold.mkdir(exist_ok=True)
        records = [metamine_record(d) for d in paper["datasets"]]
        (gold / f"{paper['paper_id']}.json").write_text(json.dumps(records))
        assert json.loads((tmp_path / "out" / f"{paper['paper_id']}.json").read_text()) == records
    metrics = score_dirs(gold, tmp_path / "out")
    assert metrics["datasets"]["f1"] == 1.0
    total = sum(len(p["datasets"]) for p in papers)
    assert summary["datasets"] == total
    graph = Graph().parse(tmp_path / "out/catalog.ttl")
    assert len(set(graph.subjects(RDF.type, DCAT.Dataset))) == total
    folder, skipped = load_folder(tmp_path / "out")  # what `paperdcat rdf` reads: papers, not summary.json
    assert sorted(key for key, _ in folder) == sorted(p["paper_id"] for p in papers) and not skipped


def test_rate_column_shows_papers_per_second_after_one_slow_batch() -> None:
    """A batch of 16 papers may take a minute: the rate must show from the first batch on."""
    from rich.progress import Progress

    from paperdcat.progress import RateColumn

    progress = Progress(RateColumn("papers"), auto_refresh=False)
    task_id = progress.add_task("extracting", total=32)
    task = progress.tasks[0]
    assert str(RateColumn("papers").render(task)) == ""
    task.start_time = task.get_time() - 64.0  # one batch of 16 papers took 64 s
    progress.update(task_id, advance=16)
    assert str(RateColumn("papers").render(task)) == "0.25 papers/s"
