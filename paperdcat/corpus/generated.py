"""A deterministic synthetic corpus of papers that use real datasets from ``paperdcat.corpus.catalogue``.

Paper ``i`` of ``generate_corpus(n, seed)`` depends only on ``(seed, i)``: raising ``n`` keeps the first
papers identical. Each paper picks a research area, 0-4 catalogue datasets it uses, 1-3 distractor datasets
that the related work mentions but the paper does not use, and decides per dataset which facts the text
states. The words, sentence templates and paper layouts it draws from are data: ``data/phrases.yaml``, read
and checked on import.

Text layout (plain text, blocks separated by one blank line)::

    <title>

    Abstract

    <paragraph>

    1 Introduction

    <paragraph>
    ...
    4 Experiments
    ...
    4.1 Datasets
    ...
    References

    [1] <entry>          (numbered style; author-year entries start with the authors)
    <entry>              (one entry per line, no blank lines between entries)

A paragraph may end with footnote lines (``¹ https://...``). Citations are numbered (``[3]``, ``[3, 7]``) or
author-year (``(Deng et al., 2009)``), one style per paper.

Gold rules: a field is filled only when the text states it. Creators come from the dataset's reference entry,
where author names are always written given name first, either in full (``Jia Deng``) or with initials
(``J. Deng``), one rendering per paper; the gold creator is the name exactly as written there (so it always
occurs verbatim in the text). An entry truncated with "et al." yields only the names it lists. A dataset
mentioned without citation has no creators, and an issued year only if a sentence states it. ``aliases`` lists
the title, then every other name of the dataset that occurs in the text outside URLs (first occurrence first).
Gold datasets are ordered by their first mention in the datasets section.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from paperdcat.corpus.catalogue import CATALOGUE, CatalogueEntry
from paperdcat.datafile import DataFile
from paperdcat.schema import ALIASES, empty_dataset

MIN_WORDS, MAX_WORDS = 1500, 3500
_TARGET_WORDS = (1650, 3300)
N_USED_WEIGHTS: dict[int, int] = {0: 8, 1: 34, 2: 34, 3: 17, 4: 7}
AREA_WEIGHTS: dict[str, int] = {"nlp": 28, "vision": 27, "graphs": 14, "speech": 11, "tabular": 10, "rl": 10}
P_OFF_AREA = 0.15  # a used dataset drawn from any area instead of the paper's
P_CITED = 0.85
P_ET_AL = 0.5  # a reference with more than three authors lists three and "et al."
P_DOI_SHOWN = 0.4
P_LANDING = 0.5
P_DESCRIPTION = 0.5
P_TASKS = 0.85
P_THEME = 0.4
P_FORMAT = 0.3
P_LANGUAGE = 0.35
P_VERSION = 0.6
P_KEYWORDS = 0.35
P_YEAR_SENTENCE = 0.35  # for a dataset that is not cited
P_PRIMARY_ALIAS = 0.2
P_INTRO_FORM = 0.5

SUPERSCRIPTS = "¹²³⁴⁵⁶⁷⁸⁹"
NUMBER_WORDS = ("no", "one", "two", "three", "four", "five")
_DS = "⟦ds:{}⟧"
_CITE = "⟦cite:{}⟧"
_DS_RE = re.compile(r"⟦ds:(\d+)⟧")
_CITE_RE = re.compile(r"⟦cite:([^⟧]+)⟧")
_URL_RE = re.compile(r"https?://\S+")
_FIELD_RE = re.compile(r"\{(\w+)\}")
_ARTICLE_RE = re.compile(r"\b([Aa]) (?=[aeiouAEIOU])")
PHRASES_FILE = Path(__file__).parent / "data" / "phrases.yaml"


# --------------------------------------------------------------------------------------------- vocabulary
@dataclass(frozen=True)
class AreaProfile:
    """Words that make a paper of one research area sound like one."""

    field: str
    tasks: tuple[str, ...]
    components: tuple[str, ...]
    metrics: tuple[str, ...]
    losses: tuple[str, ...]
    venues: tuple[str, ...]
    private_data: tuple[str, ...]


_Section = tuple[str, str, tuple[tuple[str, str], ...]]  # kind, heading, subsections (kind, heading)
_MethodReference = tuple[tuple[str, ...], int, str, str]  # creators, year, title, venue


def _method_references(file: DataFile, value: Any, where: str) -> dict[str, _MethodReference]:
    """``{name: {creators, year, title, venue}}`` as ``{name: (creators, year, title, venue)}``."""
    forms = {"creators": tuple[str, ...], "year": int, "title": str, "venue": str}
    return {
        str(name): tuple(file.fields(reference, forms, f"{where}: {name}").values())
        for name, reference in file.mapping(value, where).items()
    }


def _layout_section(file: DataFile, value: Any, where: str) -> _Section:
    """A section of a paper layout: ``[kind, heading]`` or ``[kind, heading, [[kind, heading], ...]]``."""
    if not isinstance(value, list) or len(value) not in (2, 3):
        raise file.error(where, "expected [kind, heading] or [kind, heading, [[kind, heading], ...]]")
    return file.convert(value if len(value) == 3 else [*value, []], _Section, where)


# The lists are data (data/phrases.yaml: its header describes the template placeholders).
_PHRASES = DataFile(PHRASES_FILE)
AREA_PROFILES: dict[str, AreaProfile] = _PHRASES.take("area_profiles", dict[str, AreaProfile])
ADJECTIVES: tuple[str, ...] = _PHRASES.take("adjectives")
TITLE_NOUNS: tuple[str, ...] = _PHRASES.take("title_nouns")
NAME_HEADS: tuple[str, ...] = _PHRASES.take("name_heads")
NAME_TAILS: tuple[str, ...] = _PHRASES.take("name_tails")
FIRST_NAMES: tuple[str, ...] = _PHRASES.take("first_names")
SURNAMES: tuple[str, ...] = _PHRASES.take("surnames")
FILLER_TITLES: tuple[str, ...] = _PHRASES.take("filler_titles")
METHOD_REFERENCES: dict[str, _MethodReference] = _PHRASES.take("method_references", _method_references)
STRUCTURES: tuple[tuple[_Section, ...], ...] = _PHRASES.take(
    "structures", tuple[tuple[_layout_section, ...], ...]
)

# ------------------------------------------------------------------------------------- sentence pools
ABSTRACT_OPENERS: tuple[str, ...] = _PHRASES.take("abstract_openers")
ABSTRACT_GAPS: tuple[str, ...] = _PHRASES.take("abstract_gaps")
ABSTRACT_PROPOSALS: tuple[str, ...] = _PHRASES.take("abstract_proposals")
ABSTRACT_DETAILS: tuple[str, ...] = _PHRASES.take("abstract_details")
ABSTRACT_RESULTS: tuple[str, ...] = _PHRASES.take("abstract_results")
ABSTRACT_CLOSERS: tuple[str, ...] = _PHRASES.take("abstract_closers")
INTRO_CONTEXT: tuple[str, ...] = _PHRASES.take("intro_context")
INTRO_GAP: tuple[str, ...] = _PHRASES.take("intro_gap")
INTRO_PROPOSAL: tuple[str, ...] = _PHRASES.take("intro_proposal")
INTRO_CONTRIBUTIONS: tuple[str, ...] = _PHRASES.take("intro_contributions")
RELATED_FILLER: tuple[str, ...] = _PHRASES.take("related_filler")
RELATED_TOPICS: tuple[str, ...] = _PHRASES.take("related_topics")
DISTRACTOR_SENTENCES: tuple[str, ...] = _PHRASES.take("distractor_sentences")
METHOD_SENTENCES: tuple[str, ...] = _PHRASES.take("method_sentences")
EXP_INTROS: tuple[str, ...] = _PHRASES.take("exp_intros")
DATA_OPENERS: tuple[str, ...] = _PHRASES.take("data_openers")
DATA_KINDS: tuple[str, ...] = _PHRASES.take("data_kinds")
USAGE_WITH_TASKS: tuple[str, ...] = _PHRASES.take("usage_with_tasks")
USAGE_PLAIN: tuple[str, ...] = _PHRASES.take("usage_plain")
THEME_SENTENCES: tuple[str, ...] = _PHRASES.take("theme_sentences")
FORMAT_SENTENCES: tuple[str, ...] = _PHRASES.take("format_sentences")
LANGUAGE_SENTENCES: tuple[str, ...] = _PHRASES.take("language_sentences")
VERSION_SENTENCES: tuple[str, ...] = _PHRASES.take("version_sentences")
KEYWORD_SENTENCES: tuple[str, ...] = _PHRASES.take("keyword_sentences")
YEAR_SENTENCES: tuple[str, ...] = _PHRASES.take("year_sentences")
LANDING_SENTENCES: tuple[str, ...] = _PHRASES.take("landing_sentences")
SPLIT_SENTENCES: tuple[str, ...] = _PHRASES.take("split_sentences")
DATA_CLOSERS: tuple[str, ...] = _PHRASES.take("data_closers")
PRIVATE_DATA_SENTENCES: tuple[str, ...] = _PHRASES.take("private_data_sentences")
PRIVATE_FOLLOWUPS: tuple[str, ...] = _PHRASES.take("private_followups")
BASELINE_SENTENCES: tuple[str, ...] = _PHRASES.take("baseline_sentences")
OPTIMIZER_SENTENCES: tuple[str, ...] = _PHRASES.take("optimizer_sentences")
IMPL_SENTENCES: tuple[str, ...] = _PHRASES.take("impl_sentences")
RESULT_SENTENCES: tuple[str, ...] = _PHRASES.take("result_sentences")
PRIVATE_RESULT_SENTENCES: tuple[str, ...] = _PHRASES.take("private_result_sentences")
RESULT_GENERAL: tuple[str, ...] = _PHRASES.take("result_general")
ANALYSIS_SENTENCES: tuple[str, ...] = _PHRASES.take("analysis_sentences")
LIMITATION_SENTENCES: tuple[str, ...] = _PHRASES.take("limitation_sentences")
CONCLUSION_SENTENCES: tuple[str, ...] = _PHRASES.take("conclusion_sentences")
_PHRASES.refuse_untaken()
if set(AREA_PROFILES) != set(AREA_WEIGHTS):
    raise _PHRASES.error(
        "area_profiles", f"expected the areas {', '.join(AREA_WEIGHTS)}, got {', '.join(AREA_PROFILES)}"
    )

NUMBER_GENERATORS: dict[str, Callable[[random.Random], str]] = {
    "pct": lambda r: f"{r.uniform(0.3, 6.0):.1f}",
    "score": lambda r: f"{r.uniform(55.0, 97.0):.1f}",
    "score2": lambda r: f"{r.uniform(50.0, 94.0):.1f}",
    "int": lambda r: str(r.randint(2, 12)),
    "small": lambda r: str(r.randint(2, 5)),
    "big": lambda r: f"{r.randint(2, 900) * 100:,}",
    "lr": lambda r: r.choice(("1e-3", "3e-4", "5e-4", "1e-4", "2e-5", "5e-5")),
    "bs": lambda r: r.choice(("16", "32", "64", "128", "256", "512")),
    "epochs": lambda r: r.choice(("10", "20", "30", "50", "100", "200", "300")),
    "hardware": lambda r: r.choice(
        (
            "8 NVIDIA A100 GPUs",
            "4 NVIDIA V100 GPUs",
            "16 TPUv3 cores",
            "a single NVIDIA RTX 3090 GPU",
            "2 NVIDIA A6000 GPUs",
        )
    ),
    "dim": lambda r: r.choice(("128", "256", "384", "512", "768", "1024")),
    "layers": lambda r: str(r.choice((2, 4, 6, 8, 12, 16, 24))),
    "lam": lambda r: r.choice(("0.01", "0.05", "0.1", "0.5")),
    "lam2": lambda r: r.choice(("1.0", "2.0", "5.0")),
    "momentum": lambda r: r.choice(("0.99", "0.996", "0.999")),
    "wd": lambda r: r.choice(("0.01", "0.05", "1e-4", "5e-4")),
    "drop": lambda r: r.choice(("0.1", "0.2", "0.3")),
    "kappa": lambda r: r.choice(("0.71", "0.78", "0.84", "0.9")),
}


# ------------------------------------------------------------------------------------------ helpers
def _names_pattern(names: Iterable[str]) -> re.Pattern[str]:
    """A case-sensitive pattern matching any of ``names`` as a whole token (not inside a longer word)."""
    alternatives = sorted(set(names), key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(name) for name in alternatives) + r")(?!\w)")


def _entry_texts(entry: CatalogueEntry) -> str:
    """Everything a paper may write about an entry besides generated sentences."""
    return "\n".join((*entry.names, entry.reference_title, entry.description))


@cache
def _conflict(a: int, b: int) -> bool:
    """Whether catalogue entries ``a`` and ``b`` cannot share a paper (a name of one occurs in the other)."""
    first, second = CATALOGUE[a], CATALOGUE[b]
    return bool(
        _names_pattern(first.names).search(_entry_texts(second))
        or _names_pattern(second.names).search(_entry_texts(first))
    )


def surface_forms(text: str, names: Sequence[str]) -> list[str]:
    """The names that occur in ``text`` outside URLs and outside longer names, in first-occurrence order.

    A shorter name inside a longer one ("COCO" in "MS COCO") does not count as an occurrence.
    """
    taken = bytearray(len(text))
    for match in _URL_RE.finditer(text):
        taken[match.start() : match.end()] = b"\x01" * (match.end() - match.start())
    first_seen: list[tuple[int, str]] = []
    for name in sorted(dict.fromkeys(names), key=len, reverse=True):
        first = None
        for match in _names_pattern([name]).finditer(text):
            if any(taken[match.start() : match.end()]):
                continue
            taken[match.start() : match.end()] = b"\x01" * (match.end() - match.start())
            first = match.start() if first is None else first
        if first is not None:
            first_seen.append((first, name))
    return [name for _, name in sorted(first_seen)]


_SURNAME_PARTICLES = frozenset(
    {"van", "von", "de", "der", "den", "da", "del", "la", "le", "Van", "De", "Le", "Las", "Tjong", "Kim"}
)


def _surname(name: str) -> str:
    """The family name of a given-name-first full name, keeping particles ("Van Gool", "de Las Casas")."""
    tokens = name.split()
    start = len(tokens) - 1
    while start > 1 and tokens[start - 1] in _SURNAME_PARTICLES:
        start -= 1
    return " ".join(tokens[start:])


def _initials(name: str) -> str:
    """``Li-Jia Li`` -> ``L.-J. Li``; ``Samuel R. Bowman`` -> ``S. R. Bowman``."""
    surname = _surname(name)
    given = name[: len(name) - len(surname)].split()
    initials = ["-".join(part[0].upper() + "." for part in token.split("-") if part) for token in given]
    return " ".join([*initials, surname])


def _join(items: Sequence[str], conjunction: str = "and") -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def _title_case(text: str) -> str:
    small = {"a", "an", "and", "for", "in", "of", "on", "the", "to", "via", "with"}
    words = text.split()
    return " ".join(
        word if (i and word in small) or any(c.isupper() for c in word) else word[:1].upper() + word[1:]
        for i, word in enumerate(words)
    )


def _capitalise(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:] if sentence[:1].islower() else sentence


def _weighted(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


# ------------------------------------------------------------------------------------------ records
@dataclass
class Reference:
    """One entry of the references section."""

    authors: tuple[str, ...]  # as rendered in the entry
    et_al: bool
    year: int
    title: str
    venue: str
    doi: str = ""  # shown at the end of the entry when non-empty

    def author_text(self) -> str:
        if self.et_al:
            return ", ".join(self.authors) + ", et al."
        if len(self.authors) <= 2:
            return " and ".join(self.authors)
        return ", ".join(self.authors[:-1]) + ", and " + self.authors[-1]

    def label(self) -> str:
        """The author-year citation label, e.g. ``Deng et al., 2009``."""
        first = _surname(self.authors[0])
        if len(self.authors) == 2 and not self.et_al:
            return f"{first} and {_surname(self.authors[1])}, {self.year}"
        return f"{first}{' et al.' if len(self.authors) > 1 or self.et_al else ''}, {self.year}"

    def entry(self, number: int | None) -> str:
        """The reference line, numbered (``[3] ...``) or author-year when ``number`` is None."""
        doi = f" doi:{self.doi}" if self.doi else ""
        title = self.title if self.title[-1] in ".?!" else f"{self.title}."
        venue = "arXiv preprint" if self.venue == "arXiv" else f"In {self.venue}" if self.venue else ""
        authors = self.author_text().removesuffix(".")
        if number is not None:
            where = f"{venue}, {self.year}." if venue else f"{self.year}."
            return f"[{number}] {authors}. {title} {where}{doi}"
        where = f" {venue}." if venue else ""
        return f"{authors}. {self.year}. {title}{where}{doi}"


@dataclass
class Mention:
    """How a paper mentions one dataset it uses, and which of its facts the text states."""

    entry: CatalogueEntry
    name: str  # the name used throughout the paper
    intro: str  # the form of the first mention, e.g. "Stanford Question Answering Dataset (SQuAD)"
    ref_key: str | None  # the reference cited for it, None when uncited
    tasks: list[str] = field(default_factory=list)
    stated: dict[str, Any] = field(default_factory=dict)  # DCAT field -> value stated in the text
    landing_style: str = ""  # "", "sentence", "paren" or "footnote"


@dataclass(frozen=True)
class GeneratedPaper:
    """A generated paper record plus what the generator knows beyond the record (for tests and analysis)."""

    record: dict[str, Any]
    distractors: tuple[str, ...]  # titles of catalogue datasets mentioned only in related work
    citation_style: str  # "numbered" or "author-year"


# ------------------------------------------------------------------------------------------ builder
class _PaperBuilder:
    """Builds one paper from its own random stream."""

    def __init__(self, seed: int, index: int) -> None:
        self.rng = random.Random(f"paperdcat-corpus:{seed}:{index}")
        self.paper_id = f"gen-{index:04d}"
        rng = self.rng
        self.area: str = _weighted(rng, AREA_WEIGHTS)
        self.profile = AREA_PROFILES[self.area]
        self.style = rng.choice(("numbered", "author-year"))
        self.full_names = rng.random() < 0.5
        self.references: dict[str, Reference] = {}
        self.cited: dict[str, bool] = {}  # reference title of a used dataset -> whether the paper cites it
        self.decks: dict[str, list[str]] = {}  # shuffled sentence pools dealt without repetition
        self.footnotes = 0
        used = self._pick_used(_weighted(rng, N_USED_WEIGHTS))
        self.distractors = self._pick_distractors(used, rng.randint(1, 3))
        self.mentions = [self._plan(entry) for entry in used]
        task = self.mentions[0].entry.tasks[0] if self.mentions else rng.choice(self.profile.tasks)
        method, *baselines = self._method_names(4)
        components = rng.sample(self.profile.components, 2)
        self.ctx: dict[str, str] = {
            "method": method,
            "baseline": baselines[0],
            "baseline2": baselines[1],
            "baseline3": baselines[2],
            "task": task,
            "field": self.profile.field,
            "component": components[0],
            "component2": components[1],
            "metric": rng.choice(self.profile.metrics),
            "adj": rng.choice(ADJECTIVES),
            "loss": rng.choice(self.profile.losses),
        }
        self.private = self._fill(rng.choice(self.profile.private_data), capitalise=False)

    # -------------------------------------------------------------------------------- choices
    def _pick_used(self, count: int) -> list[CatalogueEntry]:
        indices = list(range(len(CATALOGUE)))
        in_area = [i for i in indices if CATALOGUE[i].area == self.area]
        chosen: list[int] = []
        for _ in range(count * 20):
            if len(chosen) == count:
                break
            pool = indices if self.rng.random() < P_OFF_AREA else in_area
            candidate = self.rng.choice(pool)
            if candidate not in chosen and not any(_conflict(candidate, c) for c in chosen):
                chosen.append(candidate)
        return [CATALOGUE[i] for i in chosen]

    def _pick_distractors(self, used: list[CatalogueEntry], count: int) -> list[CatalogueEntry]:
        used_idx = [CATALOGUE.index(e) for e in used]
        ref_titles = {e.reference_title for e in used}
        candidates = [i for i, e in enumerate(CATALOGUE) if e.area == self.area and i not in used_idx]
        self.rng.shuffle(candidates)
        chosen: list[int] = []
        for candidate in candidates:
            if len(chosen) == count:
                break
            blocked = CATALOGUE[candidate].reference_title in ref_titles or any(
                _conflict(candidate, other) for other in used_idx + chosen
            )
            if not blocked:
                chosen.append(candidate)
        return [CATALOGUE[i] for i in chosen]

    def _method_names(self, count: int) -> list[str]:
        """Distinct made-up method names such as ``FlexFormer`` or ``ProtoAlign-v2``."""
        out: list[str] = []
        while len(out) < count:
            name = self.rng.choice(NAME_HEADS) + self.rng.choice(NAME_TAILS)
            if self.rng.random() < 0.2:
                name += f"-{self.rng.choice(('v2', 'L', 'XL', '2', 'S'))}"
            if name not in out:
                out.append(name)
        return out

    def _reference_for(self, entry: CatalogueEntry) -> str:
        """Register (once per reference title) the reference of a dataset and return its key."""
        key = f"d{CATALOGUE.index(entry)}"
        for existing, ref in self.references.items():
            if existing.startswith("d") and ref.title == entry.reference_title:
                return existing
        doi = entry.doi if self.rng.random() < P_DOI_SHOWN else ""
        self.references[key] = self._make_reference(
            entry.creators, entry.year, entry.reference_title, entry.venue, doi
        )
        return key

    def _make_reference(
        self, creators: Sequence[str], year: int, title: str, venue: str, doi: str
    ) -> Reference:
        et_al = len(creators) > 3 and self.rng.random() < P_ET_AL
        listed = creators[:3] if et_al else creators
        authors = tuple(name if self.full_names else _initials(name) for name in listed)
        return Reference(authors, et_al, year, title, venue, doi)

    def _plan(self, entry: CatalogueEntry) -> Mention:
        """Decide how the paper names and cites a dataset it uses, and which of its facts it states."""
        rng = self.rng
        name = entry.title
        if entry.aliases and rng.random() < P_PRIMARY_ALIAS:
            name = rng.choice(entry.aliases)
        intro = name
        long_forms = [n for n in entry.names if n != name and len(n.split()) >= 3 and len(n) > len(name)]
        if long_forms and rng.random() < P_INTRO_FORM:
            intro = f"{rng.choice(long_forms)} ({name})"
        cited = self.cited.setdefault(entry.reference_title, rng.random() < P_CITED)
        mention = Mention(entry, name, intro, self._reference_for(entry) if cited else None)
        if rng.random() < P_TASKS:
            mention.tasks = list(entry.tasks[: rng.randint(1, len(entry.tasks))])
        stated = mention.stated
        if cited:
            ref = self.references[mention.ref_key]
            stated["dcterms:creator"] = list(ref.authors)
            stated["dcterms:issued"] = str(ref.year)
            if ref.doi:
                stated["dcterms:identifier"] = ref.doi
        elif rng.random() < P_YEAR_SENTENCE:
            stated["dcterms:issued"] = str(entry.year)
        optional = (
            ("dcterms:description", P_DESCRIPTION, entry.description),
            ("dcat:theme", P_THEME, list(entry.theme)),
            ("dcterms:format", P_FORMAT, entry.modality_format),
            ("dcterms:language", P_LANGUAGE, entry.language),
            ("dcterms:hasVersion", P_VERSION, entry.version),
            ("dcat:keyword", P_KEYWORDS, list(entry.keywords)),
            ("dcat:landingPage", P_LANDING, entry.landing_page),
        )
        for dcat_field, probability, value in optional:
            if value and rng.random() < probability:
                stated[dcat_field] = value
        if "dcat:landingPage" in stated:
            mention.landing_style = rng.choice(("sentence", "sentence", "paren", "footnote"))
        if mention.tasks:
            stated["mls:task"] = mention.tasks
        return mention

    # -------------------------------------------------------------------------------- text
    def _filler_reference(self) -> str:
        key = f"f{sum(k.startswith('f') for k in self.references)}"
        rng = self.rng
        authors = [f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}" for _ in range(rng.randint(1, 5))]
        titles = {ref.title for ref in self.references.values()}
        title = ""
        while not title or title in titles:
            title = self._fill(
                rng.choice(FILLER_TITLES),
                Adj=_title_case(rng.choice(ADJECTIVES)),
                Noun=rng.choice(TITLE_NOUNS),
                Task=_title_case(self.ctx["task"]),
                Component=_title_case(rng.choice(self.profile.components)),
                Field=_title_case(self.profile.field),
                Name=self._method_names(1)[0],
            )
        self.references[key] = self._make_reference(
            list(dict.fromkeys(authors)), rng.randint(2012, 2024), title, rng.choice(self.profile.venues), ""
        )
        return key

    def _method_cite(self, name: str) -> str:
        key = f"m:{name}"
        if key not in self.references:
            creators, year, title, venue = METHOD_REFERENCES[name]
            self.references[key] = self._make_reference(creators, year, title, venue, "")
        return _CITE.format(key)

    def _fill(self, template: str, capitalise: bool = True, **extra: str) -> str:
        """Substitute ``{name}`` fields: extra values, paper context, citations, fresh random numbers."""

        def value(match: re.Match[str]) -> str:
            key = match.group(1)
            if key in extra:
                return extra[key]
            if key in self.ctx:
                return self.ctx[key]
            if key == "cite":
                return _CITE.format(",".join(self._filler_reference() for _ in range(self.rng.randint(1, 2))))
            if key.startswith("mcite_"):
                return self._method_cite(key.removeprefix("mcite_"))
            return NUMBER_GENERATORS[key](self.rng)

        text = _ARTICLE_RE.sub(r"\1n ", _FIELD_RE.sub(value, template))
        keeps_case = template.startswith("{name}")  # a dataset name is written exactly as spelled
        return _capitalise(text) if capitalise and not keeps_case else text

    def _sentences(
        self, pool: Sequence[str], low: int, high: int, ordered: bool = False, **extra: str
    ) -> list[str]:
        """Between ``low`` and ``high`` distinct sentences of ``pool``, shuffled unless ``ordered``."""
        count = min(len(pool), self.rng.randint(low, high))
        picked = self.rng.sample(range(len(pool)), count)
        return [self._fill(pool[i], **extra) for i in (sorted(picked) if ordered else picked)]

    def _paragraph(self, pool: Sequence[str], low: int, high: int, ordered: bool = False) -> str:
        return " ".join(self._sentences(pool, low, high, ordered))

    def _ds(self, mention: Mention, cite: bool = False) -> str:
        marker = _DS.format(self.mentions.index(mention))
        return marker + (f" {_CITE.format(mention.ref_key)}" if cite and mention.ref_key else "")

    def _ds_list(self, cite: bool = False) -> str:
        return _join([self._ds(m, cite) for m in self.mentions])

    def title(self) -> str:
        rng, ctx = self.rng, self.ctx
        task, adj = _title_case(ctx["task"]), _title_case(ctx["adj"])
        component = _title_case(ctx["component"])
        patterns = (
            f"{ctx['method']}: {adj} {rng.choice(TITLE_NOUNS)} for {task}",
            f"{adj} {rng.choice(TITLE_NOUNS)} for {task} with a {component}",
            f"Towards {adj} {task} via {rng.choice(TITLE_NOUNS)}",
            f"{ctx['method']}: Rethinking the {component} for {task}",
            f"On the Role of the {component} in {task}",
            f"Learning {adj} Representations for {task}",
            f"{ctx['method']}: {adj} and {_title_case(rng.choice(ADJECTIVES))} {task}",
        )
        return rng.choice(patterns)

    def abstract(self) -> list[str]:
        rng = self.rng
        openings = (ABSTRACT_OPENERS, ABSTRACT_GAPS, ABSTRACT_PROPOSALS)
        sentences = [self._fill(rng.choice(pool)) for pool in openings]
        sentences += self._sentences(ABSTRACT_DETAILS, 1, 2)
        if self.mentions and rng.random() < 0.5:
            template = "Experiments on {names} show that {method} beats strong baselines by {pct} points."
            sentences.append(self._fill(template, names=self._ds_list()))
        elif not self.mentions:
            sentences.append(
                self._fill(
                    "Experiments on {private} demonstrate the effectiveness of {method}.",
                    private=self.private,
                )
            )
        sentences += self._sentences(ABSTRACT_RESULTS, 1, 2)
        if rng.random() < 0.6:
            sentences.append(rng.choice(ABSTRACT_CLOSERS))
        return [" ".join(sentences)]

    def introduction(self) -> list[str]:
        paragraphs = [
            self._paragraph(INTRO_CONTEXT, 4, 6),
            self._paragraph(INTRO_GAP, 4, 6, ordered=True),
            self._paragraph(INTRO_PROPOSAL, 3, 5, ordered=True),
        ]
        closing = []
        if self.mentions and self.rng.random() < 0.6:
            closing.append(self._fill("We evaluate {method} on {names}.", names=self._ds_list(cite=True)))
        closing.append(self._fill(self.rng.choice(INTRO_CONTRIBUTIONS)))
        closing.append("The remainder of this paper is organised as follows.")
        paragraphs.append(" ".join(closing))
        return paragraphs

    def related_work(self) -> list[str]:
        count = self.rng.randint(2, 4)
        paragraphs = [self._deal(RELATED_FILLER, 3, 6) for _ in range(count)]
        if self.rng.random() < 0.4:  # paragraphs led by a run-in topic heading
            topics = self.rng.sample(RELATED_TOPICS, count)
            paragraphs = [
                f"{_capitalise(topic)}. {text}" for topic, text in zip(topics, paragraphs, strict=True)
            ]
        sentences = []
        for entry in self.distractors:
            name = self.rng.choice(entry.names) if self.rng.random() < 0.3 else entry.title
            cite = f" {_CITE.format(self._reference_for(entry))}" if self.rng.random() < 0.9 else ""
            sentences.append(
                self._fill(self.rng.choice(DISTRACTOR_SENTENCES), name=name, cite=cite, dtask=entry.tasks[0])
            )
        if sentences:
            position = self.rng.randint(0, len(paragraphs))
            paragraphs.insert(position, " ".join(sentences))
        return paragraphs

    def method(self) -> list[str]:
        return [self._method_paragraph() for _ in range(self.rng.randint(3, 6))]

    def _method_paragraph(self) -> str:
        return self._deal(METHOD_SENTENCES, 4, 6) or self._deal(ANALYSIS_SENTENCES, 3, 5)

    def _deal(self, pool: tuple[str, ...], low: int, high: int) -> str:
        """A paragraph of the next ``low``-``high`` sentences of ``pool``; no sentence repeats in a paper."""
        key = pool[0]
        if key not in self.decks:
            self.decks[key] = self.rng.sample(pool, len(pool))
        deck = self.decks[key]
        count = self.rng.randint(low, high)
        taken, self.decks[key] = deck[:count], deck[count:]
        return " ".join(self._fill(t) for t in taken)

    def datasets(self) -> list[str]:
        if not self.mentions:
            first = self._fill(self.rng.choice(PRIVATE_DATA_SENTENCES), private=self.private)
            return [" ".join([first, *self._sentences(PRIVATE_FOLLOWUPS, 2, 4)])]
        paragraphs = []
        if self.rng.random() < 0.7:
            kind = self.rng.choice(DATA_KINDS)
            kind = kind.removesuffix("s") if len(self.mentions) == 1 else kind
            count = NUMBER_WORDS[len(self.mentions)]
            paragraphs.append(
                self._fill(self.rng.choice(DATA_OPENERS), count=count, kind=kind, names=self._ds_list())
            )
        paragraphs.extend(self._dataset_paragraph(m) for m in self.mentions)
        if self.rng.random() < 0.5:
            paragraphs.append(self.rng.choice(DATA_CLOSERS))
        return paragraphs

    def _dataset_paragraph(self, mention: Mention) -> str:
        rng, stated = self.rng, mention.stated
        ds = self._ds(mention)
        cite = f" {_CITE.format(mention.ref_key)}" if mention.ref_key else ""
        url = stated.get("dcat:landingPage", "")
        usage_ds = f"{ds} ({url})" if mention.landing_style == "paren" else ds
        if mention.tasks:
            tasks = _join(mention.tasks)
            usage = self._fill(rng.choice(USAGE_WITH_TASKS), ds=usage_ds, cite=cite, tasks=tasks)
        else:
            usage = self._fill(rng.choice(USAGE_PLAIN), ds=usage_ds, cite=cite)
        footnote = ""
        if mention.landing_style == "footnote":
            mark = SUPERSCRIPTS[self.footnotes]
            self.footnotes += 1
            usage += mark
            footnote = f"\n{mark} {url}"
        sentences = [usage]
        if "dcterms:description" in stated:
            sentences.append(stated["dcterms:description"])
        extras = []
        facts = (
            ("dcat:theme", THEME_SENTENCES, "themes", lambda v: _join([t.lower() for t in v])),
            ("dcterms:format", FORMAT_SENTENCES, "format", str),
            ("dcterms:language", LANGUAGE_SENTENCES, "language", str),
            ("dcterms:hasVersion", VERSION_SENTENCES, "version", str),
            ("dcat:keyword", KEYWORD_SENTENCES, "keywords", _join),
        )
        for dcat_field, pool, key, render in facts:
            if dcat_field in stated:
                extras.append(self._fill(rng.choice(pool), ds=ds, **{key: render(stated[dcat_field])}))
        if "dcterms:issued" in stated and not mention.ref_key:
            extras.append(self._fill(rng.choice(YEAR_SENTENCES), ds=ds, year=stated["dcterms:issued"]))
        rng.shuffle(extras)
        sentences += extras
        if rng.random() < 0.5:
            sentences.append(self._fill(rng.choice(SPLIT_SENTENCES)))
        if mention.landing_style == "sentence":
            sentences.append(self._fill(rng.choice(LANDING_SENTENCES), ds=ds, url=url))
        return " ".join(sentences) + footnote

    def baselines(self) -> list[str]:
        return [self._paragraph(BASELINE_SENTENCES, 2, 4)]

    def implementation(self) -> list[str]:
        sentences = self._sentences(IMPL_SENTENCES, 3, 6)
        sentences.insert(self.rng.randint(0, 1), self._fill(self.rng.choice(OPTIMIZER_SENTENCES)))
        return [" ".join(sentences)]

    def experiments_intro(self) -> list[str]:
        return [self._fill(self.rng.choice(EXP_INTROS))] if self.rng.random() < 0.7 else []

    def results(self) -> list[str]:
        rng = self.rng
        discussion = self._deal(ANALYSIS_SENTENCES, 3, 5)
        if not self.mentions:
            return [
                self._paragraph(PRIVATE_RESULT_SENTENCES, 2, 3),
                self._paragraph(RESULT_GENERAL, 2, 4),
                discussion,
            ]
        per_dataset = [self._fill(rng.choice(RESULT_SENTENCES), ds=self._ds(m)) for m in self.mentions]
        paragraphs = [
            " ".join(
                ["Table 2 reports the main results.", *self._sentences(RESULT_GENERAL, 0, 2), *per_dataset]
            )
        ]
        header = " | ".join(["Method", *(self._ds(m) for m in self.mentions)])
        rows = [
            " | ".join([name, *(NUMBER_GENERATORS["score"](rng) for _ in self.mentions)])
            for name in (
                self.ctx["baseline"],
                self.ctx["baseline2"],
                self.ctx["baseline3"],
                f"{self.ctx['method']} (ours)",
            )
        ]
        caption = self._fill("Table 2: Results ({metric}) on the test sets, mean over {small} runs.")
        paragraphs.append("\n".join([caption, header, *rows]))
        paragraphs.append(discussion)
        return paragraphs

    def analysis(self) -> list[str]:
        return [self._deal(ANALYSIS_SENTENCES, 3, 5) for _ in range(self.rng.randint(1, 2))]

    def limitations(self) -> list[str]:
        return [self._paragraph(LIMITATION_SENTENCES, 3, 5, ordered=True)]

    def conclusion(self) -> list[str]:
        return [self._paragraph(CONCLUSION_SENTENCES, 3, 5, ordered=True)]

    # -------------------------------------------------------------------------------- assembly
    def build(self) -> GeneratedPaper:
        title = self.title()
        sections = self._sections()
        text = self._render(title, sections)
        for _ in range(12):  # keep the length in range by adding or dropping method/analysis paragraphs
            words = len(text.split())
            if words < _TARGET_WORDS[0]:
                self._body_of(sections, "method").append(self._method_paragraph())
            elif words > _TARGET_WORDS[1] and len(self._body_of(sections, "method")) > 1:
                self._body_of(sections, "method").pop()
            else:
                break
            text = self._render(title, sections)
        datasets = [self._gold(m, text) for m in self.mentions]
        record = {"paper_id": self.paper_id, "text": text, "datasets": datasets}
        return GeneratedPaper(record, tuple(e.title for e in self.distractors), self.style)

    def _sections(self) -> list[tuple[str, str, list[str]]]:
        """(kind, heading, paragraphs) in reading order, headings numbered."""
        builders: dict[str, Callable[[], list[str]]] = {
            "intro": self.introduction,
            "related": self.related_work,
            "method": self.method,
            "exp": self.experiments_intro,
            "data": self.datasets,
            "baselines": self.baselines,
            "impl": self.implementation,
            "results": self.results,
            "analysis": self.analysis,
            "limitations": self.limitations,
            "conclusion": self.conclusion,
        }
        abstract = self.abstract()
        sections: list[tuple[str, str, list[str]]] = [("abstract", "Abstract", abstract)]
        for number, (kind, heading, subsections) in enumerate(self.rng.choice(STRUCTURES), start=1):
            sections.append((kind, f"{number} {heading}", builders[kind]()))
            for sub_number, (sub_kind, sub_heading) in enumerate(subsections, start=1):
                sections.append((sub_kind, f"{number}.{sub_number} {sub_heading}", builders[sub_kind]()))
        return sections

    @staticmethod
    def _body_of(sections: list[tuple[str, str, list[str]]], kind: str) -> list[str]:
        return next(paragraphs for k, _, paragraphs in sections if k == kind)

    def _render(self, title: str, sections: list[tuple[str, str, list[str]]]) -> str:
        blocks = [title]
        for _, heading, paragraphs in sections:
            blocks.append(heading)
            blocks.extend(paragraphs)
        body = self._resolve_datasets("\n\n".join(blocks))
        body, entries = self._resolve_citations(body)
        return f"{body}\n\nReferences\n\n" + "\n".join(entries)

    def _resolve_datasets(self, text: str) -> str:
        """Replace dataset markers by the dataset's name, using the introductory form at the first one."""
        seen: set[int] = set()

        def name(match: re.Match[str]) -> str:
            index = int(match.group(1))
            first = index not in seen
            seen.add(index)
            return self.mentions[index].intro if first else self.mentions[index].name

        return _DS_RE.sub(name, text)

    def _resolve_citations(self, text: str) -> tuple[str, list[str]]:
        """Replace citation markers by numbers or author-year labels; return the reference lines."""
        order: list[str] = []
        for match in _CITE_RE.finditer(text):
            order.extend(k for k in match.group(1).split(",") if k not in order)
        if self.style == "numbered":
            number = {key: i for i, key in enumerate(order, start=1)}
            text = _CITE_RE.sub(
                lambda m: f"[{', '.join(str(number[k]) for k in m.group(1).split(','))}]", text
            )
            return text, [self.references[key].entry(number[key]) for key in order]
        text = _CITE_RE.sub(
            lambda m: "(" + "; ".join(self.references[k].label() for k in m.group(1).split(",")) + ")", text
        )
        ordered = sorted(order, key=lambda k: (self.references[k].label(), self.references[k].title))
        return text, [self.references[key].entry(None) for key in ordered]

    def _gold(self, mention: Mention, text: str) -> dict[str, Any]:
        dataset = empty_dataset()
        dataset["dcterms:title"] = mention.name
        dataset.update(mention.stated)
        forms = surface_forms(text, mention.entry.names)
        dataset[ALIASES] = [mention.name, *(form for form in forms if form != mention.name)]
        return dataset


# ------------------------------------------------------------------------------------------ public API
def generate_paper(seed: int, index: int) -> GeneratedPaper:
    """Generate paper ``index`` of the corpus with ``seed`` (depends only on the two)."""
    return _PaperBuilder(seed, index).build()


def generate_corpus(n_papers: int, seed: int) -> list[dict[str, Any]]:
    """``n_papers`` records ``{"paper_id", "text", "datasets"}``, deterministic for ``(n_papers, seed)``."""
    return [generate_paper(seed, index).record for index in range(n_papers)]
