from pathlib import Path

import pytest

from paperdcat.errors import PaperdcatError
from paperdcat.params import DataParams, Params, Section, SourceParams, load_params

REPO_PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(text)
    return path


def test_repo_params_are_valid_and_match_the_reference_lora_setup():
    params = load_params(REPO_PARAMS)
    assert params.lora.rank == 16 and params.lora.alpha == 32 and params.lora.dropout == 0.05
    assert set(params.lora.target_modules) == {
        "q_proj",
        "k_proj",
        "v_proj",
        "o_proj",
        "gate_proj",
        "up_proj",
        "down_proj",
    }
    assert params.model.base == "smollm2-135m-instruct"


def test_repo_params_set_every_key_explicitly():
    """params.yaml is the one place for tunables: every field of the typed loader appears in it."""
    import yaml

    raw = yaml.safe_load(REPO_PARAMS.read_text())

    def missing(model: type, values: dict, prefix: str) -> list[str]:
        found = []
        for name, field in model.model_fields.items():
            if name not in values:
                found.append(prefix + name)
            elif isinstance(field.annotation, type) and issubclass(field.annotation, Section):
                found += missing(field.annotation, values[name], f"{prefix}{name}.")
        return found

    assert missing(Params, raw, "") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lora: {rnak: 8}", "lora.rnak: unknown key"),
        ("lora: {rank: 0}", "lora.rank: Input should be greater than or equal to 1"),
        ("train: {learning_rate: fast}", "train.learning_rate: Input should be a valid number"),
        ("data: {split: {train: 0.5, val: 0.1, test: 0.1}}", "data.split: Value error, train + val + test"),
        ("evaluate: {title_match_threshold: 101}", "evaluate.title_match_threshold"),
        ("data: {source: arxiv}", "data.source: Input should be"),
        ("data: {source: [{name: arxiv}]}", "data.source.0.name: Input should be 'generated', 'jsonl'"),
        ("data: {source: [{name: jsonl, pth: a.jsonl}]}", "data.source.0.pth: unknown key"),
        (
            "data: {source: [{name: generated, n_papers: 0}]}",
            "data.source.0.n_papers: Input should be greater",
        ),
        ("data: {source: []}", "data.source: List should have at least 1 item"),
        (
            "data: {source: [{name: scirex, path: a.jsonl}, {name: generated}, {name: scirex}]}",
            "data.source: Value error, each source at most once ('scirex' is listed 2 times)",
        ),
        ("modle: {base: x}", "modle: unknown key"),
        ("train: {num_processes: 0}", "train.num_processes: Input should be greater than or equal to 1"),
        ("train: {device: gpu}", "train.device: Input should be 'auto', 'cpu' or 'cuda'"),
        ("lora: [1, 2", "not valid YAML"),
        ("- just a list", "expected a mapping"),
    ],
)
def test_bad_params_give_one_line_naming_the_key(tmp_path, text, expected):
    with pytest.raises(PaperdcatError) as error:
        load_params(write(tmp_path, text))
    message = str(error.value)
    assert expected in message and "\n" not in message
    assert message.startswith(str(tmp_path / "params.yaml"))


def test_partial_file_takes_defaults_and_values(tmp_path):
    params = load_params(write(tmp_path, "lora: {rank: 32, target_modules: [q_proj]}\ntrain: {max_steps: 5}"))
    assert params.lora.rank == 32 and params.lora.target_modules == ["q_proj"]
    assert params.train.max_steps == 5 and params.lora.alpha == 32


def test_missing_file(tmp_path):
    with pytest.raises(PaperdcatError, match="file not found"):
        load_params(tmp_path / "nope.yaml")


def test_relative_data_path_is_read_from_the_project_in_dvc_temporary_experiments(tmp_path, monkeypatch):
    corpus = tmp_path / "shared" / "train.jsonl"
    corpus.parent.mkdir()
    corpus.write_text("")
    project = tmp_path / "work" / "repo"
    temporary_copy = project / ".dvc" / "tmp" / "exps" / "standalone" / "tmp1a2b"
    temporary_copy.mkdir(parents=True)
    params = DataParams(source="jsonl", path="../../shared/train.jsonl")
    monkeypatch.chdir(project)
    assert params.sources()[0].local_path() == Path("../../shared/train.jsonl")
    monkeypatch.chdir(temporary_copy)
    assert params.sources()[0].local_path().resolve() == corpus.resolve()
    missing = DataParams(source="jsonl", path="../../shared/missing.jsonl")
    assert missing.sources()[0].local_path() == Path("../../shared/missing.jsonl")
    several = DataParams(
        source=[{"name": "generated"}, {"name": "jsonl", "path": "../../shared/train.jsonl"}]
    )
    assert several.sources()[1].local_path().resolve() == corpus.resolve()


def test_one_source_is_its_name_with_data_path_and_n_papers(tmp_path):
    data = load_params(write(tmp_path, "data: {source: scirex, path: a.jsonl, n_papers: 306, seed: 7}")).data
    assert data.source == "scirex"
    assert data.sources() == [SourceParams("scirex", "a.jsonl", 306, 7, key="data")]


def test_a_list_of_sources_each_with_its_path_and_n_papers(tmp_path):
    text = """
data:
  n_papers: 50
  seed: 3
  source:
    - {name: generated, n_papers: 144}
    - {name: scirex, path: ../shared/data/scirex/train.jsonl, n_papers: 306}
    - {name: jsonl, path: extra.jsonl}
"""
    assert load_params(write(tmp_path, text)).data.sources() == [
        SourceParams("generated", None, 144, 3, key="data.source.0"),
        SourceParams("scirex", "../shared/data/scirex/train.jsonl", 306, 3, key="data.source.1"),
        SourceParams("jsonl", "extra.jsonl", 50, 3, key="data.source.2"),  # n_papers: data.n_papers
    ]
