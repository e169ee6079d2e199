"""Text cleaning and the evidence-preserving context builder.

A paper is far longer than the training window. Instead of cutting it at a fixed length, the builder keeps
the passages that carry dataset evidence, in this order of priority, until ``max_context_tokens`` is spent:
the title and the start of the abstract; sentences with dataset cues in data/experiment sections, each
followed by the reference entries it cites (where creators are written); headings shaped like a dataset
name (``MNLI``, ``SST-2``); the same for dataset cues elsewhere; other citing sentences of data sections with
their entries; the rest of the abstract. A cue is a dataset word (``corpus``, ``evaluated on``, a URL) or
a list of three or more capitalised names (``Set5, Set14, BSD100 and Urban100``).
A cue sentence is cut to the words around its cues, and inside each cue tier the sentences that bring a
capitalised word not seen earlier in the tier come first: a paper repeats its dataset names, and one
mention of each is what the model needs. Selection never looks at the gold; ``evidence_recall`` and
``creator_evidence_recall`` measure afterwards how many gold titles and creator names still occur in the
context.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from paperdcat.params import PreprocessParams
from paperdcat.schema import ALIASES

CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\ufeff]")
# PDFium's mark of a hyphen at a line end between two letters: U+FFFE in place of the "-" and the line break
# in a page's text (FPDFText_GetText, pypdfium2's get_text_range), \x02 as the hyphen's own character
# (FPDFText_GetUnicode). Read as "-" + line break, so that LINE_END_HYPHEN decides as for plain text
# ("evalu-\nation" joined, "state-\nOf" kept).
PDFIUM_HYPHEN = re.compile(r"[\x02\ufffe](?:\r\n|\r|\n)?")
LINE_END_HYPHEN = re.compile(r"(\w)-\n(?=[a-z])")
HEADING = re.compile(r"^(?:\d+(?:\.\d+)*\.?\s+)?[A-Z][\w\s&:,\-/()]{0,70}$")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\[(\"'])")
DATASET_CUE = re.compile(
    r"\b(?:data\s?sets?|corpus|corpora|benchmarks?|treebank|collection|annotated|released|available at|"
    r"download|train(?:ed|ing)? (?:on|set)|evaluat\w* on|test set|split|samples|images|sentences|"
    r"utterances|graphs?|nodes|episodes|games|databases?|we use|conducted on|results on|experiments on)\b"
    r"|https?://|doi",
    re.IGNORECASE,
)
# "Set5, Set14, BSD100 and Urban100": three or more names in a list, the way results name their benchmarks.
NAME_LIST = re.compile(r"(?<![\w-])[A-Z][\w-]*(?:, [A-Z][\w-]*)+,? and [A-Z][\w-]*")
# A heading word shaped like a dataset name (MNLI, SST-2, CamVid), which a generic heading never has.
NAME_LIKE = re.compile(r"\b(?:[A-Z]{2,}[\w-]*|[A-Za-z]+\d[\w-]*|[a-z]+[A-Z][\w-]*)")
DATA_SECTION = re.compile(r"data|experiment|evaluation|setup|benchmark|corpus|results", re.IGNORECASE)
REFERENCES_SECTION = re.compile(r"^(?:\d+\.?\s+)?(references|bibliography)\s*$", re.IGNORECASE)
NUMBERED_CITATION = re.compile(r"\[(\d+(?:\s*[,–-]\s*\d+)*)\]")
NUMBERED_ENTRY = re.compile(r"^\[(\d+)\]")
AUTHOR_YEAR_CITATION = re.compile(r"([A-Z][\w'\-]+)(?: et al\.| and [A-Z][\w'\-]+)?,? \(?((?:19|20)\d\d)")
ENTRY_YEAR = re.compile(r"(?<![\w-])((?:19|20)\d\d)[a-z]?(?=[.)]|,? [A-Z])")
SURNAME_WORD = re.compile(r"[A-Z][\w'\-]*[a-z][\w'\-]*")
CAPITALISED_WORD = re.compile(r"(?<![\w-])[A-Z][\w-]*")
WORD = re.compile(r"\S+")
CUT = "..."


def clean_text(text: str) -> str:
    """NFKC, no control characters, words split by a line-end hyphen joined, whitespace collapsed."""
    text = PDFIUM_HYPHEN.sub("-\n", text)
    text = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = CONTROL_CHARS.sub("", text)
    text = LINE_END_HYPHEN.sub(r"\1", text)
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" ?\n ?", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


@dataclass
class Unit:
    """A sentence, heading or reference entry: the smallest piece the builder keeps or drops."""

    index: int
    section: str
    text: str
    kind: str  # "title", "heading", "sentence" or "reference"


def is_heading(line: str) -> bool:
    """Whether a (stripped) line reads as a section heading: short, capitalised, no final full stop."""
    return bool(HEADING.match(line)) and not line.endswith(".") and len(line.split()) <= 8


def split_units(text: str) -> list[Unit]:
    units: list[Unit] = []
    section = ""
    lines = text.split("\n")
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if not units:
            units.append(Unit(0, "title", line, "title"))
            continue
        if is_heading(line):
            section = line
            units.append(Unit(len(units), section, line, "heading"))
        elif REFERENCES_SECTION.match(section):
            units.append(Unit(len(units), section, line, "reference"))
        else:
            for sentence in SENTENCE_END.split(line):
                units.append(Unit(len(units), section, sentence, "sentence"))
    return units


def _reference_keys(unit: Unit) -> set[str]:
    """Keys a citation may use for this entry: its number, or a surname word of its first two authors + year.

    Entries come as "G. B. Huang, M. Ramesh, ... 2007. Title" or "Huang, G. B. and ... (2007)"; a citation
    names the last word of a multi-word surname ("De Meulder, 2003"), so every surname word is a key.
    """
    if match := NUMBERED_ENTRY.match(unit.text):
        return {match.group(1)}
    year = ENTRY_YEAR.search(unit.text)
    if not year:
        return set()
    authors = re.split(r",\s*|\s+and\s+|\s+&\s+", unit.text[: year.start()], maxsplit=3)[:3]
    return {f"{word.lower()} {year.group(1)}" for author in authors for word in SURNAME_WORD.findall(author)}


def _cited_keys(sentence: str) -> set[str]:
    keys: set[str] = set()
    for group in NUMBERED_CITATION.findall(sentence):
        for part in re.split(r"\s*,\s*", group):
            bounds = re.split(r"\s*[–-]\s*", part)
            if len(bounds) == 2 and all(b.isdigit() for b in bounds):
                keys.update(
                    str(n) for n in range(int(bounds[0]), min(int(bounds[1]), int(bounds[0]) + 20) + 1)
                )
            elif part.isdigit():
                keys.add(part)
    keys.update(f"{name.lower()} {year}" for name, year in AUTHOR_YEAR_CITATION.findall(sentence))
    return keys


def _cues(text: str) -> list[re.Match]:
    return [*DATASET_CUE.finditer(text), *NAME_LIST.finditer(text)]


def cue_window(text: str, window_words: int) -> str:
    """The words within ``window_words`` of a dataset cue, cuts marked "..."; 0 keeps the whole sentence."""
    words = list(WORD.finditer(text))
    keep: set[int] = set()
    for cue in _cues(text) if window_words else ():
        hit = [i for i, word in enumerate(words) if word.end() > cue.start() and word.start() < cue.end()]
        keep.update(range(max(hit[0] - window_words, 0), min(hit[-1] + window_words + 1, len(words))))
    if not keep or len(keep) == len(words):
        return text
    pieces = [CUT] if min(keep) > 0 else []
    for i in sorted(keep):
        if pieces and i - 1 not in keep and pieces[-1] != CUT:
            pieces.append(CUT)
        pieces.append(words[i].group())
    if max(keep) < len(words) - 1:
        pieces.append(CUT)
    return " ".join(pieces)


def _names(sentence: str) -> set[str]:
    """Capitalised words after the first word of a sentence or window (sentence case says nothing)."""
    return set(CAPITALISED_WORD.findall(sentence.removeprefix(CUT).strip().partition(" ")[2]))


def _coverage_order(sentences: list[Unit]) -> list[Unit]:
    """Sentences that bring a capitalised word not seen in an earlier one first, then the rest; each group
    in the paper's order."""
    seen: set[str] = set()
    first, rest = [], []
    for sentence in sentences:
        names = _names(sentence.text) - seen
        seen |= names
        (first if names else rest).append(sentence)
    return first + rest


