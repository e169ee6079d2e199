import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from paperdcat.corpus.sources import read_papers
from paperdcat.errors import PaperdcatError
from paperdcat.models import load_source_model

REPO = Path(__file__).resolve().parents[1]
GOOD = {"paper_id": "p1", "text": "A paper.", "datasets": [{"title": "MNIST", "creator": "Y. LeCun"}]}


def run_stage(stage: str, workdir: Path) -> subprocess.CompletedProcess:
    """Run a stage in another working directory, with this checkout's package and stage scripts."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", f"stages.{stage}"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def test_good_corpus_is_normalised(tmp_path):
    papers = read_papers(str(write_lines(tmp_path / "c.jsonl", [json.dumps(GOOD)])))
    assert papers[0]["datasets"] == [{"dcterms:title": "MNIST", "dcterms:creator": ["Y. LeCun"]}]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("{not json", "c.jsonl:2: not valid JSON"),
        (json.dumps({"paper_id": "p2"}), "c.jsonl:2: missing field 'text'"),
        (json.dumps({"paper_id": "p2", "text": "  "}), "c.jsonl:2: field 'text' is empty"),
        (json.dumps({"paper_id": "p2", "text": "x", "datasets": "MNIST"}), "c.jsonl:2: field 'datasets'"),
        (json.dumps(["p2"]), "c.jsonl:2: expected a JSON object"),
    ],
)
def test_bad_corpus_line_names_file_and_line(tmp_path, line, expected):
    path = write_lines(tmp_path / "c.jsonl", [json.dumps(GOOD), line])
    with pytest.raises(PaperdcatError, match=expected):
        read_papers(str(path))


def test_missing_model_folder_is_one_line(tmp_path):
    with pytest.raises(PaperdcatError, match=r"model.base: .*nowhere: no model folder there"):
        load_source_model(str(tmp_path / "nowhere"))


def test_hub_id_without_network_names_the_alternatives(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(PaperdcatError) as error:
        load_source_model("paperdcat-tests/no-such-model")
    assert "Hugging Face hub" in str(error.value) and "smollm2-135m-instruct" in str(error.value)


def test_stage_with_bad_corpus_exits_1_with_one_line_and_writes_nothing(tmp_path):
    (tmp_path / "data" / "raw").mkdir(parents=True)
    write_lines(tmp_path / "data" / "raw" / "papers.jsonl", [json.dumps(GOOD), "{broken"])
    (tmp_path / "params.yaml").write_text((REPO / "params.yaml").read_text())
    result = run_stage("preprocess", tmp_path)
    assert result.returncode == 1
    assert (
        result.stderr.strip() == "error: data/raw/papers.jsonl:2: not valid JSON (Expecting property name "
        "enclosed in double quotes)"
    )
    assert not (tmp_path / "data" / "processed").exists() and not (tmp_path / "metrics").exists()


def test_stage_with_misspelt_param_fails_before_any_work(tmp_path):
    (tmp_path / "params.yaml").write_text((REPO / "params.yaml").read_text() + "\nextra: {x: 1}\n")
    result = run_stage("train", tmp_path)
    assert result.returncode == 1 and result.stderr.strip() == "error: params.yaml: extra: unknown key"
