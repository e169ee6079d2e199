"""Discovering the papers of an extraction run, and sharding them."""

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paperdcat.errors import PaperdcatError
from paperdcat.extraction.inputs import PaperInput, discover_inputs, safe_key, shard
from paperdcat.io import write_jsonl


def touch(path: Path, text: str = "%PDF-1.7\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_folder_mirrors_nested_layout_sorted_with_pdf_and_txt_only(tmp_path):
    root = tmp_path / "metamine"
    for relative in (
        "Computer_Vision/paper_3.pdf",
        "Computer_Vision/paper_10.PDF",
        "NLP/deep/paper_1.txt",
        "NLP/paper_2.pdf",
        "notes.md",
        "NLP/figure.png",
        ".cache/paper_9.pdf",
        "NLP/.paper_0.pdf",
    ):
        touch(root / relative)
    papers = discover_inputs([root])
    assert [(p.key, p.kind) for p in papers] == [
        ("Computer_Vision/paper_10", "pdf"),
        ("Computer_Vision/paper_3", "pdf"),
        ("NLP/deep/paper_1", "txt"),
        ("NLP/paper_2", "pdf"),
    ]
    assert papers[0].source == root / "Computer_Vision" / "paper_10.PDF"
    assert all(p.text is None and p.source.is_file() for p in papers)


def test_single_files_keyed_by_stem_in_the_order_given(tmp_path):
    txt = touch(tmp_path / "b" / "second.txt", "text")
    pdf = touch(tmp_path / "a" / "first.pdf")
    assert discover_inputs([txt, pdf]) == [
        PaperInput("second", txt, "txt"),
        PaperInput("first", pdf, "pdf"),
    ]


def test_jsonl_records_carry_their_text_and_a_path_safe_key(tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    write_jsonl(
        corpus,
        [
            {"paper_id": "Computer_Vision/paper_3", "text": "First paper.", "datasets": []},
            {"paper_id": "../odd id:1", "text": "Second paper."},
        ],
    )
    papers = discover_inputs([corpus])
    assert [(p.key, p.kind, p.text, p.source) for p in papers] == [
        ("Computer_Vision/paper_3", "record", "First paper.", corpus),
        ("odd_id_1", "record", "Second paper.", corpus),
    ]


def test_jsonl_lines_are_checked(tmp_path):
    corpus = tmp_path / "bad.jsonl"
    rows = ({"paper_id": "p", "text": "ok"}, {"paper_id": "q"})
    corpus.write_text("".join(json.dumps(row) + "\n" for row in rows))
    with pytest.raises(PaperdcatError, match=r"bad\.jsonl:2: missing field 'text'"):
        discover_inputs([corpus])


@pytest.mark.parametrize(
    ("layout", "target", "message"),
    [
        ([], "missing.pdf", r"missing\.pdf: input not found"),
        (["empty/notes.md"], "empty", r"empty: no \.pdf or \.txt files"),
        (["paper.docx"], "paper.docx", r"paper\.docx: unsupported input type '\.docx'"),
        (["README"], "README", r"README: unsupported input type '\(no suffix\)'"),
        (["d/a.txt", "d/a.pdf"], "d", r"a\.txt: key 'a' is already taken by .*a\.pdf"),
    ],
)
def test_input_errors_name_the_path(tmp_path, layout, target, message):
    for relative in layout:
        touch(tmp_path / relative)
    with pytest.raises(PaperdcatError, match=message) as caught:
        discover_inputs([tmp_path / target])
    assert "\n" not in str(caught.value)


def test_duplicate_keys_across_inputs_are_refused(tmp_path):
    first = touch(tmp_path / "x" / "paper_1.pdf")
    second = touch(tmp_path / "y" / "paper_1.pdf")
    with pytest.raises(PaperdcatError, match=r"y/paper_1\.pdf: key 'paper_1' is already taken by .*x/paper_"):
        discover_inputs([first, second])
    corpus = tmp_path / "c.jsonl"
    write_jsonl(corpus, [{"paper_id": "a b", "text": "t"}, {"paper_id": "a_b", "text": "t"}])
    with pytest.raises(PaperdcatError, match=r"c\.jsonl \(a record\): key 'a_b'"):
        discover_inputs([corpus])


def test_safe_key_stays_inside_the_output_folder():
    assert safe_key("Computer_Vision/paper_3") == "Computer_Vision/paper_3"
    assert safe_key("/abs/../x y") == "abs/x_y"
    assert safe_key(".hidden\\name") == "_hidden/name"
    assert safe_key("..") == ""


@given(st.integers(0, 40), st.integers(1, 9))
def test_shards_partition_the_papers_in_order(n_papers, n_shards):
    papers = [f"p{i}" for i in range(n_papers)]
    shards = [shard(papers, f"{k}/{n_shards}") for k in range(n_shards)]
    assert sorted(p for part in shards for p in part) == sorted(papers)
    assert all(part == sorted(part, key=papers.index) for part in shards)
    assert max(map(len, shards)) - min(map(len, shards)) <= 1
    assert shard(papers, f"0/{n_shards}")[:1] == papers[:1]


@pytest.mark.parametrize("spec", ["4/4", "-1/4", "a/b", "1/0", "", "2", "1/2/3", "1 / 2x"])
def test_bad_shard_spec_names_the_option(spec):
    with pytest.raises(PaperdcatError, match="--shard"):
        shard([1, 2, 3], spec)
    assert shard([1, 2, 3, 4, 5], " 1/2 ") == [2, 4]
