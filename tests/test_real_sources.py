"""The SciREX and MetaMine sources on real public data (``../shared/data``, never copied into the repo)."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import pytest

import paperdcat.corpus.scirex as scirex
from paperdcat.corpus.sources import load_corpus
from paperdcat.errors import PaperdcatError
from paperdcat.extraction.context import clean_text, mention_counts, mentioned_in_text
from paperdcat.extraction.parse import format_answer
from paperdcat.params import DataParams, load_params

BIDAF_ID = "007ab5528b3bd310a80d553cccad4b78dc496b02"  # line 3: Bi-Directional Attention Flow (Seo et al.)
BIDAF_GOLD = [
    {
        "dcterms:title": "CNN Daily Mail",
        "mls:task": ["Question Answering"],
        "aliases": [
            "CNN / DailyMail cloze test",
            "DailyMail",
            "CNN / DailyMail datasets",
            "CNN and Daily Mail datasets",
        ],
    },
    {"dcterms:title": "MS MARCO", "mls:task": ["Question Answering"], "aliases": []},
    {"dcterms:title": "NarrativeQA", "mls:task": ["Question Answering"], "aliases": []},
    {"dcterms:title": "Quasar", "mls:task": ["Open-Domain Question Answering"], "aliases": []},
    {
        "dcterms:title": "SQuAD1 1",
        "mls:task": ["Question Answering"],
        "aliases": ["Stanford Question Answering Dataset", "SQuAD", "Stanford Question Answering"],
    },
]
OFFLINE_ERROR = (
    "params.yaml: data.path: required for data.source 'scirex' (no network to download the SciREX release; "
    "point it at a local train.jsonl)"
)


@pytest.fixture(scope="module")
def scirex_file(shared_data: Path) -> Path:
    return shared_data / "scirex" / "train.jsonl"


@pytest.fixture(scope="module")
def scirex_papers(scirex_file: Path) -> list[dict]:
    return load_corpus(DataParams(source="scirex", path=str(scirex_file), n_papers=1000))


@pytest.fixture(scope="module")
def bidaf(scirex_papers: list[dict]) -> dict:
    return next(paper for paper in scirex_papers if paper["paper_id"] == BIDAF_ID)


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No network and an empty download cache: the test never touches GitHub."""
    monkeypatch.setenv("PAPERDCAT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(scirex, "github_reachable", lambda *args, **kwargs: False)


def scirex_lines(scirex_file: Path, count: int) -> list[str]:
    with scirex_file.open(encoding="utf-8") as handle:
        return [next(handle).rstrip("\n") for _ in range(count)]


# ---------------------------------------------------------------------------------------------- SciREX text


def test_tokens_are_joined_without_space_before_closing_or_after_opening_punctuation():
    tokens = ["a", "(", "b", ")", ",", "model", "'s", "50", "%", "[", "reference", "]", ";", "do", "n't", "."]
    assert scirex.join_tokens(tokens) == "a (b), model's 50% [reference]; don't."
    assert scirex.join_tokens(["“", "exponential", "unit", "”", "?", "CIFAR", "-", "10"]) == (
        "“exponential unit”? CIFAR-10"
    )
    assert scirex.join_tokens(["a", "-", "b", "-", "c", "(", "-", "1", ")", "x", "-", "-", "y"]) == (
        "a-b-c (- 1) x - - y"
    )


def test_scirex_text_has_title_line_headings_and_readable_sentences(bidaf):
    text = bidaf["text"]
    lines = text.split("\n")
    assert lines[:3] == ["Bi-Directional Attention Flow for Machine Comprehension", "", "Abstract"]
    assert lines[3].startswith(
        "Machine comprehension (MC), answering a query about a given context paragraph, requires modeling "
        "complex interactions between the context and the query. Recently, attention mechanisms have been "
        "successfully extended to MC."
    )
    assert (
        "In this paper, we introduce the Bi-Directional Attention Flow (BiDAF) network, a hierarchical "
        "multi-stage architecture for modeling the representations of the context paragraph at different "
        "levels of granularity (Figure [reference])." in text
    )
    # Headings on lines of their own after a blank line; SciREX's "section :" markers and the run-in
    # headings' final period gone.
    for heading in ("Introduction", "Related Work", "Question Answering Experiments", "Dataset", "Results"):
        assert f"\n\n{heading}\n" in text
    assert "\n\n1. Character Embedding Layer\n" in text
    assert "section :" not in text and "paragraph :" not in text
    assert " ." not in text and " ," not in text and "( " not in text and " )" not in text


def test_scirex_title_without_document_marker_is_the_first_line(scirex_papers):
    first = scirex_papers[0]  # section 0 is the title alone; the abstract has its own "section :" heading
    lines = first["text"].split("\n")
    assert lines[:3] == [
        "Full-Resolution Residual Networks for Semantic Segmentation in Street Scenes",
        "",
        "Abstract",
    ]
    assert lines[3].startswith("Semantic image segmentation is an essential component of modern autonomous")
    assert "\n\nFull-Resolution Residual Networks (FRRNs)\n" in first["text"]  # heading's "." dropped


# ---------------------------------------------------------------------------------------------- SciREX gold


def test_scirex_gold_is_materials_with_tasks_and_aliases(bidaf):
    assert bidaf["datasets"] == BIDAF_GOLD


def test_aliases_never_enter_the_training_answer(bidaf):
    answer = format_answer(bidaf["datasets"])
    assert "aliases" not in answer and "DailyMail" not in answer
    assert json.loads(answer)[0] == {"title": "CNN Daily Mail", "task": ["Question Answering"]}


def named_in_text(paper: dict) -> list[dict]:
    return mentioned_in_text(paper["datasets"], clean_text(paper["text"]))


def unmentioned_titles(paper: dict) -> list[str]:
    named = named_in_text(paper)
    return [dataset["dcterms:title"] for dataset in paper["datasets"] if dataset not in named]


def test_unmentioned_gold_datasets_of_a_real_paper(bidaf):
    # MS MARCO, NarrativeQA and Quasar results come from Papers with Code, not from the paper's text.
    assert unmentioned_titles(bidaf) == ["MS MARCO", "NarrativeQA", "Quasar"]


def test_mention_counts_on_a_hand_made_corpus():
    papers = [
        {  # mentioned through an alias, with other case and punctuation
            "paper_id": "a",
            "text": "We train on the cifar-10 set.",
            "datasets": [{"dcterms:title": "CIFAR10", "aliases": ["CIFAR - 10"]}],
        },
        {  # one of two mentioned
            "paper_id": "b",
            "text": "Results on SQuAD.",
            "datasets": [{"dcterms:title": "SQuAD"}, {"dcterms:title": "MS MARCO", "aliases": []}],
        },
        {  # none mentioned; a substring of a word is no mention
            "paper_id": "c",
            "text": "We use the COCOA corpus.",
            "datasets": [{"dcterms:title": "COCO"}],
        },
        {"paper_id": "d", "text": "A theory paper.", "datasets": []},
    ]
    assert [unmentioned_titles(paper) for paper in papers] == [[], ["MS MARCO"], ["COCO"], []]
    assert mention_counts([p["datasets"] for p in papers], [named_in_text(p) for p in papers]) == {
        "papers": 4,
        "papers_all_mentioned": 2,
        "papers_with_unmentioned": 2,
        "papers_none_mentioned": 1,
        "datasets": 4,
        "datasets_unmentioned": 2,
    }


def test_mention_counts_over_the_scirex_file(scirex_papers):
    named = [named_in_text(p) for p in scirex_papers]
    assert mention_counts([p["datasets"] for p in scirex_papers], named) == {
        "papers": 306,
        "papers_all_mentioned": 243,
        "papers_with_unmentioned": 63,
        "papers_none_mentioned": 23,
        "datasets": 825,
        "datasets_unmentioned": 263,
    }


# ---------------------------------------------------------------------------------------------- SciREX input


def test_scirex_n_papers_limits_the_corpus(scirex_file):
    papers = load_corpus(DataParams(source="scirex", path=str(scirex_file), n_papers=2))
    assert [paper["paper_id"] for paper in papers] == [
        "000f90380d768a85e2316225854fc377c079b5c4",
        "0012de6bec1f25599e4f02517637e531a71909b9",
    ]


def test_scirex_without_path_offline_is_one_line_naming_data_path(offline):
    with pytest.raises(PaperdcatError) as error:
        load_corpus(DataParams(source="scirex"))
    assert str(error.value) == OFFLINE_ERROR
    with pytest.raises(PaperdcatError) as error:
        load_corpus(DataParams(source=[{"name": "generated", "n_papers": 1}, {"name": "scirex"}]))
    assert str(error.value) == OFFLINE_ERROR.replace("data.path", "data.source.1.path")


def test_scirex_without_path_reads_a_cached_release_without_network(scirex_file, tmp_path, monkeypatch):
    lines = scirex_lines(scirex_file, 4)
    release = tmp_path / "cache" / "scirex" / "release_data" / "release_data"
    release.mkdir(parents=True)
    for name, chunk in (("train", lines[:2]), ("dev", lines[2:3]), ("test", lines[3:])):
        (release / f"{name}.jsonl").write_text("\n".join(chunk) + "\n", encoding="utf-8")
    monkeypatch.setenv("PAPERDCAT_CACHE", str(tmp_path / "cache"))

    def no_network(*args, **kwargs):
        raise AssertionError("the cached release must be read without probing the network")

    monkeypatch.setattr(scirex, "github_reachable", no_network)
    papers = load_corpus(DataParams(source="scirex", n_papers=3))
    assert [paper["paper_id"] for paper in papers] == [json.loads(line)["doc_id"] for line in lines[:3]]


def test_scirex_without_path_downloads_and_unpacks_the_release(scirex_file, tmp_path, monkeypatch, capsys):
    """The download path with a local archive in place of GitHub (no network is touched)."""
    lines = scirex_lines(scirex_file, 3)
    staging = tmp_path / "staging" / "release_data"
    staging.mkdir(parents=True)
    for name, line in zip(("train", "dev", "test"), lines, strict=True):
        (staging / f"{name}.jsonl").write_text(line + "\n", encoding="utf-8")
    archive = tmp_path / "release_data.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(staging, arcname="release_data")
    monkeypatch.setenv("PAPERDCAT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(scirex, "github_reachable", lambda *args, **kwargs: True)
    urls = []

    def fake_urlopen(url, timeout):
        urls.append(url)
        return archive.open("rb")

    monkeypatch.setattr(scirex.urllib.request, "urlopen", fake_urlopen)
    ids = [json.loads(line)["doc_id"] for line in lines]
    assert [p["paper_id"] for p in load_corpus(DataParams(source="scirex", n_papers=5))] == ids
    assert "release downloaded to" in capsys.readouterr().out
    assert [p["paper_id"] for p in load_corpus(DataParams(source="scirex", n_papers=2))] == ids[:2]
    assert urls == [scirex.RELEASE_URL]  # the second load read the cache


def test_scirex_bad_json_line_names_file_and_line(scirex_file, tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text(scirex_lines(scirex_file, 1)[0] + "\n{broken\n", encoding="utf-8")
    with pytest.raises(PaperdcatError, match=r"s\.jsonl:2: not valid JSON"):
        load_corpus(DataParams(source="scirex", path=str(path)))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda doc: doc.pop("words"), "s.jsonl:2: missing field 'words'"),
        (lambda doc: doc.update(words=[]), "s.jsonl:2: field 'words' must be a non-empty list of strings"),
        (
            lambda doc: doc.update(sections=[[0, 10**9]]),
            "s.jsonl:2: field 'sections' must be a list of [start, end] word spans",
        ),
        (
            lambda doc: doc.update(n_ary_relations=[{"Task": "QA"}]),
            "s.jsonl:2: field 'n_ary_relations' must be a list of objects with a 'Material' name",
        ),
        (lambda doc: doc.update(coref=[]), "s.jsonl:2: field 'coref' must be an object"),
    ],
)
def test_scirex_bad_paper_names_file_and_line(scirex_file, tmp_path, change, expected):
    good = scirex_lines(scirex_file, 1)[0]
    doc = json.loads(good)
    change(doc)
    path = tmp_path / "s.jsonl"
    path.write_text(good + "\n" + json.dumps(doc) + "\n", encoding="utf-8")
    with pytest.raises(PaperdcatError) as error:
        load_corpus(DataParams(source="scirex", path=str(path)))
    assert str(error.value).startswith(f"{path.parent}/{expected}")


