"""Controlled vocabularies that DCAT-AP 3 asks for, as small lookup tables from what papers write.

Each table maps a code of an authority table to the names and codes a paper or a model writes for it. Names
are looked up after ``paperdcat.schema.normalize`` (casefolded, punctuation to spaces), so the names
below are written in that form. Only entries that exist in the authority tables are listed; what is not
here is dropped and counted by the graph builder rather than guessed. The language codes below were checked
against a copy of the EU table; languages whose code could not be checked (Sanskrit, Kannada, Telugu, ...)
are left out for that reason.

- Languages: the EU Publications Office language authority table,
  ``http://publications.europa.eu/resource/authority/language/<CODE>`` (ISO 639-3 style codes), each a
  ``dcterms:LinguisticSystem``. ``MUL`` ("multiple languages") stands for "multilingual".
- File types: the EU file-type authority table, ``.../authority/file-type/<CODE>``, each a
  ``dcterms:MediaTypeOrExtent``: the value of ``dcterms:format`` on a ``dcat:Distribution``.
- Kinds of content: papers mostly write "Text", "Image", "Video" or "Audio" as the format. That is no file
  type but the nature of the data, which DCAT 3 records with ``dcterms:type`` and the DCMI Type vocabulary
  (``http://purl.org/dc/dcmitype/<Term>``); ``DCMI_TYPES`` maps those words to DCMI terms.

The tables are data: ``vocabularies.yaml`` beside this module, read and checked on import.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from paperdcat.datafile import DataFile

VOCABULARIES_FILE = Path(__file__).parent / "vocabularies.yaml"


@dataclass(frozen=True)
class _DcmiType:
    label: str  # the DCMI label
    names: tuple[str, ...]  # words that name this kind of content rather than a file type


def _invert(file: DataFile, key: str, table: dict[str, tuple[str, ...]]) -> MappingProxyType[str, str]:
    names: dict[str, str] = {}
    for code, aliases in table.items():
        for name in aliases:
            if names.setdefault(name, code) != code:
                raise file.error(key, f"{name!r} names both {names[name]} and {code}")
    return MappingProxyType(names)


_FILE = DataFile(VOCABULARIES_FILE)
_LANGUAGE_NAMES: dict[str, tuple[str, ...]] = _FILE.take("languages", dict[str, tuple[str, ...]])
_FILE_TYPE_NAMES: dict[str, tuple[str, ...]] = _FILE.take("file_types", dict[str, tuple[str, ...]])
_DCMI: dict[str, _DcmiType] = _FILE.take("dcmi_types", dict[str, _DcmiType])
_DCMI_TYPE_NAMES: dict[str, tuple[str, ...]] = {term: kind.names for term, kind in _DCMI.items()}

# Words around a name that do not change what it names ("CSV files", "image data", "English language").
FORMAT_FILLER = frozenset(_FILE.take("format_filler"))
LANGUAGE_FILLER = frozenset(_FILE.take("language_filler"))
_FILE.refuse_untaken()

LANGUAGES = _invert(_FILE, "languages", _LANGUAGE_NAMES)  # normalised name or code -> EU language code
FILE_TYPES = _invert(_FILE, "file_types", _FILE_TYPE_NAMES)  # normalised name -> EU file-type code
DCMI_TYPES = _invert(_FILE, "dcmi_types", _DCMI_TYPE_NAMES)  # normalised name -> DCMI Type term
DCMI_TYPE_LABELS = MappingProxyType({term: kind.label for term, kind in _DCMI.items()})  # the DCMI labels
