"""Papers as real PDFs (reportlab), and the bad PDFs a reader must refuse, for tests and benchmarks.

``render_pdf`` typesets a normalised paper record (``paperdcat.corpus.generated`` layout: title, blocks
separated by a blank line, one-line headings, a ``References`` section with one entry per line) on A4
pages, in one or two columns: the title across the page, bold headings, justified paragraphs with
line-end hyphenation, hanging-indented reference entries, left-aligned extra lines of a block (footnotes,
table rows), page numbers. The output depends only on the record and ``columns`` (reportlab's
``invariant`` mode: no dates or random ids).

Hyphenation needs no dictionary package (reportlab would use pyphen if asked for a language and pyphen were
installed): ``hyphenation_points`` offers syllable-like breaks (``embed-ding``, ``recog-nition``), three
letters at least on each side and never before a capital (``ImageNet`` is not split into ``Image-`` ``Net``).
They are not always where a dictionary puts them, which does not matter to a text extractor: what it sees
is a word cut by a hyphen at a line end.

Font: DejaVu Sans, which has the Greek letters and symbols of the generated formulas, from matplotlib's
data or the system's fonts; without either, reportlab's own Bitstream Vera, which lacks Greek (those
letters are then drawn as empty boxes and lost to extraction).
"""

from __future__ import annotations

import importlib.util
import random
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from paperdcat.extraction.context import REFERENCES_SECTION, is_heading
from paperdcat.io import atomic_path

PAGE_MARGIN = 56.0
COLUMN_GAP = 20.0
FOOTER_Y = 28.0
VOWELS = frozenset("aeiouy")
DIGRAPHS = frozenset({"ch", "ck", "gh", "ph", "qu", "sh", "th", "wh"})
MIN_HYPHEN_PART = 3
_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu",)