def _priority_tiers(units: Sequence[Unit], window_words: int) -> list[list[Unit]]:
    original = {unit.index: unit for unit in units}
    references: dict[str, Unit] = {}
    for unit in units:
        if unit.kind == "reference":
            for key in _reference_keys(unit):
                references.setdefault(key, unit)

    def with_cited(sentences: list[Unit]) -> list[Unit]:
        """Each sentence followed by the reference entries it cites (a creator is only in the entry)."""
        tier: list[Unit] = []
        for sentence in sentences:
            tier.append(sentence)
            keys = _cited_keys(original[sentence.index].text)  # a cue window may have cut the citation
            tier.extend(references[k] for k in sorted(keys) if k in references)
        return tier

    sentences = [u for u in units if u.kind == "sentence"]
    abstract = [u for u in sentences if u.section.lower().startswith("abstract")]
    rest = [u for u in sentences if u not in abstract]
    cue = [replace(u, text=cue_window(u.text, window_words)) for u in rest if _cues(u.text)]
    cue_indices = {u.index for u in cue}
    citing_in_data_sections = [
        u
        for u in rest
        if u.index not in cue_indices and DATA_SECTION.search(u.section) and _cited_keys(u.text)
    ]
    title = [u for u in units if u.kind == "title"]
    named_headings = [u for u in units if u.kind == "heading" and NAME_LIKE.search(u.text)]
    return [
        title,
        abstract[:2],
        with_cited(_coverage_order([u for u in cue if DATA_SECTION.search(u.section)])),
        named_headings,
        with_cited(_coverage_order([u for u in cue if not DATA_SECTION.search(u.section)])),
        with_cited(citing_in_data_sections),
        abstract[2:],
    ]


