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
"""

from __future__ import annotations

from types import MappingProxyType

# code -> names; ISO 639-1 and 639-2/B codes beside the English names.
_LANGUAGE_NAMES: dict[str, tuple[str, ...]] = {
    "AFR": ("afrikaans", "af", "afr"),
    "AMH": ("amharic", "am", "amh"),
    "ARA": ("arabic", "modern standard arabic", "ar", "ara"),
    "BEL": ("belarusian", "be", "bel"),
    "BEN": ("bengali", "bangla", "bn", "ben"),
    "BOD": ("tibetan", "bo", "bod", "tib"),
    "BUL": ("bulgarian", "bg", "bul"),
    "CAT": ("catalan", "ca", "cat"),
    "CES": ("czech", "cs", "ces", "cze"),
    "CMN": ("mandarin chinese", "mandarin", "cmn"),
    "CYM": ("welsh", "cy", "cym", "wel"),
    "DAN": ("danish", "da", "dan"),
    "DEU": ("german", "de", "deu", "ger"),
    "ELL": ("greek", "modern greek", "el", "ell", "gre"),
    "ENG": ("english", "british english", "american english", "en", "eng"),
    "EPO": ("esperanto", "eo", "epo"),
    "EST": ("estonian", "et", "est"),
    "EUS": ("basque", "eu", "eus", "baq"),
    "FAS": ("persian", "farsi", "fa", "fas", "per"),
    "FIL": ("filipino", "tagalog", "fil"),
    "FIN": ("finnish", "fi", "fin"),
    "FRA": ("french", "fr", "fra", "fre"),
    "GLE": ("irish", "ga", "gle"),
    "GLG": ("galician", "gl", "glg"),
    "HEB": ("hebrew", "he", "heb"),
    "HIN": ("hindi", "hi", "hin"),
    "HRV": ("croatian", "hr", "hrv"),
    "HUN": ("hungarian", "hu", "hun"),
    "HYE": ("armenian", "hy", "hye", "arm"),
    "IND": ("indonesian", "id", "ind"),
    "ISL": ("icelandic", "is", "isl", "ice"),
    "ITA": ("italian", "it", "ita"),
    "JPN": ("japanese", "ja", "jpn"),
    "KAT": ("georgian", "ka", "kat", "geo"),
    "KAZ": ("kazakh", "kk", "kaz"),
    "KHM": ("khmer", "km", "khm"),
    "KIN": ("kinyarwanda", "rw", "kin"),
    "KOR": ("korean", "ko", "kor"),
    "LAT": ("latin", "la", "lat"),
    "LAV": ("latvian", "lv", "lav"),
    "LIT": ("lithuanian", "lt", "lit"),
    "MKD": ("macedonian", "mk", "mkd", "mac"),
    "MLT": ("maltese", "mt", "mlt"),
    "MON": ("mongolian", "mn", "mon"),
    "MUL": ("multilingual", "multiple", "multiple languages", "many languages", "mul"),
    "MYA": ("burmese", "my", "mya", "bur"),
    "NEP": ("nepali", "ne", "nep"),
    "NLD": ("dutch", "modern dutch", "nl", "nld", "dut"),
    "NOR": ("norwegian", "no", "nor"),
    "OCI": ("occitan", "oc", "oci"),
    "POL": ("polish", "pl", "pol"),
    "POR": ("portuguese", "brazilian portuguese", "pt", "por"),
    "PUS": ("pashto", "ps", "pus"),
    "RON": ("romanian", "ro", "ron", "rum"),
    "RUS": ("russian", "ru", "rus"),
    "SIN": ("sinhala", "sinhalese", "si", "sin"),
    "SLK": ("slovak", "sk", "slk", "slo"),
    "SLV": ("slovenian", "slovene", "sl", "slv"),
    "SOM": ("somali", "so", "som"),
    "SPA": ("spanish", "castilian", "es", "spa"),
    "SQI": ("albanian", "sq", "sqi", "alb"),
    "SRP": ("serbian", "sr", "srp"),
    "SWA": ("swahili", "sw", "swa"),
    "SWE": ("swedish", "sv", "swe"),
    "TAM": ("tamil", "ta", "tam"),
    "THA": ("thai", "th", "tha"),
    "TUR": ("turkish", "tr", "tur"),
    "UKR": ("ukrainian", "uk", "ukr"),
    "URD": ("urdu", "ur", "urd"),
    "VIE": ("vietnamese", "vi", "vie"),
    "ZHO": ("chinese", "simplified chinese", "traditional chinese", "zh", "zho", "chi"),
}

# code -> names (extensions without the dot, and the names papers use).
_FILE_TYPE_NAMES: dict[str, tuple[str, ...]] = {
    "7Z": ("7z", "7 zip"),
    "ARFF": ("arff",),
    "BMP": ("bmp", "bitmap"),
    "CSV": ("csv", "comma separated values"),
    "DOCX": ("docx",),
    "GEOJSON": ("geojson",),
    "GIF": ("gif",),
    "GZIP": ("gzip", "gz"),
    "HDF": ("hdf", "hdf5", "h5"),
    "HTML": ("html", "htm"),
    "JPEG": ("jpeg", "jpg"),
    "JSON": ("json",),
    "JSON_LD": ("json ld", "jsonld"),
    "MARKDOWN": ("markdown", "md"),
    "MATLAB_MAT": ("mat", "matlab", "matlab mat"),
    "MP3": ("mp3",),
    "MPEG4": ("mp4", "mpeg 4", "mpeg4"),
    "NETCDF": ("netcdf", "nc"),
    "ODS": ("ods",),
    "OWL": ("owl",),
    "PARQUET": ("parquet",),
    "PDF": ("pdf",),
    "PNG": ("png",),
    "RAR": ("rar",),
    "RDATA": ("rdata",),
    "RDF": ("rdf",),
    "RDF_N_QUADS": ("n quads", "nquads", "nq"),
    "RDF_N_TRIPLES": ("n triples", "ntriples", "nt"),
    "RDF_TURTLE": ("turtle", "ttl", "rdf turtle"),
    "RDF_XML": ("rdf xml",),
    "SQL": ("sql",),
    "SVG": ("svg",),
    "TAR": ("tar",),
    "TAR_GZ": ("tar gz", "tgz"),
    "TIFF": ("tiff", "tif"),
    "TSV": ("tsv", "tab separated values"),
    "TXT": ("txt", "plain text"),
    "WAV": ("wav",),
    "WEBP": ("webp",),
    "XLS": ("xls",),
    "XLSX": ("xlsx", "excel"),
    "XML": ("xml",),
    "YAML": ("yaml", "yml"),
    "ZIP": ("zip",),
}

# DCMI Type term -> words that name the kind of content rather than a file type.
_DCMI_TYPE_NAMES: dict[str, tuple[str, ...]] = {
    "Text": ("text", "texts", "textual"),
    "StillImage": ("image", "images", "still image", "still images", "photo", "photos", "photographs"),
    "MovingImage": ("video", "videos", "moving image", "moving images"),
    "Sound": ("audio", "sound", "speech"),
    "Software": ("software", "code", "source code"),
}

# Words around a name that do not change what it names ("CSV files", "image data", "English language").
FORMAT_FILLER = frozenset({"file", "files", "format", "formats", "data", "dataset", "datasets", "collection"})
LANGUAGE_FILLER = frozenset({"language", "languages"})


def _invert(table: dict[str, tuple[str, ...]]) -> MappingProxyType[str, str]:
    names: dict[str, str] = {}
    for code, aliases in table.items():
        for name in aliases:
            if names.setdefault(name, code) != code:
                raise ValueError(f"{name!r} names both {names[name]} and {code}")
    return MappingProxyType(names)


LANGUAGES = _invert(_LANGUAGE_NAMES)  # normalised name or code -> EU language code
FILE_TYPES = _invert(_FILE_TYPE_NAMES)  # normalised name -> EU file-type code
DCMI_TYPES = _invert(_DCMI_TYPE_NAMES)  # normalised name -> DCMI Type term
DCMI_TYPE_LABELS = MappingProxyType(  # the DCMI labels
    {
        "Text": "Text",
        "StillImage": "Still Image",
        "MovingImage": "Moving Image",
        "Sound": "Sound",
        "Software": "Software",
    }
)
