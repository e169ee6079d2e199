"""The DCAT graph: one dcat:Dataset per record, stable IRIs, values that cannot be typed dropped and counted,
the ``paperdcat rdf`` command on a MetaMine folder, and SHACL validation against DCAT-AP 3.0.1."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rdflib import RDF, XSD, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, SKOS

from paperdcat.corpus.generated import generate_corpus
from paperdcat.dcat.graph import (
    DCAT,
    DCTYPE,
    DEFAULT_BASE_IRI,
    EU_FILE_TYPE,
    EU_LANGUAGE,
    MLS,
    build_graph,
    is_http_iri,
    write_catalog,
)
from paperdcat.dcat.shacl import validate
from paperdcat.errors import PaperdcatError
from paperdcat.schema import DCAT_FIELDS, SHORT_NAME, coerce_dataset, empty_dataset

REPO_ROOT = Path(__file__).resolve().parents[1]
BASE = DEFAULT_BASE_IRI


def record(title: str, **fields: Any) -> dict[str, Any]:
    """A coerced record from local field names (``landingPage="..."``)."""
    return coerce_dataset({"title": title, **fields}, fill_missing=True)


def datasets(graph: Graph) -> set[URIRef]:
    return set(graph.subjects(RDF.type, DCAT.Dataset))


def one_dataset(graph: Graph) -> URIRef:
    (node,) = datasets(graph)
    return node


# ------------------------------------------------------------------------------------------------ building


def test_generated_gold_gives_one_dataset_per_object_and_round_trips(tmp_path: Path) -> None:
    papers = [(paper["paper_id"], paper["datasets"]) for paper in generate_corpus(12, seed=3)]
    n_objects = sum(len(objects) for _, objects in papers)
    assert n_objects > 10
    graph, counts = build_graph(papers)
    assert len(datasets(graph)) == counts["dataset_nodes"] == counts["datasets"] == n_objects
    assert counts["papers"] == 12 and counts["triples"] == len(graph)
    catalog = URIRef(BASE + "catalog")
    assert set(graph.objects(catalog, DCAT.dataset)) == datasets(graph)
    assert (catalog, RDF.type, DCAT.Catalog) in graph

    write_catalog(graph, tmp_path / "catalog.ttl", tmp_path / "catalog.jsonld")
    for path, syntax in ((tmp_path / "catalog.ttl", "turtle"), (tmp_path / "catalog.jsonld", "json-ld")):
        parsed = Graph().parse(path, format=syntax)
        assert len(datasets(parsed)) == n_objects
        assert set(parsed) == set(graph)  # no blank nodes: the very same triples come back
    assert sorted(path.name for path in tmp_path.iterdir()) == ["catalog.jsonld", "catalog.ttl"]


def test_iris_are_stable_and_made_from_paper_key_and_title() -> None:
    papers = [("Computer_Vision/paper_12", [record("ImageNet (ILSVRC-2012)", creator=["Jia Deng"])])]
    first, _ = build_graph(papers)
    again, _ = build_graph(papers)
    assert set(first) == set(again)
    node = BASE + "dataset/Computer_Vision/paper_12/imagenet-ilsvrc-2012"
    assert datasets(first) == {URIRef(node)}
    assert (URIRef(node), DCTERMS.isReferencedBy, URIRef(BASE + "paper/Computer_Vision/paper_12")) in first
    assert (URIRef(node), DCTERMS.creator, URIRef(BASE + "agent/jia-deng")) in first
    other, _ = build_graph(papers, base_iri="https://data.example.com/ns")
    assert datasets(other) == {
        URIRef("https://data.example.com/ns/dataset/Computer_Vision/paper_12/imagenet-ilsvrc-2012")
    }


def test_same_title_in_two_papers_gives_two_nodes_unless_merged() -> None:
    papers = [
        ("CV/paper_1", [record("ImageNet", issued="2009", creator=["Jia Deng"])]),
        ("CV/paper_2", [record("imagenet", issued="2010", creator=["Jia Deng"], keyword=["images"])]),
    ]
    graph, counts = build_graph(papers)
    assert len(datasets(graph)) == 2 and counts["dropped"] == {}
    assert len(set(graph.subjects(RDF.type, FOAF.Agent))) == 2  # Jia Deng once, plus the publisher

    merged, counts = build_graph(papers, merge_datasets=True)
    node = one_dataset(merged)
    assert node == URIRef(BASE + "dataset/imagenet")
    assert len(set(merged.objects(node, DCTERMS.isReferencedBy))) == 2
    assert list(merged.objects(node, DCTERMS.title)) == [Literal("ImageNet")]  # the first one seen
    assert list(merged.objects(node, DCTERMS.issued)) == [Literal("2009", datatype=XSD.gYear)]
    assert counts["datasets"] == 2 and counts["dataset_nodes"] == 1
    assert counts["dropped"] == {"issued_conflict": 1, "title_conflict": 1}

    _, counts = build_graph([("CV/paper_1", [record("")]), ("CV/paper_2", [record("")])], merge_datasets=True)
    assert counts["dataset_nodes"] == 2  # nothing says two records without a title are one dataset


def test_repeated_and_empty_titles_within_a_paper_get_their_own_nodes() -> None:
    paper = [record("MNIST"), record("mnist"), record(""), record("")]
    graph, counts = build_graph([("p", paper)])
    assert counts["dataset_nodes"] == 4
    assert {str(node).removeprefix(BASE + "dataset/p/") for node in datasets(graph)} == {
        "mnist",
        "mnist~2",
        "_untitled",
        "_untitled~2",
    }


@pytest.mark.parametrize(
    "page",
    [
        "www.example.org/data",
        "example.org",
        "https://example.org/a b",
        'https://example.org/"quoted"',
        "https://example.org/<x>",
        "https://",
        "http:///path",
        "ftp://ftp.example.org/data",
        "https://example.org/%zz",
        "https://example.org/a#b#c",
        "['https://example.org']",
        "https://example.org/x, https://example.org/y",
        "arXiv:1706.03762",
    ],
)
def test_invalid_landing_page_is_dropped_and_counted(page: str) -> None:
    graph, counts = build_graph([("p", [record("D", landingPage=page, format="CSV")])])
    assert not is_http_iri(page)
    assert list(graph.objects(None, DCAT.landingPage)) == []
    assert list(graph.subjects(RDF.type, DCAT.Distribution)) == []  # no access URL, so no distribution
    assert counts["dropped"] == {"landingPage_not_iri": 1, "format_without_access_url": 1}


def test_valid_landing_page_is_an_iri_and_the_file_type_a_distribution() -> None:
    page = "https://example.org/datasets/caf%C3%A9?version=2#files"
    graph, counts = build_graph([("p", [record("D", landingPage=f" {page} ", format="CSV files, JSON")])])
    node = one_dataset(graph)
    assert list(graph.objects(node, DCAT.landingPage)) == [URIRef(page)]
    assert (URIRef(page), RDF.type, FOAF.Document) in graph
    distributions = set(graph.objects(node, DCAT.distribution))
    assert {graph.value(d, DCTERMS.format) for d in distributions} == {EU_FILE_TYPE.CSV, EU_FILE_TYPE.JSON}
    assert all(graph.value(d, DCAT.accessURL) == URIRef(page) for d in distributions)
    assert (EU_FILE_TYPE.CSV, RDF.type, DCTERMS.MediaTypeOrExtent) in graph
    assert counts["dropped"] == {} and counts["demoted"] == {}


@pytest.mark.parametrize("issued", ["2017-02-30", "2008-2011", "N/A", "17", "0000", "2017/05/01", "May 2017"])
def test_invalid_issued_date_is_dropped_and_counted(issued: str) -> None:
    graph, counts = build_graph([("p", [record("D", issued=issued)])])
    assert list(graph.objects(None, DCTERMS.issued)) == []
    assert counts["dropped"] == {"issued_not_a_date": 1}


@pytest.mark.parametrize(
    ("issued", "literal"),
    [
        ("2017", Literal("2017", datatype=XSD.gYear)),
        (" 2017-02-28", Literal("2017-02-28", datatype=XSD.date)),
    ],
)
def test_year_and_date_are_typed(issued: str, literal: Literal) -> None:
    graph, counts = build_graph([("p", [record("D", issued=issued)])])
    assert list(graph.objects(one_dataset(graph), DCTERMS.issued)) == [literal]
    assert counts["dropped"] == {}


def test_fields_map_to_dcat_ap_terms() -> None:
    rec = record(
        "SQuAD",
        description="Questions on Wikipedia articles.",
        hasVersion="2.0",
        identifier="10.18653/v1/D16-1264",
        language="English, German; Klingon",
        format="Text, Graph",
        keyword=["question answering"],
        theme=["Natural Language Processing"],
        task=["Reading comprehension"],
    )
    graph, counts = build_graph([("NLP/paper_3", [rec])])
    node = one_dataset(graph)
    assert graph.value(node, DCTERMS.description) == Literal("Questions on Wikipedia articles.", lang="en")
    assert graph.value(node, DCAT.version) == Literal("2.0")
    assert graph.value(node, DCTERMS.hasVersion) is None
    assert graph.value(node, DCTERMS.identifier) == Literal("10.18653/v1/D16-1264")
    assert set(graph.objects(node, DCTERMS.language)) == {EU_LANGUAGE.ENG, EU_LANGUAGE.DEU}
    assert (EU_LANGUAGE.ENG, RDF.type, DCTERMS.LinguisticSystem) in graph
    assert list(graph.objects(node, DCTERMS.type)) == [DCTYPE.Text]
    assert (DCTYPE.Text, RDF.type, SKOS.Concept) in graph
    assert list(graph.objects(node, DCAT.keyword)) == [Literal("question answering")]
    (theme,) = graph.objects(node, DCAT.theme)
    assert graph.value(theme, SKOS.prefLabel) == Literal("Natural Language Processing")
    assert (theme, RDF.type, SKOS.Concept) in graph
    (task,) = graph.subjects(MLS.definedOn, node)
    assert (task, RDF.type, MLS.Task) in graph
    assert counts["dropped"] == {"format_not_in_table": 1, "language_not_in_table": 1}
    assert counts["demoted"] == {"format_as_type": 1}


def test_empty_fields_produce_no_triples() -> None:
    graph, _ = build_graph([("p", [record("Only a title")])])
    node = one_dataset(graph)
    assert set(graph.predicates(node, None)) == {RDF.type, DCTERMS.title, DCTERMS.isReferencedBy}
    assert list(graph.subjects(None, node)) == [URIRef(BASE + "catalog")]


def test_bad_base_iri_is_refused() -> None:
    for base in ("example.org/ns/", "https://example.org/ns#", "https://example.org/a b/", "urn:x:"):
        with pytest.raises(PaperdcatError, match="base IRI"):
            build_graph([], base_iri=base)


# ------------------------------------------------------------------------------------------------ property


def _valid_iri(text: str) -> bool:
    """An oracle apart from ``is_http_iri``: http(s), a host, no character that IRIs forbid, well-formed %."""
    parts = urlsplit(text)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and not re.search(r'[\x00-\x20<>"{}|\\^`\x7f-\x9f]|%(?![0-9A-Fa-f]{2})', text)
        and text.count("#") <= 1
        and not any(0xD800 <= ord(char) <= 0xDFFF for char in text)
    )


_TRICKY = st.sampled_from(
    [
        "https://example.org/ok",
        "https://example.org/a b",
        'https://example.org/"x"',
        "http://",
        "<https://example.org>",
        "2017",
        "2017-02-30",
        "2016-02-29",
        "99999",
        "English, Klingon",
        "['Image', 'Text']",
        "CSV",
        "\ud800",
        "~2",
        "..",
        "_untitled",
    ]
)
_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | _TRICKY
# JSON as models write it: scalars, lists of scalars, and now and then an object where a string belongs.
_JSON = _SCALARS | st.lists(_SCALARS, max_size=3) | st.dictionaries(st.text(max_size=3), _SCALARS, max_size=2)
_KEYS = st.sampled_from([*DCAT_FIELDS, *SHORT_NAME.values()]) | st.text(max_size=6)
_OBJECTS = st.dictionaries(_KEYS, _JSON, max_size=6)
_PAPER_KEYS = st.text(max_size=12) | st.sampled_from(["Topic/paper_1", "../x", ".", "a//b", "\udfff/x"])


@given(
    papers=st.lists(st.tuples(_PAPER_KEYS, st.lists(_OBJECTS, max_size=3)), max_size=2),
    merge=st.booleans(),
)
def test_any_coerced_records_give_valid_iris_and_typed_dates(papers: list, merge: bool) -> None:
    coerced = [(key, [coerce_dataset(obj, fill_missing=True) for obj in objects]) for key, objects in papers]
    graph, counts = build_graph(coerced, merge_datasets=merge)
    n_objects = sum(len(objects) for _, objects in coerced)
    assert counts["datasets"] == n_objects
    assert counts["dataset_nodes"] == len(datasets(graph)) <= n_objects
    if not merge:
        assert counts["dataset_nodes"] == n_objects
    for triple in graph:
        for term in triple:
            if isinstance(term, URIRef):
                assert _valid_iri(str(term)), term
            elif isinstance(term, Literal) and term.datatype is not None:
                assert term.datatype in (XSD.gYear, XSD.date), term
                if term.datatype == XSD.gYear:
                    assert re.fullmatch(r"[0-9]{4}", str(term)) and str(term) != "0000"
                else:
                    assert re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", str(term))
                    date.fromisoformat(str(term))
    assert all(isinstance(o, Literal) and o.datatype for o in graph.objects(None, DCTERMS.issued))


# ------------------------------------------------------------------------------------------------ command


def run_rdf(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "paperdcat.cli", "rdf", *map(str, args)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def count_objects(folder: Path) -> int:
    """Dataset objects in a MetaMine folder, counted without the project's loaders."""
    total = 0
    for path in folder.rglob("*.json"):
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, OSError):
            continue
        if isinstance(value, dict):
            total += 1
        elif isinstance(value, list):
            total += sum(isinstance(item, dict) for item in value)
    return total