def build_context(
    text: str, max_tokens: int, count_tokens: Callable[[list[str]], list[int]], window_words: int
) -> str:
    """Keep the evidence-bearing units of ``text`` (cleaned by ``clean_text``) within ``max_tokens``, in
    their original order.

    ``count_tokens`` maps a list of strings to their token counts (the model's tokenizer, batched);
    ``window_words``: how many words a cue sentence keeps on each side of its cues (0: all).
    """
    units = split_units(text)
    tiers = _priority_tiers(units, window_words)
    candidates = list(dict.fromkeys(unit.index for tier in tiers for unit in tier))
    by_index = {unit.index: unit for unit in units} | {unit.index: unit for tier in tiers for unit in tier}
    costs = dict(
        zip(candidates, count_tokens([f"{CUT} {by_index[i].text}\n" for i in candidates]), strict=True)
    )
    headings = {unit.section: unit for unit in units if unit.kind == "heading"}
    heading_costs = dict(zip(headings, count_tokens([f"\n{h}\n" for h in headings]), strict=True))
    kept: set[int] = set()
    spent = 0
    for index in candidates:
        unit = by_index[index]
        heading = headings.get(unit.section) if unit.kind != "heading" else None
        extra = heading_costs[unit.section] if heading is not None and heading.index not in kept else 0
        if spent + costs[index] + extra > max_tokens:
            continue
        kept.add(index)
        if extra:
            kept.add(heading.index)
        spent += costs[index] + extra
    context = _render([by_index[i] for i in sorted(kept)])
    while kept and count_tokens([context])[0] > max_tokens:  # merges across unit boundaries can add a token
        kept.discard(max(kept, key=lambda i: candidates.index(i) if i in candidates else -1))
        context = _render([by_index[i] for i in sorted(kept)])
    return context


def _render(units: Sequence[Unit]) -> str:
    lines: list[str] = []
    previous = -1
    for unit in units:
        if unit.kind in ("heading", "title"):
            lines.append(("\n" if lines else "") + unit.text)
        elif (
            lines
            and unit.index == previous + 1
            and unit.kind == "sentence"
            and not lines[-1].startswith("\n")
        ):
            lines[-1] += " " + unit.text
        else:
            adjacent = unit.index == previous + 1 or unit.kind == "reference" or unit.text.startswith(CUT)
            lines.append(unit.text if adjacent else f"{CUT} {unit.text}")
        previous = unit.index
    return "\n".join(lines).strip()