# ---------------------------------------------------------------------------------------------- MetaMine


def metamine_layout(root: Path, gold_dir: Path, texts: dict[str, str], golds: list[str]) -> Path:
    """``txt_files/`` with ``texts`` (paper id -> text) and ``json_files/`` with the real ``golds``."""
    for paper_id, text in texts.items():
        path = root / "txt_files" / f"{paper_id}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for paper_id in golds:
        path = root / "json_files" / f"{paper_id}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(gold_dir / f"{paper_id}.json", path)
    return root


@pytest.fixture
def metamine(shared_data: Path, tmp_path: Path) -> Path:
    return metamine_layout(
        tmp_path / "metamine",
        shared_data / "metamine" / "gs",
        {
            "Graphs/paper_101": "Multi-hop reasoning\n\nWe evaluate on HotpotQA and SQuAD [1].",
            "Computer_Vision/paper_15": "Summaries\n\nWe use the TL;DR Reddit corpus and CNN/Daily Mail.",
            "Computer_Vision/paper_200": "A paper whose gold file is missing.",
            "Natural_Language_Processing/paper_1": "Paraphrase\n\nPAWS, PAWS-X, Multi30k and Opusparcus.",
        },
        [
            "Graphs/paper_101",
            "Computer_Vision/paper_15",
            "Natural_Language_Processing/paper_1",
            "General/paper_1",  # gold without a text: ignored
        ],
    )