def test_rdf_command_on_the_gold_folder_gives_one_node_per_object(shared_data: Path, tmp_path: Path) -> None:
    gold = shared_data / "metamine" / "gs"
    result = run_rdf(gold, "--out", tmp_path / "catalog.ttl")
    assert result.returncode == 0, result.stderr
    n_objects = count_objects(gold)
    assert n_objects > 4000
    graph = Graph().parse(tmp_path / "catalog.ttl", format="turtle")
    assert len(datasets(graph)) == n_objects
    assert f"{n_objects} dataset objects, {n_objects} dcat:Dataset nodes" in result.stdout


def test_rdf_command_skips_unreadable_files_and_validates(tmp_path: Path) -> None:
    folder = tmp_path / "json"
    (folder / "Topic").mkdir(parents=True)
    good = {**empty_dataset(), "dcterms:title": "MNIST", "dcterms:description": "Digits."}
    (folder / "Topic" / "paper_1.json").write_text(json.dumps([good, good, "not an object"]))
    (folder / "Topic" / "paper_2.json").write_text(json.dumps({"title": "CIFAR-10"}))  # no description
    (folder / "Topic" / "paper_3.json").write_text("[{broken")
    (folder / "Topic" / "paper_4.json").write_text('"a string"')
    out = tmp_path / "out" / "catalog.ttl"
    result = run_rdf(folder, "--out", out, "--jsonld", tmp_path / "out" / "catalog.jsonld", "--validate")
    assert result.returncode == 0, result.stderr
    assert "2 papers (2 files skipped), 3 dataset objects, 3 dcat:Dataset nodes" in result.stdout
    assert "Topic/paper_3.json" in result.stdout and "Topic/paper_4.json" in result.stdout
    assert "does not conform; 1 violations" in result.stdout
    assert re.search(
        r"violation +1 +dcat-ap-SHACL.ttl#dcat:DatasetShape +dcterms:description +MinCount", result.stdout
    )
    for path, syntax in ((out, "turtle"), (out.with_suffix(".jsonld"), "json-ld")):
        assert len(datasets(Graph().parse(path, format=syntax))) == 3


