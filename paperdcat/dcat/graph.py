"""One DCAT graph for all papers, modelled as DCAT-AP 3 expects, built with rdflib.

``build_graph`` turns ``(paper_key, datasets)`` pairs (DCAT records as ``paperdcat.schema.coerce_dataset``
writes them) into a graph and counts what it had to drop or demote. The mapping, record field to RDF:

- each record: a ``dcat:Dataset`` (``dcat:Catalog`` -> ``dcat:dataset``), its IRI made from the paper key
  and the normalised title, ``dcterms:isReferencedBy`` the paper (``<base>paper/<key>``);
- ``dcterms:title``: a literal; ``dcterms:description``: a literal tagged ``@en``;
- ``dcterms:issued``: ``xsd:gYear`` for a four-digit year, ``xsd:date`` for a valid ``YYYY-MM-DD`` date;
  anything else is dropped (``issued_not_a_date``);
- ``dcterms:creator``: one ``foaf:Agent`` with ``foaf:name`` per name (``<base>agent/<name>``);
- ``dcat:landingPage``: the IRI, typed ``foaf:Document``, only when it is a valid absolute http(s) IRI
  (``is_http_iri``); anything else is dropped (``landingPage_not_iri``), never written as a broken IRI;
- ``dcterms:identifier``: a literal;
- ``dcterms:hasVersion`` of the record: ``dcat:version``, see ``VERSION``;
- ``dcterms:language``: EU language authority IRIs (``dcterms:LinguisticSystem``); names not in
  ``paperdcat.dcat.vocabularies`` are dropped (``language_not_in_table``);
- ``dcterms:format``: see ``_add_formats``; file types on a ``dcat:Distribution``, kinds of content as
  ``dcterms:type``, the rest dropped (``format_not_in_table``);
- ``dcat:keyword``: literals; ``dcat:theme``: ``skos:Concept`` nodes with ``skos:prefLabel`` in one
  ``skos:ConceptScheme`` (the catalogue's ``dcat:themeTaxonomy``);
- ``mls:task``: one ``mls:Task`` node with ``rdfs:label`` per task, ``mls:definedOn`` the dataset.

Empty fields produce no triples. Nodes shared between datasets (agents, themes, tasks, vocabulary terms)
get IRIs from their normalised names and keep the first surface form seen as their label.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rdflib import RDF, RDFS, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, SKOS
from rdflib.term import Node

from paperdcat.dcat import vocabularies
from paperdcat.errors import PaperdcatError
from paperdcat.io import atomic_path
from paperdcat.schema import coerce_dataset, normalize

# rdflib's own DCAT namespace is a closed list of DCAT 2 terms (no dcat:version): DCAT 3 terms through ours.
DCAT = Namespace("http://www.w3.org/ns/dcat#")
MLS = Namespace("http://www.w3.org/ns/mls#")
DCTYPE = Namespace("http://purl.org/dc/dcmitype/")
EU_LANGUAGE = Namespace("http://publications.europa.eu/resource/authority/language/")
EU_FILE_TYPE = Namespace("http://publications.europa.eu/resource/authority/file-type/")

DEFAULT_BASE_IRI = "https://example.org/paperdcat/"
PREFIXES: dict[str, Namespace] = {
    "dcat": DCAT,
    "dcterms": DCTERMS,
    "foaf": FOAF,
    "skos": SKOS,
    "mls": MLS,
    "rdfs": RDFS,
    "dctype": DCTYPE,
    "eulang": EU_LANGUAGE,
    "eufiletype": EU_FILE_TYPE,
}

VERSION = DCAT.version
"""The record's ``dcterms:hasVersion`` string becomes ``dcat:version``.

