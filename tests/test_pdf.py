"""PDF text: generated papers typeset by reportlab and read back, bad PDFs refused with their reason."""

import re
from collections import Counter
from pathlib import Path

import pypdfium2
import pytest

from paperdcat.corpus.generated import generate_paper
from paperdcat.corpus.render import (
    hyphenation_points,
    render_pdf,
    write_corrupt_pdf,
    write_encrypted_pdf,
    write_image_only_pdf,
)
from paperdcat.errors import PaperdcatError
from paperdcat.extraction import pdf
from paperdcat.extraction.context import clean_text, mentioned_in_text, normalise_mention, split_units
from paperdcat.extraction.pdf import (
    TITLE_MAX_LINES,
    UnreadablePaper,
    join_pages,
    paper_text,
    pdf_text,
    pdfium_pages,
    pypdf_pages,
    reflow,
    tidy_pdf_text,
    title_span,
    without_page_number,
)

# Paper 1: author-year citations, four used datasets; paper 15: numbered citations.
PAPERS = {"author-year": generate_paper(0, 1).record, "numbered": generate_paper(0, 15).record}
WORD = re.compile(r"\w+")
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\ufffe\u00ad]")


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory) -> dict[tuple[str, int], Path]:
    folder = tmp_path_factory.mktemp("pdfs")
    paths = {}
    for style, paper in PAPERS.items():
        for columns in (1, 2):
            paths[style, columns] = folder / f"{style}-{columns}.pdf"
            render_pdf(paper, paths[style, columns], columns)
    return paths


def reference_entries(text: str) -> list[str]:
    return text.split("\nReferences\n\n", 1)[1].splitlines()


@pytest.mark.parametrize("columns", [1, 2])
@pytest.mark.parametrize("style", list(PAPERS))
def test_text_read_back_keeps_title_datasets_references_and_every_word(pdfs, style, columns):
    paper, path = PAPERS[style], pdfs[style, columns]
    assert len(pypdfium2.PdfDocument(path)) >= 2
    original = clean_text(paper["text"])
    text = paper_text(path)
    haystack = normalise_mention(text)
    assert normalise_mention(original.splitlines()[0]) in haystack  # the title
    named = mentioned_in_text(paper["datasets"], original)
    assert named and mentioned_in_text(named, text) == named
    entries = reference_entries(paper["text"])
    assert len(entries) > 10
    assert all(normalise_mention(entry) in haystack for entry in entries)
    assert not Counter(WORD.findall(original.casefold())) - Counter(WORD.findall(text.casefold()))
    assert not CONTROL.search(text)


@pytest.mark.parametrize("columns", [1, 2])
def test_reflowed_text_has_the_originals_headings_and_one_reference_entry_a_line(pdfs, columns):
    paper = PAPERS["numbered"]
    text = paper_text(pdfs["numbered", columns])
    units = split_units(text)
    original = split_units(clean_text(paper["text"]))
    headings = {u.text for u in units if u.kind == "heading"}
    assert {u.text for u in original if u.kind == "heading"} <= headings
    assert len(headings) <= len({u.text for u in original if u.kind == "heading"}) + 2
    entries = [u.text for u in units if u.kind == "reference"]
    assert entries == reference_entries(paper["text"])  # numbered entries: exactly one a line
    # without reflow, the printed lines of two columns read as many more headings
    lines = split_units(clean_text(pdf_text(pdfs["numbered", columns])))
    if columns == 2:
        assert sum(u.kind == "heading" for u in lines) > 2 * len(headings)


def test_two_columns_read_first_column_before_second(pdfs):
    path = pdfs["author-year", 2]
    document = pypdfium2.PdfDocument(path)
    page = document[0]
    width, height = page.get_size()
    textpage = page.get_textpage()
    body = (60, height * 0.8)  # above the page number, below the title
    left = " ".join(textpage.get_text_bounded(0, body[0], width / 2, body[1]).split())
    right = " ".join(textpage.get_text_bounded(width / 2, body[0], width, body[1]).split())
    text = " ".join(paper_text(path).split())
    left_words, right_words = left.split()[:8], right.split()[-8:]
    # the column's first and last words, hyphen marks aside, found in that order
    first = text.find(" ".join(left_words).replace("\ufffe", ""))
    last = text.find(" ".join(right_words).replace("\ufffe", ""))
    assert 0 <= first < last
    assert len(left) > 1000 and len(right) > 1000