def test_rdf_command_refuses_a_bad_base_iri(tmp_path: Path) -> None:
    result = run_rdf(tmp_path, "--out", tmp_path / "c.ttl", "--base-iri", "not an iri")
    assert result.returncode == 2 and "base IRI" in result.stderr
    result = run_rdf(tmp_path / "missing", "--out", tmp_path / "c.ttl")
    assert result.returncode == 1 and result.stderr.startswith("error: ")


# ------------------------------------------------------------------------------------------------ SHACL


def test_minimal_graph_conforms_and_missing_description_is_a_violation() -> None:
    complete = record("MNIST", description="Handwritten digits.", issued="1998", language="English")
    report = validate(build_graph([("p", [complete])])[0])
    assert report["conforms"] is True and report["violations"] == 0
    assert report["warnings"] > 0  # recommended properties (contact point, publisher, ...) are absent

    report = validate(build_graph([("p", [complete, record("CIFAR-10")])])[0])
    assert report["conforms"] is False and report["violations"] == 1
    (row,) = report["violations_by_shape"]
    assert row["shape"] == "dcat-ap-SHACL.ttl#dcat:DatasetShape"
    assert (row["path"], row["constraint"], row["count"]) == ("dcterms:description", "MinCount", 1)
    assert row["example"] == BASE + "dataset/p/cifar-10"