DCAT 3 gives ``dcat:version`` ("the version indicator (name or identifier) of a resource", a literal) for a
version string such as "2.0" or "v1.1"; ``dcterms:hasVersion`` relates a resource to *another resource* that
is a version of it, and DCAT-AP 3's range shapes require that object to be a ``dcat:Dataset``. A literal
under ``dcterms:hasVersion`` would therefore be a range violation, and inventing a node for the other
version would assert a dataset the paper does not describe.
"""

_SLUG_MAX = 80
_YEAR = re.compile(r"[0-9]{4}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SPLIT = re.compile(r"[,;/&|+()\[\]'\"]|\s+(?:and|or)\s+|-")

# RFC 3987 character classes for an absolute http(s) IRI (ASCII parts of RFC 3986 plus ucschar/iprivate).
_UCS = "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef\U00010000-\U000efffd"
_PRIVATE = "\ue000-\uf8ff\U000f0000-\U0010fffd"
_UNRESERVED = f"A-Za-z0-9._~{_UCS}-"
_SUB_DELIMS = "!$&'()*+,;="
_PCT = "%[0-9A-Fa-f]{2}"
_PCHAR = f"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_REG_NAME = f"(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})+"
_IP_LITERAL = r"\[(?:[0-9A-Fa-f:.]+|v[0-9A-Fa-f]+\.[A-Za-z0-9._~!$&'()*+,;=:-]+)\]"
_USERINFO = f"(?:(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*@)?"
_HTTP_IRI = re.compile(
    rf"[Hh][Tt][Tt][Pp][Ss]?://{_USERINFO}(?:{_REG_NAME}|{_IP_LITERAL})(?::[0-9]*)?"
    rf"(?:/{_PCHAR}*)*"
    rf"(?:\?(?:{_PCHAR}|[/?{_PRIVATE}])*)?"
    rf"(?:#(?:{_PCHAR}|[/?])*)?"
)


def is_http_iri(text: str) -> bool:
    """Whether ``text`` is an absolute http(s) IRI by RFC 3987, with a host.

    Spaces, quotes, angle brackets, braces, backslashes, control characters, a bare ``%``, brackets outside
    an IPv6 host and Unicode non-characters all fail; rdflib itself would serialise such strings as IRIs.
    """
    if not isinstance(text, str) or _HTTP_IRI.fullmatch(text) is None:
        return False
    return not any((ord(char) & 0xFFFE) == 0xFFFE for char in text)


def check_base_iri(base_iri: str) -> str:
    """The base IRI with a trailing ``/``; a ``PaperdcatError`` unless it is an http(s) IRI without query or
    fragment (the graph's own IRIs are made by appending path segments to it)."""
    if not is_http_iri(base_iri) or "?" in base_iri or "#" in base_iri:
        raise PaperdcatError(f"base IRI {base_iri!r}: not an absolute http(s) IRI without query or fragment")
    return base_iri if base_iri.endswith("/") else base_iri + "/"


def slug(text: str) -> str:
    """An IRI path segment for a name: the normalised words joined by ``-``, percent-encoded.

    Equal names after ``normalize`` give equal slugs. An empty name gives ``_untitled``; one that normalises
    to nothing, or to more than ``_SLUG_MAX`` characters, gets a hash of the text. Both use ``_``, which a
    plain slug never contains, so they collide with no plain slug, and truncated slugs not with each other.
    """
    words = normalize(text).replace(" ", "-")
    if words and len(words) <= _SLUG_MAX:
        return quote(words, safe="-")
    if not text.strip():
        return "_untitled"
    digest = hashlib.sha1((words or text).encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return quote(words[:_SLUG_MAX], safe="-") + "_" + digest


def key_path(paper_key: str) -> str:
    """The paper key's ``/``-separated segments, each percent-encoded (``.`` and ``..`` too, which IRI
    resolution would otherwise collapse)."""
    segments = []
    for segment in paper_key.split("/"):
        encoded = quote(segment, safe="", errors="surrogatepass")
        segments.append(encoded.replace(".", "%2E") if set(segment) == {"."} else encoded)
    return "/".join(segments)


def _text(value: str) -> str:
    """A literal's text that can always be encoded (lone surrogates from JSON escapes become U+FFFD)."""
    return value if value.isascii() else value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def issued_literal(value: str) -> Literal | None:
    """``xsd:gYear`` for a four-digit year, ``xsd:date`` for a valid ``YYYY-MM-DD`` date, else None."""
    value = value.strip()
    if _YEAR.fullmatch(value) and value != "0000":
        return Literal(value, datatype=XSD.gYear)
    if _DATE.fullmatch(value):
        try:
            date.fromisoformat(value)
        except ValueError:
            return None
        return Literal(value, datatype=XSD.date)
    return None


def _lookup(value: str, table: Mapping[str, str], filler: frozenset[str]) -> str | None:
    words = [word for word in normalize(value).split() if word not in filler] or normalize(value).split()
    return table.get(" ".join(words))


def vocabulary_terms(
    value: str, tables: list[tuple[Mapping[str, str], frozenset[str]]]
) -> list[tuple[int, str] | str]:
    """Look ``value`` up whole, else each part of it ("English, German"; "['Image', 'Text']"), in the tables.

    Returns one entry per part: ``(table_index, code)`` for a part found in a table, the part itself if not.
    """

    def find(text: str) -> tuple[int, str] | None:
        for index, (table, filler) in enumerate(tables):
            if (code := _lookup(text, table, filler)) is not None:
                return index, code
        return None

    if (found := find(value)) is not None:
        return [found]
    parts = [part for part in _SPLIT.split(value) if normalize(part)] or [value]
    return [find(part) or part for part in parts]


class _Builder:
    """Adds papers to one graph; ``counts`` collects what was dropped or demoted, per field and reason."""

    def __init__(self, base_iri: str, merge_datasets: bool) -> None:
        self.base = check_base_iri(base_iri)
        self.merge = merge_datasets
        self.graph = Graph()
        for prefix, namespace in PREFIXES.items():
            self.graph.bind(prefix, namespace)
        self.catalog = URIRef(self.base + "catalog")
        self.themes = URIRef(self.base + "themes")
        self.dropped: Counter[str] = Counter()
        self.demoted: Counter[str] = Counter()
        self.papers = 0
        self.records = 0
        self.labelled: set[URIRef] = set()
        self.titles_seen: Counter[tuple[str, str]] = Counter()  # (paper key, title slug), across calls

    def iri(self, *segments: str) -> URIRef:
        return URIRef(self.base + "/".join(segments))

    def add(self, subject: Node, predicate: Node, obj: Node) -> None:
        self.graph.add((subject, predicate, obj))

    def named(self, node: URIRef, rdf_type: URIRef, label_property: URIRef, label: Literal) -> URIRef:
        """A shared node, typed and labelled the first time it is seen."""
        if node not in self.labelled:
            self.labelled.add(node)
            self.add(node, RDF.type, rdf_type)
            self.add(node, label_property, label)
        return node

    def set_once(self, node: URIRef, predicate: URIRef, obj: Node, field: str) -> None:
        """A single-valued property; a merged node keeps the first value and counts differing later ones."""
        current = self.graph.value(node, predicate)
        if current is None:
            self.add(node, predicate, obj)
        elif current != obj:
            self.dropped[f"{field}_conflict"] += 1

    def add_paper(self, paper_key: str, datasets: Iterable[Mapping[str, Any]]) -> None:
        self.papers += 1
        paper = self.iri("paper", key_path(paper_key))
        self.add(paper, RDF.type, FOAF.Document)
        self.add(paper, DCTERMS.identifier, Literal(_text(paper_key)))
        for obj in datasets:
            record = coerce_dataset(obj, fill_missing=True)
            self.records += 1
            title_slug = slug(record["dcterms:title"])
            if self.merge and normalize(record["dcterms:title"]):
                segments = (title_slug,)
            else:
                self.titles_seen[paper_key, title_slug] += 1
                ordinal = self.titles_seen[paper_key, title_slug]
                segments = (key_path(paper_key), title_slug + (f"~{ordinal}" if ordinal > 1 else ""))
            self.add_dataset(self.iri("dataset", *segments), record, paper, segments)

    def add_dataset(
        self, node: URIRef, record: Mapping[str, Any], paper: URIRef, segments: tuple[str, ...]
    ) -> None:
        add = self.add
        add(node, RDF.type, DCAT.Dataset)
        add(self.catalog, DCAT.dataset, node)
        add(node, DCTERMS.isReferencedBy, paper)
        if title := record["dcterms:title"]:
            self.set_once(node, DCTERMS.title, Literal(_text(title)), "title")
        if description := record["dcterms:description"]:
            self.set_once(node, DCTERMS.description, Literal(_text(description), lang="en"), "description")
        if issued := record["dcterms:issued"]:
            if (literal := issued_literal(issued)) is not None:
                self.set_once(node, DCTERMS.issued, literal, "issued")
            else:
                self.dropped["issued_not_a_date"] += 1
        if version := record["dcterms:hasVersion"]:
            self.set_once(node, VERSION, Literal(_text(version)), "hasVersion")
        if identifier := record["dcterms:identifier"]:
            add(node, DCTERMS.identifier, Literal(_text(identifier)))
        landing_page = None
        if page := record["dcat:landingPage"].strip():
            if is_http_iri(page):
                landing_page = URIRef(page)
                add(node, DCAT.landingPage, landing_page)
                add(landing_page, RDF.type, FOAF.Document)
            else:
                self.dropped["landingPage_not_iri"] += 1
        if language := record["dcterms:language"]:
            self._add_languages(node, language)
        if file_format := record["dcterms:format"]:
            self._add_formats(node, file_format, landing_page, segments)
        for name in record["dcterms:creator"]:
            agent = self.named(self.iri("agent", slug(name)), FOAF.Agent, FOAF.name, Literal(_text(name)))
            add(node, DCTERMS.creator, agent)
        for keyword in record["dcat:keyword"]:
            add(node, DCAT.keyword, Literal(_text(keyword)))
        for theme in record["dcat:theme"]:
            concept = self.iri("theme", slug(theme))
            if concept not in self.labelled:
                add(concept, SKOS.inScheme, self.themes)
            add(node, DCAT.theme, self.named(concept, SKOS.Concept, SKOS.prefLabel, Literal(_text(theme))))
        for task in record["mls:task"]:
            task_node = self.named(self.iri("task", slug(task)), MLS.Task, RDFS.label, Literal(_text(task)))
            add(task_node, MLS.definedOn, node)

    def _add_languages(self, node: URIRef, value: str) -> None:
        for term in vocabulary_terms(value, [(vocabularies.LANGUAGES, vocabularies.LANGUAGE_FILLER)]):
            if isinstance(term, tuple):
                language = EU_LANGUAGE[term[1]]
                self.add(node, DCTERMS.language, language)
                self.add(language, RDF.type, DCTERMS.LinguisticSystem)
            else:
                self.dropped["language_not_in_table"] += 1

    def _add_formats(
        self, node: URIRef, value: str, landing_page: URIRef | None, segments: tuple[str, ...]
    ) -> None:
        """The record's ``dcterms:format``, split into what DCAT-AP 3 has a place for.

        - A file type of the EU table (CSV, JSON, PDF, ...): DCAT-AP puts ``dcterms:format`` on a
          ``dcat:Distribution``, whose ``dcat:accessURL`` is mandatory. DCAT 3 says that when only a landing
          page is known it should be repeated as the access URL, so the distribution gets the landing page;
          without a valid landing page there is no distribution to attach the format to, and it is dropped
          (``format_without_access_url``).
        - A kind of content ("Text", "Image", "Video", "Audio", "Software": most of what papers write) is
          not a file type: it becomes ``dcterms:type`` with the DCMI Type term, as DCAT 3 recommends for the
          nature of a resource, and is counted as demoted (``format_as_type``).
        - Anything else ("Graph", "Tabular", "3D Model") is dropped (``format_not_in_table``).
        """
        tables = [
            (vocabularies.FILE_TYPES, vocabularies.FORMAT_FILLER),
            (vocabularies.DCMI_TYPES, vocabularies.FORMAT_FILLER),
        ]
        for term in vocabulary_terms(value, tables):
            if not isinstance(term, tuple):
                self.dropped["format_not_in_table"] += 1
            elif term[0] == 1:
                kind = DCTYPE[term[1]]
                self.add(node, DCTERMS.type, kind)
                label = Literal(vocabularies.DCMI_TYPE_LABELS[term[1]], lang="en")
                self.named(kind, SKOS.Concept, SKOS.prefLabel, label)
                self.demoted["format_as_type"] += 1
            elif landing_page is None:
                self.dropped["format_without_access_url"] += 1
            else:
                distribution = self.iri("distribution", *segments, term[1].lower())
                file_type = EU_FILE_TYPE[term[1]]
                self.add(node, DCAT.distribution, distribution)
                self.add(distribution, RDF.type, DCAT.Distribution)
                self.add(distribution, DCAT.accessURL, landing_page)
                self.add(distribution, DCTERMS.format, file_type)
                self.add(file_type, RDF.type, DCTERMS.MediaTypeOrExtent)

    def finish(self) -> tuple[Graph, dict[str, Any]]:
        """Add the catalogue (DCAT-AP: title, description and publisher are mandatory) and the counts."""
        add = self.add
        add(self.catalog, RDF.type, DCAT.Catalog)
        add(self.catalog, DCTERMS.title, Literal("Datasets used in papers", lang="en"))
        description = f"The datasets that {self.papers} papers use, as extracted by paperdcat."
        add(self.catalog, DCTERMS.description, Literal(description, lang="en"))
        publisher = self.iri("publisher")
        add(self.catalog, DCTERMS.publisher, publisher)
        add(publisher, RDF.type, FOAF.Agent)
        add(publisher, FOAF.name, Literal("paperdcat"))
        if (None, SKOS.inScheme, self.themes) in self.graph:
            add(self.catalog, DCAT.themeTaxonomy, self.themes)
            add(self.themes, RDF.type, SKOS.ConceptScheme)
            add(self.themes, DCTERMS.title, Literal("Themes of the datasets", lang="en"))
        counts = {
            "papers": self.papers,
            "datasets": self.records,
            "dataset_nodes": sum(1 for _ in self.graph.subjects(RDF.type, DCAT.Dataset)),
            "triples": len(self.graph),
            "dropped": dict(sorted(self.dropped.items())),
            "demoted": dict(sorted(self.demoted.items())),
        }
        return self.graph, counts


def build_graph(
    papers: Iterable[tuple[str, list[dict[str, Any]]]],
    base_iri: str = DEFAULT_BASE_IRI,
    merge_datasets: bool = False,
) -> tuple[Graph, dict[str, Any]]:
    """The DCAT graph of ``(paper_key, datasets)`` pairs, and counts of what went in and what was left out.

    ``paper_key`` is the paper's relative path without suffix (``Computer_Vision/paper_12``). Each dataset
    becomes one ``dcat:Dataset`` at ``<base>dataset/<paper key>/<title slug>`` (``~2``, ``~3`` for repeated
    titles within a paper), so the same input always gives the same IRIs and two papers that use one dataset
    give two nodes. ``merge_datasets`` makes one node per normalised title instead
    (``<base>dataset/<title slug>``), referenced by every paper that uses it; its single-valued fields keep
    the first value seen, and later differing values are counted as ``<field>_conflict``. Records without a
    title are never merged: nothing says they are the same dataset.

    Counts: ``papers``, ``datasets`` (records in), ``dataset_nodes``, ``triples``, ``dropped`` and
    ``demoted`` (``{reason: n}``, e.g. ``landingPage_not_iri``, ``issued_not_a_date``, ``format_as_type``).
    """
    builder = _Builder(base_iri, merge_datasets)
    for paper_key, datasets in papers:
        builder.add_paper(paper_key, datasets)
    return builder.finish()


def jsonld_context() -> dict[str, str]:
    return {prefix: str(namespace) for prefix, namespace in PREFIXES.items()} | {"xsd": str(XSD)}


def write_catalog(graph: Graph, ttl_path: str | Path, jsonld_path: str | Path | None = None) -> None:
    """Write the graph as Turtle and, when ``jsonld_path`` is given, as JSON-LD (compacted with the graph's
    prefixes); each file appears atomically."""
    with atomic_path(ttl_path) as tmp:
        graph.serialize(destination=tmp, format="turtle", encoding="utf-8")
    if jsonld_path is not None:
        with atomic_path(jsonld_path) as tmp:
            graph.serialize(destination=tmp, format="json-ld", context=jsonld_context(), encoding="utf-8")
