"""benchmarks/speed.py on a tiny run folder: one JSON with every row, speeds and ratios that agree, the
naive baseline doing the same greedy work as the project path, and llama.cpp rows with and without the
module."""

from __future__ import annotations

import shutil
import sys
import types
from pathlib import Path

import pytest
import yaml

from benchmarks import speed
from paperdcat.corpus.generated import generate_corpus
from paperdcat.extraction.parse import format_answer
from paperdcat.hardware import native_bf16_cpu
from paperdcat.io import read_json, read_jsonl, write_jsonl
from paperdcat.params import EvaluateParams

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, tiny_model_dir) -> Path:
    """What a finished dvc repro leaves that the benchmark reads: params, test papers, base, adapter and
    tokenized train/val splits."""
    from datasets import DatasetDict
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from paperdcat.extraction.prompt import tokenize_records

    run = tmp_path_factory.mktemp("run")
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["lora"]["rank"] = 4
    params["evaluate"]["precision"] = "fp32"  # the same rows on every CPU (bf16: its own test)
    (run / "params.yaml").write_text(yaml.safe_dump(params))
    records = [
        {"paper_id": p["paper_id"], "context": p["text"][:600], "datasets": p["datasets"]}
        for p in generate_corpus(8, seed=5)
    ]
    write_jsonl(run / "data/processed/test.jsonl", records[:4])
    shutil.copytree(tiny_model_dir, run / "models/base")
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    config = LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(base, config).save_pretrained(run / "models/adapter")
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    train, _ = tokenize_records(records[4:], tokenizer, 1024)
    val, _ = tokenize_records(records[:1], tokenizer, 1024)
    DatasetDict({"train": train, "val": val}).save_to_disk(str(run / "data/tokenized"))
    return run


@pytest.fixture
def torch_threads():
    """Restore torch's thread count after a test that sets it (--threads)."""
    import torch

    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_one_run_writes_every_row_with_ratios_to_its_baseline(run_dir, tmp_path, monkeypatch, torch_threads):
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # import fails, whether or not it is installed
    out = tmp_path / "speed.json"
    argv = ["--run", str(run_dir), "--max-papers", "3", "--max-new-tokens", "8", "--batch-sizes", "1", "2"]
    argv += ["--train-steps", "3", "--gguf", str(tmp_path / "model.gguf"), "--out", str(out)]
    argv += ["--threads", "1"]  # a tiny model on a busy machine: more threads only wait for each other
    returned = speed.main(argv)
    result = read_json(out)
    assert result == returned
    assert result["settings"] | {"run": None} == {
        "run": None,
        "models": ["base", "tuned"],
        "papers": 3,
        "max_new_tokens": 8,
        "batch_sizes": [1, 2],
        "train_steps": 3,
    }
    machine = result["machine"]
    assert machine["cpu_count"] >= 1 and machine["torch_threads"] == 1
    assert isinstance(machine["avx512_bf16"], bool) and machine["note"] == speed.NOTE

    rows = result["generation"]
    levers = [f"project batch 2, {off}" for off in ("no shared prefix", "no answer-end stop", "levers off")]
    precision = ["project batch 2, bf16"] if native_bf16_cpu() else []  # fp32 project, bf16 lever on
    names = ["naive pipeline", "project batch 1", "project batch 2", *levers, *precision, "llama.cpp"]
    assert [(row["model"], row["row"]) for row in rows] == [(m, n) for m in ("base", "tuned") for n in names]
    for model in ("base", "tuned"):
        naive, *project, llama = [row for row in rows if row["model"] == model]
        assert not llama["available"] and "llama_cpp is not installed" in llama["reason"]
        assert naive["speedup_vs_naive"] == 1.0
        for row in (naive, *project):
            assert row["papers"] == 3 and row["s_per_paper"] > 0 and row["tokens_per_s"] > 0
            assert 0 < row["generated_tokens_mean"] <= 8
            assert 0 <= row["dataset_f1"] <= 1 and 0 <= row["creator_f1"] <= 1
            assert row["s_per_paper"] == pytest.approx(row["seconds"] / 3, rel=1e-3)
            assert row["tokens_per_s"] == pytest.approx(
                row["generated_tokens_mean"] * 3 / row["seconds"], rel=0.05
            )
            assert row["speedup_vs_naive"] == pytest.approx(
                naive["s_per_paper"] / row["s_per_paper"], rel=1e-3
            )
        assert "answers" not in row
        # Greedy from the same prompt without padding: the pipeline does the project's batch-1 work.
        assert naive["same_answers_as_naive"] == project[0]["same_answers_as_naive"] == 1.0
        assert all(row["same_parse_as_naive"] == 1.0 for row in (naive, *project))
        assert naive["generated_tokens_mean"] == project[0]["generated_tokens_mean"]

    bare, all_logits, trainer = result["training"]
    assert [row["row"] for row in result["training"]] == ["bare loop", "bare loop, all logits", "Trainer"]
    for row in (bare, all_logits, trainer):
        assert (row["steps"], row["timed_steps"]) == (3, 2) and row["tokens_per_s"] > 0
        assert row["tokens_per_s"] == pytest.approx(row["timed_tokens"] / row["seconds"], rel=1e-3)
        assert row["ratio_vs_bare"] == pytest.approx(row["tokens_per_s"] / bare["tokens_per_s"], rel=1e-3)
        # The same LoRA initialisation, sequences in the same order, model and loss: the same first loss.
        assert row["lora_init"] == bare["lora_init"] and row["step_tokens"] == bare["step_tokens"]
        assert row["first_step_loss"] == pytest.approx(bare["first_step_loss"], abs=1e-3)
    assert bare["timed_tokens"] == trainer["timed_tokens"] > 0 and len(set(bare["step_tokens"])) == 3
    assert bare["ratio_vs_bare"] == 1.0
    assert bare["timed_tokens"] == sum(bare["step_tokens"][1:])