def head_context(text: str, max_tokens: int, tokenizer) -> str:
    """The baseline strategy: the first ``max_tokens`` tokens of the (cleaned) paper."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"][:max_tokens]
    return tokenizer.decode(ids)


def token_counter(tokenizer) -> Callable[[list[str]], list[int]]:
    """Batched token counts of strings under ``tokenizer`` (no special tokens)."""

    def count_tokens(texts: list[str]) -> list[int]:
        return [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]] if texts else []

    return count_tokens


def paper_context(text: str, tokenizer, params: PreprocessParams) -> str:
    """The model context of a cleaned paper under ``params.strategy``: the one builder that preprocess (for
    training and evaluation) and extract (for users' papers) share."""
    if params.strategy == "head":
        return head_context(text, params.max_context_tokens, tokenizer)
    return build_context(text, params.max_context_tokens, token_counter(tokenizer), params.cue_window_words)


def normalise_mention(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return " " + re.sub(r"\s+", " ", re.sub(r"[^\w]+", " ", text)).strip() + " "


def is_mentioned(dataset: dict, haystack: str) -> bool:
    """Whether the dataset's title or an alias occurs in ``haystack`` (already ``normalise_mention``-ed)."""
    names = (dataset.get("dcterms:title", ""), *dataset.get(ALIASES, []))
    return any(name.strip() and normalise_mention(name) in haystack for name in names)


def mentioned_in_text(datasets: Sequence[dict], text: str) -> list[dict]:
    """The gold ``datasets`` that the paper's full (cleaned) ``text`` names: what any context could keep."""
    haystack = normalise_mention(text)
    return [dataset for dataset in datasets if is_mentioned(dataset, haystack)]


def evidence_recall(contexts: Sequence[str], gold: Sequence[Sequence[dict]]) -> float | None:
    """Fraction of gold datasets whose title or an alias still occurs (normalised) in the paper's context."""
    found = total = 0
    for context, datasets in zip(contexts, gold, strict=True):
        haystack = normalise_mention(context)
        total += len(datasets)
        found += sum(is_mentioned(dataset, haystack) for dataset in datasets)
    return round(found / total, 4) if total else None


def creator_evidence_recall(contexts: Sequence[str], gold: Sequence[Sequence[dict]]) -> float | None:
    """Fraction of gold creator names that occur (normalised) in the paper's context: the ceiling on creator
    recall, since a creator is written only in the dataset's reference entry."""
    found = total = 0
    for context, datasets in zip(contexts, gold, strict=True):
        haystack = normalise_mention(context)
        for dataset in datasets:
            for name in dataset.get("dcterms:creator", []):
                total += 1
                found += normalise_mention(name) in haystack
    return round(found / total, 4) if total else None


def mention_counts(gold: Sequence[Sequence[dict]], named: Sequence[Sequence[dict]]) -> dict[str, int]:
    """How many papers have gold datasets with no mention in their text; ``named`` holds, per paper, the
    gold datasets its text names (``mentioned_in_text``).

    ``papers_with_unmentioned``: papers with at least one such dataset (the rest, ``papers_all_mentioned``,
    are the papers to score "over papers whose datasets are mentioned"; a paper without gold datasets
    counts there); ``papers_none_mentioned``: papers with gold datasets of which none is mentioned.
    """
    counts = dict.fromkeys(
        (
            "papers",
            "papers_all_mentioned",
            "papers_with_unmentioned",
            "papers_none_mentioned",
            "datasets",
            "datasets_unmentioned",
        ),
        0,
    )
    for datasets, found in zip(gold, named, strict=True):
        total = len(datasets)
        missing = total - len(found)
        counts["papers"] += 1
        counts["papers_all_mentioned"] += missing == 0
        counts["papers_with_unmentioned"] += missing > 0
        counts["papers_none_mentioned"] += 0 < total == missing
        counts["datasets"] += total
        counts["datasets_unmentioned"] += missing
    return counts