def test_metamine_layout_with_real_gold(metamine, capsys):
    papers = load_corpus(DataParams(source="metamine", path=str(metamine)))
    # One paper per topic in turn; the text without a gold file is skipped and counted.
    assert [paper["paper_id"] for paper in papers] == [
        "Computer_Vision/paper_15",
        "Graphs/paper_101",
        "Natural_Language_Processing/paper_1",
    ]
    assert "skipped 1 of 4 texts with no gold file" in capsys.readouterr().out
    assert [[d["dcterms:title"] for d in paper["datasets"]] for paper in papers] == [
        ["TL;DR Reddit corpus", "CNN/Daily Mail corpus"],
        ["HotpotQA", "SQuAD"],
        ["PAWS", "PAWS-X", "Multi30k", "Opusparcus"],
    ]
    squad = papers[1]["datasets"][1]
    assert squad["dcterms:creator"] == ["Pranav Rajpurkar", "Jian Zhang", "Konstantin Lopyrev", "Percy Liang"]
    assert squad["dcterms:issued"] == "2016" and squad["mls:task"] == ["Reading Comprehension"]
    assert squad["dcterms:language"] == ""  # "not stated" stays a scored empty value
    assert papers[1]["text"] == "Multi-hop reasoning\n\nWe evaluate on HotpotQA and SQuAD [1]."