@pytest.mark.parametrize("columns", [1, 2])
@pytest.mark.parametrize("style", list(PAPERS))
def test_a_title_printed_on_two_lines_comes_back_as_one_line(pdfs, style, columns):
    title = clean_text(PAPERS[style]["text"]).splitlines()[0]
    printed = pypdfium2.PdfDocument(pdfs[style, columns])[0].get_textpage().get_text_range()
    assert printed.split("\r\n")[0] != title and " ".join(printed.split()).startswith(title)  # two lines
    assert paper_text(pdfs[style, columns]).split("\n")[0] == title
    assert split_units(paper_text(pdfs[style, columns]))[0].text == title


def _first_page(path: Path, title: list[str], running_head: str = "", stamp: str = "", scaled: bool = False):
    """A one-page PDF: an 8-point running head, a 16-point title on the given lines (the last set as 1-point
    type scaled by 16 when ``scaled``), a 20-point stamp rotated in the margin, then 10-point body lines."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    canvas = Canvas(str(path), pagesize=A4, invariant=1)
    if running_head:
        canvas.setFont("Helvetica", 8)
        canvas.drawString(72, 800, running_head)
    for number, line in enumerate(title):
        y = 760 - 20 * number
        if scaled and number == len(title) - 1:
            canvas.saveState()
            canvas.translate(72, y)
            canvas.scale(16, 16)
            canvas.setFont("Helvetica-Bold", 1)
            canvas.drawString(0, 0, line)
            canvas.restoreState()
        else:
            canvas.setFont("Helvetica-Bold", 16)
            canvas.drawString(72, y, line)
    if stamp:
        canvas.saveState()
        canvas.translate(30, 300)
        canvas.rotate(90)
        canvas.setFont("Times-Roman", 20)
        canvas.drawString(0, 0, stamp)
        canvas.restoreState()
    canvas.setFont("Helvetica", 10)
    canvas.drawString(72, 620, "Abstract")
    for number in range(30):
        canvas.drawString(
            72, 600 - 14 * number, f"Body line {number} of the paper reports results on a dataset."
        )
    canvas.save()


def test_a_small_running_head_and_a_rotated_stamp_are_not_joined_to_the_title(tmp_path):
    path = tmp_path / "head.pdf"
    head, stamp = "Published as a conference paper at ICLR 2020", "arXiv:2001.00001v1 [cs.LG] 1 Jan 2020"
    _first_page(path, ["Learning to Read Papers", "for Their Datasets"], head, stamp, scaled=True)
    lines = paper_text(path).split("\n")
    assert lines[:3] == [head, "Learning to Read Papers for Their Datasets", ""]
    assert "Abstract" in lines and stamp in lines  # the stamp, rotated large type, is a line of its own


def test_no_title_is_found_where_all_type_is_one_size_or_the_large_type_runs_too_long(tmp_path):
    plain, long = tmp_path / "plain.pdf", tmp_path / "long.pdf"
    _first_page(plain, [])
    _first_page(
        long, [f"Line {number} of a poster set in large type" for number in range(TITLE_MAX_LINES + 1)]
    )
    for path in (plain, long):
        page = pypdfium2.PdfDocument(path)[0]
        assert title_span(page.get_textpage(), page.get_height()) is None
    assert paper_text(plain).startswith("Abstract\nBody line 0 ")  # the text as before


def test_pdfium_marks_line_end_hyphens_and_the_clean_text_joins_them(pdfs):
    raw = join_pages(pdfium_pages(pdfs["author-year", 2]))
    marked = re.findall(r"(\w+)\ufffe(\w+)", raw)
    assert len(marked) > 10 and "\r\n" in raw
    text = paper_text(pdfs["author-year", 2])
    assert all(f"{head}{tail}" in text for head, tail in marked if tail.islower())
    assert "\ufffe" not in text and "\r" not in text


def test_pypdf_fallback_is_used_when_pdfium_raises(pdfs, monkeypatch):
    path = pdfs["author-year", 2]
    expected = tidy_pdf_text(join_pages(pypdf_pages(path)))
    assert re.search(r"[a-z]-\n[a-z]", join_pages(pypdf_pages(path)))  # pypdf keeps hyphen and line break

    def broken(*args, **kwargs):
        raise pypdfium2.PdfiumError("Failed to load document (PDFium: Data format error).")

    monkeypatch.setattr(pypdfium2, "PdfDocument", broken)
    with pytest.raises(pypdfium2.PdfiumError):
        pdfium_pages(path)
    assert paper_text(path) == expected
    original = clean_text(PAPERS["author-year"]["text"])
    assert not Counter(WORD.findall(original.casefold())) - Counter(WORD.findall(expected.casefold()))


def test_encrypted_pdf_needing_a_password_is_unreadable_and_an_empty_password_is_read(pdfs, tmp_path):
    source = pdfs["numbered", 1]
    write_encrypted_pdf(source, tmp_path / "locked.pdf", "secret")
    with pytest.raises(UnreadablePaper) as caught:
        pdf_text(tmp_path / "locked.pdf")
    assert caught.value.reason == "encrypted" and caught.value.path == tmp_path / "locked.pdf"
    assert str(tmp_path / "locked.pdf") in str(caught.value) and "\n" not in str(caught.value)
    write_encrypted_pdf(source, tmp_path / "open.pdf", "")
    assert b"/Encrypt" in (tmp_path / "open.pdf").read_bytes()
    assert paper_text(tmp_path / "open.pdf") == paper_text(source)


def test_pypdf_fallback_also_refuses_a_password_and_reads_an_empty_one(pdfs, tmp_path):
    write_encrypted_pdf(pdfs["numbered", 1], tmp_path / "locked.pdf", "secret")
    with pytest.raises(UnreadablePaper) as caught:
        pypdf_pages(tmp_path / "locked.pdf")
    assert caught.value.reason == "encrypted"
    write_encrypted_pdf(pdfs["numbered", 1], tmp_path / "open.pdf", "")
    assert pypdf_pages(tmp_path / "open.pdf") == pypdf_pages(pdfs["numbered", 1])


def test_corrupt_truncated_and_empty_files_are_unreadable(pdfs, tmp_path):
    write_corrupt_pdf(tmp_path / "corrupt.pdf")
    write_corrupt_pdf(tmp_path / "scrambled.pdf", pdfs["numbered", 1])
    data = pdfs["numbered", 2].read_bytes()
    (tmp_path / "truncated.pdf").write_bytes(data[: len(data) // 2])
    (tmp_path / "empty.pdf").write_bytes(b"")
    (tmp_path / "not-a-pdf.pdf").write_text("just some words, not a PDF at all\n" * 5)
    expected = {"corrupt": "corrupt", "scrambled": "corrupt", "truncated": "corrupt", "empty": "empty"}
    expected["not-a-pdf"] = "corrupt"
    for name, reason in expected.items():
        with pytest.raises(UnreadablePaper) as caught:
            paper_text(tmp_path / f"{name}.pdf")
        assert caught.value.reason == reason, name
        assert caught.value.path == tmp_path / f"{name}.pdf"
    with pytest.raises(UnreadablePaper) as caught:
        pdf_text(tmp_path / "missing.pdf")
    assert caught.value.reason == "cannot open"


def test_image_only_pdf_has_no_text(tmp_path):
    lines = clean_text(PAPERS["numbered"]["text"]).splitlines()[:30]
    write_image_only_pdf(tmp_path / "scan.pdf", lines, pages=2)
    assert len(pypdfium2.PdfDocument(tmp_path / "scan.pdf")) == 2
    with pytest.raises(UnreadablePaper) as caught:
        paper_text(tmp_path / "scan.pdf")
    assert caught.value.reason == "no text"


def test_txt_papers_are_read_as_utf8_with_bad_bytes_replaced_and_cleaned(tmp_path):
    path = tmp_path / "paper.txt"
    path.write_bytes("Eﬃcient evalu-\nation of\x07 data\r\n".encode() + b"caf\xe9 ok\n")
    assert paper_text(path) == "Efficient evaluation of data\ncaf\ufffd ok"
    (tmp_path / "blank.txt").write_text(" \n\t\n")
    with pytest.raises(UnreadablePaper) as caught:
        paper_text(tmp_path / "blank.txt")
    assert caught.value.reason == "empty"
    (tmp_path / "paper.docx").write_text("x")
    with pytest.raises(PaperdcatError, match=r"paper\.docx: unsupported file type"):
        paper_text(tmp_path / "paper.docx")


def test_page_numbers_alone_on_a_first_or_last_line_are_dropped():
    assert without_page_number("12\r\nThe page\r\nends here\r\n3\n") == "The page\r\nends here"
    assert without_page_number("cut at the foot: evalu\ufffe7") == "cut at the foot: evalu\ufffe"
    assert without_page_number("Results in 2019\r\nand 2020") == "Results in 2019\r\nand 2020"
    pages = ["the first page ends with evalu-\n1\n", "2\nation of the method"]
    assert tidy_pdf_text(join_pages(pages)) == "the first page ends with evaluation of the method"


def test_reflow_joins_full_lines_keeps_headings_and_splits_reference_entries():
    full = "x" * 60
    text = "\n".join(
        [
            "Title of the Paper",
            "Abstract",
            f"A paragraph whose first line is full {full}",
            "and whose last is short.",
            "1 Introduction",
            f"Another paragraph, its line full as well {full}",
            "ends.",
            "References",
            "A. Author, B. Writer, and C. E.",
            "Person. 2016. A Title that Runs on. In ACL.",
            "D. Other. 2019. Short Title. In NeurIPS. doi:10.1/xyz",
            "E. Last, F. Final, et al.",
            "2020. Final Title.",
            "arXiv preprint.",
            "[7] G. Numbered. 2021. Title.",
        ]
    )
    assert reflow(text).split("\n") == [
        "Title of the Paper",
        "Abstract",
        f"A paragraph whose first line is full {full} and whose last is short.",
        "1 Introduction",
        f"Another paragraph, its line full as well {full} ends.",
        "References",
        "A. Author, B. Writer, and C. E. Person. 2016. A Title that Runs on. In ACL.",
        "D. Other. 2019. Short Title. In NeurIPS. doi:10.1/xyz",
        "E. Last, F. Final, et al. 2020. Final Title. arXiv preprint.",
        "[7] G. Numbered. 2021. Title.",
    ]


def test_hyphenation_points_break_letter_words_only_and_never_before_a_capital():
    assert ("embed", "ding") in hyphenation_points("embedding")
    for word in ("ImageNet", "part-of-speech", "ResNet50", "the", "weight"):
        assert hyphenation_points(word) == []
    for head, tail in hyphenation_points("classification"):
        assert head + tail == "classification" and len(head) >= 3 and len(tail) >= 3


def test_renders_are_deterministic(tmp_path):
    render_pdf(PAPERS["numbered"], tmp_path / "a.pdf", 2)
    render_pdf(PAPERS["numbered"], tmp_path / "b.pdf", 2)
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
    with pytest.raises(ValueError, match="columns"):
        render_pdf(PAPERS["numbered"], tmp_path / "c.pdf", 3)


def test_unreadable_paper_is_a_one_line_user_error():
    error = UnreadablePaper(Path("papers/x.pdf"), pdf.CORRUPT, "pdfium: bad\nthing")
    assert isinstance(error, PaperdcatError)
    assert str(error) == "papers/x.pdf: unreadable paper: corrupt (pdfium: bad thing)"
