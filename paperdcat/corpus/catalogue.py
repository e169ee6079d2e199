"""A catalogue of real, well-known machine-learning datasets with their public facts.

The synthetic corpus (``paperdcat.corpus.generated``) draws the datasets its papers use from here, so every
fact a generated paper states about a dataset (creators, year, DOI, landing page, description) is true.
Creators are the first authors of the paper that introduced the dataset, spelled as published; DOIs are left
empty unless well known (arXiv DOIs are used for arXiv papers). ``area`` groups entries for topic-coherent
sampling. The records are data: ``data/catalogue.yaml`` beside this module (its header describes the fields),
read and checked on import.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from paperdcat.datafile import DataFile

AREAS: tuple[str, ...] = ("nlp", "vision", "graphs", "speech", "tabular", "rl")
CATALOGUE_FILE = Path(__file__).parent / "data" / "catalogue.yaml"


@dataclass(frozen=True)
class CatalogueEntry:
    """One real dataset: its names, provenance, and the descriptive facts a paper may state about it."""

    title: str
    aliases: tuple[str, ...]
    creators: tuple[str, ...]
    year: int
    landing_page: str
    doi: str
    tasks: tuple[str, ...]
    theme: tuple[str, ...]
    modality_format: str
    language: str
    version: str
    keywords: tuple[str, ...]
    description: str
    reference_title: str
    venue: str
    area: str

    @property
    def names(self) -> tuple[str, ...]:
        """The canonical title followed by every alias."""
        return (self.title, *self.aliases)


def load_catalogue(path: Path = CATALOGUE_FILE) -> tuple[CatalogueEntry, ...]:
    """The records of ``path`` in file order; a bad record stops with one line that names it and the field."""
    file = DataFile(path)
    entries: list[CatalogueEntry] = []
    titles: set[str] = set()
    for number, raw in enumerate(file.sequence(file.data, ""), start=1):
        title = raw.get("title") if isinstance(raw, dict) else None
        where = f"record {number}" + (f" ({title})" if isinstance(title, str) else "")
        entry = file.convert(raw, CatalogueEntry, where)
        if entry.area not in AREAS:
            raise file.error(f"{where}: area", f"{entry.area!r} is not one of {', '.join(AREAS)}")
        if entry.title in titles:
            raise file.error(f"{where}: title", "an earlier record has the same title")
        titles.add(entry.title)
        entries.append(entry)
    return tuple(entries)


CATALOGUE: tuple[CatalogueEntry, ...] = load_catalogue()