def test_where_evaluate_generates_in_bf16_an_fp32_row_turns_the_lever_off(run_dir, monkeypatch):
    import torch

    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    records = speed.read_jsonl(run_dir / "data/processed/test.jsonl")[:2]
    rows = speed.generation_rows(run_dir, ["base"], records, 4, [1], EvaluateParams(precision="bf16"), {})
    by_name = {row["row"]: row for row in rows}
    assert list(by_name)[:2] == ["naive pipeline", "project batch 1"]
    assert "project batch 1, fp32" in by_name
    # The naive pipeline and the fp32 row run the same fp32 weights, greedy, one paper per batch.
    assert by_name["project batch 1, fp32"]["same_answers_as_naive"] == 1.0
    model, _ = speed.load_model(run_dir / "models/base", "bf16")
    assert model.dtype == torch.bfloat16


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_the_adapter_is_merged_once_into_each_model(run_dir, monkeypatch, precision):
    merged_into, with_adapter = [], speed.with_adapter

    def counting_with_adapter(model, adapter_dir):
        merged_into.append(id(model))
        return with_adapter(model, adapter_dir)

    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    monkeypatch.setattr(speed, "with_adapter", counting_with_adapter)
    monkeypatch.setattr(speed, "native_bf16_cpu", lambda: True)  # fp32 project: a bf16 row beside it
    records = read_jsonl(run_dir / "data/processed/test.jsonl")[:1]
    speed.generation_rows(run_dir, ["tuned"], records, 2, [1], EvaluateParams(precision=precision), {})
    assert len(merged_into) == len(set(merged_into)) == 2  # the project's model and the other precision's


def test_llama_cpp_row_scores_its_answers_and_counts_its_tokens(tmp_path, monkeypatch):
    records = [
        {"paper_id": p["paper_id"], "context": p["text"][:300], "datasets": p["datasets"]}
        for p in generate_corpus(2, seed=1)
    ]
    gold = {r["context"]: format_answer(r["datasets"]) for r in records}
    calls = []

    class Llama:
        def __init__(self, model_path, n_ctx, n_threads, verbose):
            calls.append(("init", model_path, n_ctx, n_threads))

        def create_chat_completion(self, messages, temperature, max_tokens):
            assert temperature == 0
            calls.append(("chat", max_tokens))
            context = messages[-1]["content"].split("\n", 1)[1].rsplit("\n\n", 1)[0]
            return {"choices": [{"message": {"content": gold[context]}}], "usage": {"completion_tokens": 5}}

    monkeypatch.setitem(sys.modules, "llama_cpp", types.SimpleNamespace(Llama=Llama))
    gguf = tmp_path / "model.gguf"
    evaluate = EvaluateParams()
    assert speed.llama_cpp_row(None, records, 16, 512, evaluate, "base")["reason"] == (
        "no --gguf file given for base"
    )
    assert not speed.llama_cpp_row(gguf, records, 16, 512, evaluate, "base")["available"]
    gguf.write_bytes(b"GGUF")
    row = speed.llama_cpp_row(gguf, records, 16, 512, evaluate, "tuned", n_threads=3)
    assert calls == [("init", str(gguf), 512, 3), ("chat", 2), ("chat", 16), ("chat", 16)]  # warm-up first
    assert row["available"] and row["model"] == "tuned" and row["generated_tokens_mean"] == 5.0
    assert row["dataset_f1"] == 1.0 and row["creator_f1"] == 1.0
    assert row["tokens_per_s"] == pytest.approx(10 / row["seconds"], rel=1e-3)


def test_gguf_entries_name_their_model():
    assert speed.parse_gguf(["a.gguf", "tuned=/x/b=c.gguf"]) == {
        "base": Path("a.gguf"),
        "tuned": Path("/x/b=c.gguf"),
    }
    with pytest.raises(speed.PaperdcatError, match=r"--gguf other=a\.gguf"):
        speed.parse_gguf(["other=a.gguf"])


@pytest.mark.parametrize("bad", [["--train-steps", "1"], ["--batch-sizes", "0"], ["--max-new-tokens", "0"]])
def test_arguments_that_cannot_be_timed_are_refused(bad):
    with pytest.raises(SystemExit):
        speed.arguments(bad)


def test_the_llama_cpp_converter_gets_the_base_and_the_merged_tuned_model(run_dir, tmp_path):
    converter = tmp_path / "convert_hf_to_gguf.py"
    converter.write_text(
        "import sys, pathlib\n"
        "source, outfile = sys.argv[1], sys.argv[sys.argv.index('--outfile') + 1]\n"
        "files = sorted(p.name for p in pathlib.Path(source).iterdir())\n"
        "pathlib.Path(outfile).write_text(' '.join(sys.argv[2:4] + [source] + files))\n"
    )
    files = speed.converted_ggufs(run_dir, ["base", "tuned"], converter, tmp_path)
    base, tuned = (files[name].read_text().split() for name in ("base", "tuned"))
    assert base[:3] == ["--outtype", "f32", str(run_dir / "models/base")]
    assert tuned[:3] == ["--outtype", "f32", str(tmp_path / "tuned-merged")]
    assert "model.safetensors" in tuned and "adapter_config.json" not in tuned  # merged, not an adapter
    converter.write_text("import sys\nsys.exit('no such architecture')\n")
    with pytest.raises(speed.PaperdcatError, match=r"converting .* failed: no such architecture"):
        speed.converted_ggufs(run_dir, ["base"], converter, tmp_path)