def test_range_shapes_apply_and_pruning_keeps_the_report() -> None:
    graph, _ = build_graph([("p", [record("MNIST", description="Digits.", creator=["Yann LeCun"])])])
    node = one_dataset(graph)
    graph.add((node, DCTERMS.language, URIRef("https://example.org/not-a-linguistic-system")))
    graph.add((node, DCTERMS.hasVersion, Literal("2.0")))  # DCAT-AP wants a dcat:Dataset here
    pruned, full = validate(graph), validate(graph, prune=False)
    assert {k: v for k, v in pruned.items() if k != "seconds"} == {
        k: v for k, v in full.items() if k != "seconds"
    }
    rows = {(row["shape"], row["path"], row["constraint"]) for row in pruned["violations_by_shape"]}
    assert ("range.ttl#Dataset_Shape", "dcterms:language", "Class") in rows
    assert ("range.ttl#Dataset_Shape", "dcterms:hasVersion", "Class") in rows


def test_validation_of_real_gold_papers(shared_data: Path) -> None:
    gold = shared_data / "metamine" / "gs"
    files = sorted(gold.rglob("*.json"))[:40]
    papers = [(str(path.relative_to(gold).with_suffix("")), json.loads(path.read_text())) for path in files]
    graph, counts = build_graph(
        [(key, [coerce_dataset(obj, fill_missing=True) for obj in objects]) for key, objects in papers]
    )
    report = validate(graph)
    missing = sum(
        1 for _, objects in papers for obj in objects if not str(obj.get("dcterms:description", "")).strip()
    )
    untitled = sum(
        1 for _, objects in papers for obj in objects if not str(obj.get("dcterms:title", "")).strip()
    )
    assert report["violations"] == missing + untitled
    assert report["conforms"] is (missing + untitled == 0)
    assert counts["dataset_nodes"] == sum(len(objects) for _, objects in papers)