def test_metamine_n_papers_and_single_object_gold(metamine):
    gold = metamine / "json_files" / "Graphs" / "paper_101.json"
    gold.write_text(json.dumps(json.loads(gold.read_text(encoding="utf-8"))[0]), encoding="utf-8")
    papers = load_corpus(DataParams(source="metamine", path=str(metamine), n_papers=2))
    assert [paper["paper_id"] for paper in papers] == ["Computer_Vision/paper_15", "Graphs/paper_101"]
    assert [d["dcterms:title"] for d in papers[1]["datasets"]] == ["HotpotQA"]


def test_metamine_bad_json_is_one_line_with_the_path(metamine):
    gold = metamine / "json_files" / "Graphs" / "paper_101.json"
    gold.write_text('[{"dcterms:title": "HotpotQA",', encoding="utf-8")
    with pytest.raises(PaperdcatError) as error:
        load_corpus(DataParams(source="metamine", path=str(metamine)))
    assert str(error.value).startswith(f"{gold}: not valid JSON")
    assert "\n" not in str(error.value)


def test_metamine_gold_that_is_not_a_list_of_objects_names_the_file(metamine):
    gold = metamine / "json_files" / "Graphs" / "paper_101.json"
    gold.write_text('["HotpotQA"]', encoding="utf-8")
    with pytest.raises(PaperdcatError, match=r"paper_101\.json: field 'datasets' must be a list of objects"):
        load_corpus(DataParams(source="metamine", path=str(metamine)))


def test_metamine_without_path_or_texts_is_one_line(tmp_path):
    with pytest.raises(PaperdcatError, match=r"^params.yaml: data.path: required for data.source 'metamine'"):
        load_corpus(DataParams(source="metamine"))
    with pytest.raises(PaperdcatError, match=r"no paper texts \(txt_files/<Topic>/paper_N.txt\)"):
        load_corpus(DataParams(source="metamine", path=str(tmp_path)))


def test_params_accept_the_new_sources(tmp_path):
    path = tmp_path / "params.yaml"
    for source in ("scirex", "metamine"):
        path.write_text(f"data: {{source: {source}, path: somewhere}}\n")
        assert load_params(path).data.source == source
