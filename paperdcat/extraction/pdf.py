"""A paper's text from a PDF or a plain-text file.

PDF text comes from PDFium (pypdfium2), page by page; when PDFium raises on a file (it cannot open it, or
a page's text), pypdf reads the whole file instead. Neither library is under the AGPL.

Which PDFs are unreadable (``UnreadablePaper``, with a short ``reason``):

- ``encrypted``: the file needs a password to open. A PDF encrypted with an *empty* user password (an
  owner password that only restricts printing or copying) opens in every viewer without asking, and both
  libraries decrypt it the same way; it is read like any other PDF, and its permission flags are not
  consulted: reading a paper's text to describe the datasets it uses is what a reader does.
- ``corrupt``: neither library can parse it.
- ``empty``: a file of zero bytes, or a PDF without pages (a ``.txt`` file with only whitespace).
- ``no text``: fewer than ``MIN_WORDS`` words in all pages, as in a scan without a text layer (image-only);
  a stamp ("Downloaded from ...") or page numbers alone do not make a paper.
- ``cannot open``: the file cannot be read at all (missing, a folder, no permission).

``paper_text`` returns the text cleaned by ``paperdcat.extraction.context.clean_text``, which also resolves
PDFium's mark of a line-end hyphen (see ``PDFIUM_HYPHEN`` there); a PDF's printed lines are then joined into
paragraphs and reference entries (``reflow``), the layout of the corpus texts that the context builder
reads. The first page's title is found by its type size (``title_span``) and joined into one line; the
pypdf fallback, which reports no type sizes, leaves a title printed on two lines as two lines.
"""

from __future__ import annotations

import ctypes
import itertools
import logging
import math
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from paperdcat.errors import PaperdcatError
from paperdcat.extraction.context import NUMBERED_ENTRY, REFERENCES_SECTION, clean_text, is_heading

ENCRYPTED = "encrypted"
CORRUPT = "corrupt"
EMPTY = "empty"
NO_TEXT = "no text"
CANNOT_OPEN = "cannot open"
MIN_WORDS = 20
LETTER_WORD = re.compile(r"[^\W\d_]{2,}")
INDENT = re.compile(r"[ \t]*\n[ \t]*")
FULL_LINE = 0.8  # a printed line at least this share of the median line length runs on to the next line
# The end of a reference entry: a full stop that does not end an initial or "et al.", or a DOI or URL.
ENTRY_END = re.compile(r"(?<!\b[A-Z])(?<!\bal)\.$|(?:doi:|https?://)\S+$")
ENTRY_CONTINUATION = re.compile(r"^[a-z\d(]")  # "2016. Layer Normalization", "arXiv preprint", "(2019)"
# A page number alone on a page's first or last line; at the end it may follow PDFium's line-end hyphen mark,
# which then stays, so that a word cut at the foot of a page is joined to its tail on the next page.
PAGE_NUMBER_START = re.compile(r"\A\s*\d{1,4}[ \t]*(?:\r\n|\r|\n)")
PAGE_NUMBER_END = re.compile(r"(?:\r\n|\r|\n|([\x02\ufffe]))[ \t]*\d{1,4}\s*\Z")
# A first page's title (``title_span``): in type at least TITLE_SCALE times the size of most of the page's
# text and used for TITLE_MIN_CHARS characters or more, on at most TITLE_MAX_LINES lines and TITLE_MAX_CHARS
# characters, TITLE_SHARE of each line's characters in the largest type (a footnote mark is smaller).
TITLE_SCALE = 1.2
TITLE_MIN_CHARS = 8
TITLE_MAX_LINES = 4
TITLE_MAX_CHARS = 300
TITLE_SHARE = 0.8
PRINTED_HYPHEN_BREAK = re.compile(r"[\x02\ufffe](?:\r\n|\r|\n)(?![a-z])")
TITLE_LINE_BREAK = re.compile(r"(?<![\x02\ufffe])[ \t]*(?:\r\n|\r|\n)[ \t]*")


class UnreadablePaper(PaperdcatError):
    """A paper file whose text cannot be read; ``reason`` is one of the short reasons above."""

    def __init__(self, path: Path, reason: str, detail: str = "") -> None:
        self.path = Path(path)
        self.reason = reason
        self.detail = " ".join(detail.split())
        super().__init__(f"{path}: unreadable paper: {reason}" + (f" ({self.detail})" if self.detail else ""))


def _check_file(path: Path) -> None:
    try:
        size = path.stat().st_size
    except OSError as error:
        raise UnreadablePaper(path, CANNOT_OPEN, error.strerror or str(error)) from None
    if not path.is_file():
        raise UnreadablePaper(path, CANNOT_OPEN, "not a file")
    if size == 0:
        raise UnreadablePaper(path, EMPTY, "0 bytes")


