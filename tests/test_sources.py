import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from paperdcat.corpus.generated import generate_corpus
from paperdcat.corpus.preprocess import SPLITS, count_by_source, split_by_source, split_papers
from paperdcat.corpus.sources import load_corpus, read_papers
from paperdcat.errors import PaperdcatError
from paperdcat.io import write_jsonl
from paperdcat.models import load_source_model
from paperdcat.params import DataParams, SplitParams

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


def jsonl_corpus(path: Path, count: int) -> Path:
    """A normalised corpus of ``count`` papers; each record also names a source of its own."""
    papers = [
        {
            "paper_id": f"p{i}",
            "source": "elsewhere",
            "text": f"Paper {i} evaluates on SQuAD.",
            "datasets": [{"title": "SQuAD"}],
        }
        for i in range(count)
    ]
    return write_lines(path, [json.dumps(paper) for paper in papers])


def mixed(corpus: Path, **data) -> DataParams:
    sources = [{"name": "generated", "n_papers": 9}, {"name": "jsonl", "path": str(corpus), "n_papers": 7}]
    return DataParams(source=sources, **data)


def test_one_source_gives_untagged_papers_with_their_own_ids(tmp_path):
    corpus = jsonl_corpus(tmp_path / "c.jsonl", 3)
    papers = load_corpus(DataParams(source="jsonl", path=str(corpus)))
    assert [p["paper_id"] for p in papers] == ["p0", "p1", "p2"]
    assert all(set(p) == {"paper_id", "text", "datasets"} for p in papers)  # the record's own source dropped
    assert load_corpus(DataParams(n_papers=5)) == generate_corpus(5, 42)
    listed = load_corpus(DataParams(source=[{"name": "generated", "n_papers": 5}]))
    assert listed == generate_corpus(5, 42)  # a list of one is the same corpus


def test_several_sources_are_tagged_with_unique_prefixed_ids(tmp_path):
    papers = load_corpus(mixed(jsonl_corpus(tmp_path / "c.jsonl", 10)))
    assert [p["source"] for p in papers] == ["generated"] * 9 + ["jsonl"] * 7
    assert len({p["paper_id"] for p in papers}) == 16
    generated = generate_corpus(9, 42)
    assert [p["paper_id"] for p in papers[:9]] == [f"generated/{p['paper_id']}" for p in generated]
    assert [p["paper_id"] for p in papers[9:]] == [f"jsonl/p{i}" for i in range(7)]
    assert papers[0]["text"] == generated[0]["text"] and papers[0]["datasets"] == generated[0]["datasets"]
    # the corpus file keeps the tags: preprocess reads them back
    path = tmp_path / "papers.jsonl"
    write_jsonl(path, papers)
    assert read_papers(path) == papers


def test_a_listed_source_without_its_path_names_its_item(tmp_path):
    data = DataParams(source=[{"name": "generated", "n_papers": 1}, {"name": "jsonl"}])
    with pytest.raises(
        PaperdcatError, match=r"^params.yaml: data.source.1.path: required for data.source 'jsonl'$"
    ):
        load_corpus(data)


def test_a_source_field_that_is_not_a_name_is_ignored_as_any_other_extra_field(tmp_path):
    path = write_lines(tmp_path / "c.jsonl", [json.dumps(GOOD | {"source": {"venue": "x"}})])
    assert "source" not in read_papers(path)[0]


def test_each_source_is_split_alone_and_keeps_its_single_source_splits(tmp_path):
    """A source's test papers in a mixed run are those of a run on it alone (ids aside), so that mixed and
    single-source runs are scored on the same papers."""
    data = mixed(jsonl_corpus(tmp_path / "c.jsonl", 10), split=SplitParams(train=0.6, val=0.1, test=0.3))
    splits = split_by_source(load_corpus(data), data.seed, data.split)
    assert {name: len(papers) for name, papers in splits.items()} == {"train": 9, "val": 2, "test": 5}
    assert [p["source"] for p in splits["test"]] == ["generated"] * 3 + ["jsonl"] * 2
    for source in data.sources():
        alone = DataParams(source=source.name, path=source.path, n_papers=source.n_papers, split=data.split)
        expected = split_by_source(load_corpus(alone), alone.seed, alone.split)
        for name in SPLITS:
            found = [
                {**p, "paper_id": p["paper_id"].removeprefix(f"{source.name}/")}
                for p in splits[name]
                if p["source"] == source.name
            ]
            assert found == [p | {"source": source.name} for p in expected[name]], (source.name, name)
    assert count_by_source(splits) == {
        "generated": {"train": 5, "val": 1, "test": 3},
        "jsonl": {"train": 4, "val": 1, "test": 2},
    }


def test_one_source_is_split_as_before():
    papers = generate_corpus(20, 42)
    ratios = SplitParams(train=0.75, val=0.05, test=0.2)
    assert split_by_source(papers, 42, ratios) == split_papers(papers, 42, ratios)
    assert count_by_source(split_papers(papers, 42, ratios)) == {}


def test_fetch_and_preprocess_stages_tag_and_split_each_source(tmp_path, tiny_model_dir):
    """The stages on a list of two sources: a tagged corpus file, each source split alone."""
    import yaml

    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["model"]["base"] = str(tiny_model_dir)
    params["preprocess"]["max_context_tokens"] = 128
    params["data"].update(
        n_papers=6, source=[{"name": "generated", "n_papers": 8}, {"name": "jsonl", "path": "c.jsonl"}]
    )
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    jsonl_corpus(tmp_path / "c.jsonl", 10)
    fetched = run_stage("fetch", tmp_path)
    assert fetched.returncode == 0, fetched.stderr
    assert "14 papers from source 'generated' (8), source 'jsonl' (6)" in fetched.stdout
    raw = read_papers(tmp_path / "data/raw/papers.jsonl")
    assert [p["source"] for p in raw] == ["generated"] * 8 + ["jsonl"] * 6
    preprocessed = run_stage("preprocess", tmp_path)
    assert preprocessed.returncode == 0, preprocessed.stderr
    test = [json.loads(line) for line in (tmp_path / "data/processed/test.jsonl").open()]
    assert [(p["paper_id"].split("/")[0], p["source"]) for p in test] == [("generated", "generated")] * 2 + [
        ("jsonl", "jsonl")
    ] * 2
    stats = json.loads((tmp_path / "metrics/preprocess.json").read_text())
    assert stats["papers_by_source"] == {
        "generated": {"train": 6, "val": 0, "test": 2},
        "jsonl": {"train": 4, "val": 0, "test": 2},
    }
    assert stats["papers"] == {"train": 10, "val": 0, "test": 4}