@cache
def _fonts() -> tuple[str, str]:
    """Register and return the (regular, bold) font names: DejaVu Sans where found, else Vera."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    folders = list(_FONT_DIRS)
    if spec := importlib.util.find_spec("matplotlib"):
        folders.insert(0, str(Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf"))
    for folder in map(Path, folders):
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            pdfmetrics.registerFont(TTFont("PaperSans", str(regular)))
            pdfmetrics.registerFont(TTFont("PaperSans-Bold", str(bold)))
            return "PaperSans", "PaperSans-Bold"
    pdfmetrics.registerFont(TTFont("Vera", "Vera.ttf"))  # ships with reportlab
    pdfmetrics.registerFont(TTFont("VeraBd", "VeraBd.ttf"))
    return "Vera", "VeraBd"


def hyphenation_points(word: str) -> list[tuple[str, str]]:
    """Where ``word`` may break at a line end, as (head, tail) pairs, longest head first: before a consonant
    that a vowel follows (``evalu-ation`` no, ``eva-luation``, ``embed-ding``), keeping a digraph (``th``,
    ``ck``, ...) whole; none in a word that is not all letters (``part-of-speech``, ``ResNet50``)."""
    if not word.isalpha():
        return []
    lower = word.lower()
    points = []
    for i in range(len(word) - MIN_HYPHEN_PART, MIN_HYPHEN_PART - 1, -1):
        if not word[i:].islower() or lower[i] in VOWELS or lower[i + 1] not in VOWELS:
            continue
        if lower[i - 1] in VOWELS or (lower[i - 2] in VOWELS and lower[i - 1 : i + 1] not in DIGRAPHS):
            points.append((word[:i], word[i:]))
    return points


def _styles(columns: int) -> dict[str, Any]:
    from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
    from reportlab.lib.styles import ParagraphStyle

    regular, bold = _fonts()
    size = 10.0 if columns == 1 else 9.0
    body = ParagraphStyle(
        "body",
        fontName=regular,
        fontSize=size,
        leading=size * 1.25,
        alignment=TA_JUSTIFY,
        spaceAfter=size * 0.5,
        hyphenationLang=hyphenation_points,
    )
    return {
        "title": ParagraphStyle(
            "title", fontName=bold, fontSize=16, leading=20, alignment=TA_CENTER, spaceAfter=6
        ),
        "heading": ParagraphStyle(
            "heading",
            fontName=bold,
            fontSize=size + 1.5,
            leading=(size + 1.5) * 1.25,
            spaceBefore=size * 0.8,
            spaceAfter=size * 0.4,
            keepWithNext=1,
        ),
        "body": body,
        "reference": ParagraphStyle(
            "reference", parent=body, fontSize=size - 1, leading=(size - 1) * 1.2, leftIndent=12,
            firstLineIndent=-12, spaceAfter=2,
        ),
        "line": ParagraphStyle(
            "line", parent=body, fontSize=size - 1, leading=(size - 1) * 1.2, alignment=TA_LEFT,
            hyphenationLang="", spaceAfter=2,
        ),
    }  # fmt: skip


def _story(text: str, styles: dict[str, Any]) -> tuple[Any, list[Any]]:
    """The title paragraph and the flowables of the rest of ``text``."""
    from reportlab.platypus import Paragraph

    blocks = [block.strip() for block in re.split(r"\n[ \t]*\n", text.strip()) if block.strip()]
    title = Paragraph(escape(" ".join(blocks[0].split())), styles["title"])
    story: list[Any] = []
    in_references = False
    for block in blocks[1:]:
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if len(lines) == 1 and is_heading(lines[0]):
            in_references = bool(REFERENCES_SECTION.match(lines[0]))
            story.append(Paragraph(escape(lines[0]), styles["heading"]))
        elif in_references:
            story.extend(Paragraph(escape(line), styles["reference"]) for line in lines)
        else:
            story.append(Paragraph(escape(lines[0]), styles["body"]))
            story.extend(Paragraph(escape(line), styles["line"]) for line in lines[1:])
    return title, story


def render_pdf(paper: dict, path: Path, columns: int = 1) -> None:
    """Typeset ``paper["text"]`` as a PDF at ``path`` in ``columns`` (1 or 2) columns."""
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import BaseDocTemplate, Frame, FrameBreak, NextPageTemplate, PageTemplate

    if columns not in (1, 2):
        raise ValueError(f"columns must be 1 or 2, not {columns}")
    styles = _styles(columns)
    title, story = _story(paper["text"], styles)
    width, height = A4
    inner = width - 2 * PAGE_MARGIN
    title_height = title.wrap(inner, height)[1] + styles["title"].spaceAfter + 6
    column = (inner - (columns - 1) * COLUMN_GAP) / columns

    def columns_below(top: float, prefix: str) -> list[Frame]:
        return [
            Frame(PAGE_MARGIN + i * (column + COLUMN_GAP), PAGE_MARGIN, column, top - PAGE_MARGIN,
                  id=f"{prefix}{i}", leftPadding=0, rightPadding=0)
            for i in range(columns)
        ]  # fmt: skip

    def page_number(canvas, document) -> None:
        canvas.setFont(styles["body"].fontName, 8)
        canvas.drawCentredString(width / 2, FOOTER_Y, str(document.page))

    top = height - PAGE_MARGIN
    title_frame = Frame(PAGE_MARGIN, top - title_height, inner, title_height, id="title", leftPadding=0,
                        rightPadding=0, topPadding=0, bottomPadding=0)  # fmt: skip
    with atomic_path(path) as tmp:
        document = BaseDocTemplate(
            str(tmp),
            pagesize=A4,
            title=str(paper.get("paper_id", "")),
            author="paperdcat",
            invariant=1,
        )
        document.addPageTemplates(
            [
                PageTemplate("first", [title_frame, *columns_below(top - title_height, "first")],
                             onPageEnd=page_number),
                PageTemplate("rest", columns_below(top, "rest"), onPageEnd=page_number),
            ]
        )  # fmt: skip
        document.build([title, NextPageTemplate("rest"), FrameBreak(), *story])


def write_encrypted_pdf(src: Path, dst: Path, password: str) -> None:
    """Copy the PDF ``src`` to ``dst`` encrypted (AES-256) with user password ``password``; an empty one
    gives a file that opens without asking (only its owner password, a random one, is secret)."""
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=src)
    owner = f"owner-{random.Random(str(dst)).getrandbits(64):x}"
    writer.encrypt(user_password=password, owner_password=owner, algorithm="AES-256")
    with atomic_path(dst) as tmp, tmp.open("wb") as handle:
        writer.write(handle)


def write_corrupt_pdf(dst: Path, src: Path | None = None) -> None:
    """A file that starts like a PDF but holds no parseable PDF structure: ``src``'s header followed by its
    bytes scrambled (or a fixed pattern without ``src``)."""
    data = src.read_bytes() if src else b"%PDF-1.7\n" + bytes(range(256)) * 64
    body = bytearray(data[9:])
    random.Random(len(data)).shuffle(body)
    with atomic_path(dst) as tmp:
        tmp.write_bytes(b"%PDF-1.7\n" + bytes(body).replace(b"obj", b"jbo").replace(b"xref", b"fxre"))


def write_image_only_pdf(dst: Path, lines: Sequence[str], pages: int = 2) -> None:
    """A PDF whose pages are pictures of ``lines`` of text, with no text layer: a scan without OCR."""
    from PIL import Image, ImageDraw
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    width, height = A4
    scan = Image.new("L", (int(width), int(height)), color=255)
    draw = ImageDraw.Draw(scan)
    for number, line in enumerate(lines):
        draw.text((int(PAGE_MARGIN), int(PAGE_MARGIN) + 14 * number), line, fill=0)
    with atomic_path(dst) as tmp:
        canvas = Canvas(str(tmp), pagesize=A4, invariant=1)
        for _ in range(pages):
            canvas.drawImage(ImageReader(scan), 0, 0, width, height)
            canvas.showPage()
        canvas.save()