def title_span(textpage: object, page_height: float) -> tuple[int, int] | None:
    """The character range ``(start, end)`` of the title on a paper's first page, or None.

    The title is the run of consecutive lines, in PDFium's reading order, set mostly (``TITLE_SHARE`` of
    their characters) in the page's largest type (of at least ``TITLE_MIN_CHARS`` characters), the first of
    them in the upper half of the page. Nothing is a title unless that type is ``TITLE_SCALE`` times the
    size of most of the page's text (a page all in one size has none); a run longer than
    ``TITLE_MAX_LINES`` lines or ``TITLE_MAX_CHARS`` characters is not a title (a poster, a slide). Rotated
    characters (arXiv's stamp in the margin) and PDFium's generated spaces and line breaks are not counted.
    Running heads above the title ("Published as a conference paper at ...") are small print and stay
    lines of their own, before the title.
    """
    import pypdfium2.raw as pdfium_c

    raw = textpage.raw  # type: ignore[attr-defined]
    unicode, generated, angle_of = (
        pdfium_c.FPDFText_GetUnicode,
        pdfium_c.FPDFText_IsGenerated,
        pdfium_c.FPDFText_GetCharAngle,
    )
    font_size, get_matrix, origin = (
        pdfium_c.FPDFText_GetFontSize,
        pdfium_c.FPDFText_GetMatrix,
        pdfium_c.FPDFText_GetCharOrigin,
    )
    matrix = pdfium_c.FS_MATRIX()
    lines: list[tuple[int, int, list[float], float]] = []  # first and after-last character, sizes, top y
    start, end, sizes, top = 0, 0, [], -math.inf
    x, y = ctypes.c_double(), ctypes.c_double()
    count = pdfium_c.FPDFText_CountChars(raw)
    for index in range(count + 1):
        char = unicode(raw, index) if index < count else 10
        if char == 10:  # "\n", the end of a printed line (PDFium's "\r\n", or the page's end)
            if sizes:
                lines.append((start, end, sizes, top))
            start, sizes, top = index + 1, [], -math.inf
            continue
        if chr(char).isspace() or generated(raw, index) == 1:
            continue
        angle = angle_of(raw, index)
        if angle < 0 or min(angle, 2 * math.pi - angle) > 0.01:  # rotated, or -1 for an error
            continue
        # the printed size: the font size (the ``Tf`` operand) times the vertical scale of the character's
        # matrix, which a PDF may use instead (``1 Tf`` scaled by 16 is 16-point type)
        get_matrix(raw, index, matrix)
        sizes.append(round(font_size(raw, index) * math.hypot(matrix.c, matrix.d), 1))
        origin(raw, index, x, y)
        top, end = max(top, y.value), index + 1
    every = sorted(size for line in lines for size in line[2])
    # the largest type that prints a title's worth of characters: not a drop cap or a big symbol
    largest = max((size for size, n in Counter(every).items() if n >= TITLE_MIN_CHARS), default=0.0)
    if not every or largest < TITLE_SCALE * every[len(every) // 2]:
        return None

    def in_title(line: tuple[int, int, list[float], float]) -> bool:
        return sum(size >= largest - 0.2 for size in line[2]) >= TITLE_SHARE * len(line[2])

    first = next((number for number, line in enumerate(lines) if in_title(line)), None)
    if first is None or lines[first][3] < page_height / 2:  # the largest type is not a title's
        return None
    run = list(itertools.takewhile(in_title, lines[first:]))
    if len(run) > TITLE_MAX_LINES:
        return None
    span = run[0][0], run[-1][1]
    return span if span[1] - span[0] <= TITLE_MAX_CHARS else None


def one_line(title: str) -> str:
    """A title's printed lines joined by a space and followed by a blank line, the layout of the corpus
    texts (a title line is then never run on into the authors' line by ``reflow``). A line-end hyphen
    (PDFium's mark) before a lower-case letter stays for ``clean_text`` to join the word ("Verifi-cation");
    any other is a printed "-" ("Multi-Task")."""
    title = PRINTED_HYPHEN_BREAK.sub("-", title)
    return TITLE_LINE_BREAK.sub(" ", title) + "\r\n"


def pdfium_pages(path: Path) -> list[str]:
    """Each page's text as PDFium reads it (``\\r\\n`` line ends, U+FFFE for a line-end hyphen), but for the
    first page's title (``title_span``), which is ``one_line``: a title printed on two or three lines would
    read as a cut title and a heading to ``split_units``."""
    import pypdfium2

    document = pypdfium2.PdfDocument(path)
    try:
        pages = []
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            text = textpage.get_text_range()
            if index == 0 and (span := title_span(textpage, page.get_height())):
                title = textpage.get_text_range(span[0], span[1] - span[0])
                text = text.replace(title, one_line(title), 1)
            pages.append(text)
        return pages
    finally:
        document.close()


@contextmanager
def _quiet(logger: str) -> Iterator[None]:
    """Hold back a library's warnings: an unreadable file is reported once, as an UnreadablePaper."""
    log = logging.getLogger(logger)
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def pypdf_pages(path: Path, pdfium_error: Exception | None = None) -> list[str]:
    """Each page's text as pypdf reads it; ``pdfium_error``, PDFium's failure on the file, goes into the
    message of a ``corrupt`` UnreadablePaper."""
    import pypdf
    from pypdf.errors import DependencyError, FileNotDecryptedError

    try:
        with _quiet("pypdf"):
            reader = pypdf.PdfReader(path)  # tries the empty user password itself
            if reader.is_encrypted and not reader.decrypt(""):
                raise UnreadablePaper(path, ENCRYPTED, "needs a password")
            # a line's indentation (a reference entry's hanging indent) would keep "discri-\n minant" apart
            return [INDENT.sub("\n", page.extract_text() or "") for page in reader.pages]
    except (FileNotDecryptedError, DependencyError) as error:
        raise UnreadablePaper(path, ENCRYPTED, str(error)) from None
    except UnreadablePaper:
        raise
    except Exception as error:  # pypdf raises assorted errors (not only PdfReadError) on a malformed file
        detail = f"pdfium: {pdfium_error}; pypdf: {error}" if pdfium_error else f"pypdf: {error}"
        raise UnreadablePaper(path, CORRUPT, detail) from None


def without_page_number(page: str) -> str:
    """``page``'s text less a page number alone on its first or last line."""
    page = PAGE_NUMBER_START.sub("", page)
    return PAGE_NUMBER_END.sub(lambda match: match.group(1) or "", page)


def join_pages(pages: list[str]) -> str:
    """The pages' texts, each ``without_page_number``, joined by a line break."""
    return "\n".join(without_page_number(page) for page in pages)


def pdf_text(path: Path) -> str:
    """The text of a PDF's pages (PDFium, else pypdf) as the reader gives it, less page numbers
    (``without_page_number``), pages joined by a line break; not cleaned."""
    import pypdfium2

    path = Path(path)
    _check_file(path)
    try:
        pages = pdfium_pages(path)
    except pypdfium2.PdfiumError as error:
        pages = pypdf_pages(path, error)
    if not pages:
        raise UnreadablePaper(path, EMPTY, "no pages")
    text = join_pages(pages)
    if (words := len(LETTER_WORD.findall(text))) < MIN_WORDS:
        raise UnreadablePaper(path, NO_TEXT, f"{words} words in {len(pages)} pages: no text layer?")
    return text


def reflow(text: str) -> str:
    """Join the printed lines of a PDF's (cleaned) text into paragraphs and reference entries, one a line.

    A PDF's text breaks at every printed line, so that most lines of a two-column page read as headings
    to ``split_units`` (short, capitalised, no full stop) and a reference entry is cut into pieces that lose
    its authors or year. Here a line runs on into the next when it is full (at least ``FULL_LINE`` of the
    median length of lines of 20 characters or more), unless the next is a short heading; a heading never
    runs on. The references section, where entries are printed with a hanging indent that the text does not
    keep, runs to the end of the text (a short line of an entry looks like a heading; an appendix after the
    references is joined by the entry rules): when its first entry is numbered (``[1] ...``), every line
    that does not start with a number runs on; otherwise a line runs on unless it ends an entry
    (``ENTRY_END``) and the next does not continue one (``ENTRY_CONTINUATION``).
    """
    lines = text.split("\n")
    lengths = sorted(len(line) for line in lines if len(line) >= 20)
    if not lengths:
        return text
    full = FULL_LINE * lengths[len(lengths) // 2]

    def heading(line: str) -> bool:
        return len(line) < full and is_heading(line)

    out: list[str] = []
    previous = ""
    after_heading = in_references = numbered = False
    for line in lines:
        if not (out and line and previous) or after_heading:
            join = False
            numbered = numbered or (in_references and bool(NUMBERED_ENTRY.match(line)))
        elif in_references and numbered:
            join = not NUMBERED_ENTRY.match(line)
        elif in_references:
            join = not ENTRY_END.search(previous) or bool(ENTRY_CONTINUATION.match(line))
        else:
            join = len(previous) >= full and not heading(line)
        if join:
            out[-1] += " " + line
        else:
            out.append(line)
        after_heading = not join and not in_references and heading(line)
        in_references = in_references or (after_heading and bool(REFERENCES_SECTION.match(line)))
        previous = line
    return "\n".join(out)


def tidy_pdf_text(text: str) -> str:
    """``clean_text``, then ``reflow``: what ``paper_text`` makes of ``pdf_text``."""
    return reflow(clean_text(text))


def paper_text(path: Path) -> str:
    """The cleaned text of a paper file: ``.pdf`` through ``pdf_text`` and ``reflow``, ``.txt`` read as UTF-8
    (undecodable bytes replaced) and taken as it is laid out."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return tidy_pdf_text(pdf_text(path))
    if suffix != ".txt":
        raise PaperdcatError(f"{path}: unsupported file type {path.suffix!r} (expected .pdf or .txt)")
    _check_file(path)
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as error:
        raise UnreadablePaper(path, CANNOT_OPEN, error.strerror or str(error)) from None
    cleaned = clean_text(text)
    if not cleaned:
        raise UnreadablePaper(path, EMPTY, "only whitespace")
    return cleaned
