"""Validate a DCAT graph against the DCAT-AP 3.0.1 SHACL shapes with pyshacl.

The shapes in ``shapes/`` (see its README for source and licence) are the mandatory/cardinality/datatype
shapes (``dcat-ap-SHACL.ttl``), the class range shapes (``range.ttl``) and the recommended properties
(``shapes_recommended.ttl``, severity Warning). A graph conforms when it has no result of severity Violation;
warnings (missing recommended properties such as a contact point) are counted apart.
"""

from __future__ import annotations

import time
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

from rdflib import RDF, RDFS, Graph
from rdflib.namespace import SH, NamespaceManager
from rdflib.term import Node, URIRef

from paperdcat.dcat.graph import PREFIXES

SHAPES_DIR = Path(__file__).parent / "shapes"
SHAPE_FILES = ("dcat-ap-SHACL.ttl", "range.ttl", "shapes_recommended.ttl")


@cache
def load_shapes() -> tuple[Graph, dict[Node, str]]:
    """The shapes graph, and a readable name (``<file>#<node shape>``) for every node and property shape."""
    shapes = Graph()
    names: dict[Node, str] = {}
    for file_name in SHAPE_FILES:
        part = Graph().parse(SHAPES_DIR / file_name, format="turtle")
        for shape in set(part.subjects(RDF.type, SH.NodeShape)):
            name = f"{file_name}#{str(shape).rsplit('#', 1)[-1]}"
            names[shape] = name
            for property_shape in part.objects(shape, SH.property):
                names[property_shape] = name
        shapes += part
    return shapes, names


# Constraints that every focus node passes when the path has no value (with the annotations beside them).
_VACUOUS_WITHOUT_VALUES = frozenset(
    {SH["class"], SH.nodeKind, SH.datatype, SH.maxCount, SH.pattern, SH.flags, SH.node, SH["in"]}
    | {SH.minLength, SH.maxLength, SH.languageIn, SH.uniqueLang}
    | {SH.path, SH.name, SH.description, SH.severity, SH.message, SH.order, SH.group}
    | {RDF.type, RDFS.seeAlso, RDFS.label, RDFS.comment}
)


def shapes_for(graph: Graph) -> Graph:
    """The shapes without the property shapes that cannot report anything on ``graph``.

    A property shape whose path is a predicate the graph never uses, and whose constraints all hold when
    there is no value (class, datatype, maxCount, ...; not minCount), passes on every focus node. DCAT-AP
    has some 70 such shapes per class for properties this project never writes; leaving them out gives the
    same report in a fraction of the time (``validate(..., prune=False)`` checks that).
    """
    shapes, _ = load_shapes()
    used = set(graph.predicates())
    pruned = Graph()
    for triple in shapes:
        _, predicate, property_shape = triple
        if predicate == SH.property and _vacuous(shapes, property_shape, used):
            continue
        pruned.add(triple)
    return pruned


def _vacuous(shapes: Graph, property_shape: Node, used: set[Node]) -> bool:
    path = shapes.value(property_shape, SH.path)
    return (
        isinstance(path, URIRef)
        and path not in used
        and set(shapes.predicates(property_shape)) <= _VACUOUS_WITHOUT_VALUES
    )


def _namespaces() -> NamespaceManager:
    manager = NamespaceManager(Graph(), bind_namespaces="core")
    for prefix, namespace in {**PREFIXES, "dcatap": "http://data.europa.eu/r5r/"}.items():
        manager.bind(prefix, namespace, replace=True)
    return manager


def _short(node: Node | None, manager: NamespaceManager) -> str:
    if node is None:
        return ""
    try:
        return manager.normalizeUri(node)
    except Exception:  # a path that is not an IRI (a blank node for a complex path)
        return str(node)


def validate(graph: Graph, prune: bool = True) -> dict[str, Any]:
    """Validate ``graph`` against DCAT-AP 3.0.1 and count the results.

    Returns ``conforms`` (no Violation), ``violations`` and ``warnings`` (totals), ``violations_by_shape``
    and ``warnings_by_shape`` (lists of ``{shape, path, constraint, count, example}``, most frequent first;
    ``example`` is one focus node), and ``seconds`` (time spent validating).
    """
    from pyshacl import validate as shacl_validate  # slow to import: only when validating

    shapes, names = load_shapes()
    start = time.perf_counter()
    conforms, results, _ = shacl_validate(
        graph,
        shacl_graph=shapes_for(graph) if prune else shapes,
        inference="none",
        allow_warnings=True,
        abort_on_first=False,
        advanced=False,
        meta_shacl=False,
    )
    seconds = time.perf_counter() - start
    manager = _namespaces()
    counts: dict[Node, Counter[tuple[str, str, str]]] = {SH.Violation: Counter(), SH.Warning: Counter()}
    examples: dict[tuple[str, str, str], str] = {}
    for result in results.subjects(RDF.type, SH.ValidationResult):
        severity = results.value(result, SH.resultSeverity)
        shape = results.value(result, SH.sourceShape)
        component = results.value(result, SH.sourceConstraintComponent)
        key = (
            names.get(shape, str(shape)),
            _short(results.value(result, SH.resultPath), manager),
            str(component).rsplit("#", 1)[-1].removesuffix("ConstraintComponent"),
        )
        counts.setdefault(severity, Counter())[key] += 1
        examples.setdefault(key, str(results.value(result, SH.focusNode)))

    def by_shape(severity: Node) -> list[dict[str, Any]]:
        return [
            {"shape": shape, "path": path, "constraint": constraint, "count": n, "example": examples[key]}
            for key, n in sorted(counts[severity].items(), key=lambda item: (-item[1], item[0]))
            for shape, path, constraint in [key]
        ]

    return {
        "conforms": bool(conforms),
        "violations": counts[SH.Violation].total(),
        "warnings": counts[SH.Warning].total(),
        "violations_by_shape": by_shape(SH.Violation),
        "warnings_by_shape": by_shape(SH.Warning),
        "seconds": round(seconds, 2),
    }
