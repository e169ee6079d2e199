"""``paperdcat rdf JSON_DIR --out catalog.ttl``: the DCAT graph of a folder in the MetaMine layout, no model.

``JSON_DIR`` holds ``<Topic>/paper_N.json`` files (any depth), each a JSON list of dataset objects (a single
object counts as a list of one). The paper key of a file is its path relative to ``JSON_DIR`` without the
suffix. A file that cannot be read, is not JSON, or holds neither a list nor an object is counted and
skipped. ``--validate`` checks the graph against the DCAT-AP 3.0.1 SHACL shapes; the exit status stays 0 when
the graph does not conform (the summary says which shapes fail).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from paperdcat.errors import PaperdcatError
from paperdcat.extraction.inputs import is_run_file
from paperdcat.extraction.parse import read_dataset_objects


def _base_iri(text: str) -> str:
    from paperdcat.dcat.graph import check_base_iri

    try:
        return check_base_iri(text)
    except PaperdcatError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("json_dir", type=Path, metavar="JSON_DIR", help="folder of <Topic>/paper_N.json")
    parser.add_argument("--out", type=Path, required=True, help="Turtle file to write (catalog.ttl)")
    parser.add_argument("--jsonld", type=Path, help="also write the graph as JSON-LD here")
    parser.add_argument(
        "--base-iri",
        type=_base_iri,
        help="namespace of the graph's own IRIs (default https://example.org/paperdcat/)",
    )
    parser.add_argument(
        "--merge-datasets", action="store_true", help="one dcat:Dataset per normalised title across papers"
    )
    parser.add_argument("--validate", action="store_true", help="check the graph against DCAT-AP 3.0.1 SHACL")


def load_folder(json_dir: Path) -> tuple[list[tuple[str, list[dict[str, Any]]]], list[str]]:
    """``(paper_key, dataset objects)`` for every readable ``*.json`` under ``json_dir`` (but an extract
    run's own ``summary*.json``), sorted by path, and the relative paths of the files that were skipped."""
    if not json_dir.is_dir():
        raise PaperdcatError(f"{json_dir}: not a folder")
    papers, skipped = [], []
    for path in sorted(path for path in json_dir.rglob("*.json") if path.is_file()):
        relative = path.relative_to(json_dir)
        if is_run_file(relative):  # an extract run's summary.json, not a paper
            continue
        objects = read_dataset_objects(path)
        if objects is None:
            skipped.append(relative.as_posix())
        else:
            papers.append((relative.with_suffix("").as_posix(), objects))
    return papers, skipped


def _reasons(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{reason} {n}" for reason, n in counts.items()) or "none"


def print_summary(counts: Mapping[str, Any], skipped: list[str], shacl: Mapping[str, Any] | None) -> None:
    print(
        f"{counts['papers']} papers ({len(skipped)} files skipped), {counts['datasets']} dataset objects, "
        f"{counts['dataset_nodes']} dcat:Dataset nodes, {counts['triples']} triples"
    )
    for path in skipped[:5]:
        print(f"  skipped (unreadable, not JSON, or not a list of objects): {path}")
    if len(skipped) > 5:
        print(f"  ... and {len(skipped) - 5} more")
    print(f"dropped: {_reasons(counts['dropped'])}")
    print(f"demoted: {_reasons(counts['demoted'])}")
    if shacl is None:
        return
    verdict = "conforms" if shacl["conforms"] else "does not conform"
    print(
        f"DCAT-AP 3.0.1 SHACL: {verdict}; {shacl['violations']} violations, "
        f"{shacl['warnings']} warnings ({shacl['seconds']} s)"
    )
    for kind in ("violation", "warning"):
        for row in shacl[f"{kind}s_by_shape"]:
            example = f"  e.g. {row['example']}" if kind == "violation" else ""
            print(
                f"  {kind:<9} {row['count']:>6}  {row['shape']}  {row['path']}  {row['constraint']}{example}"
            )


def run(args: argparse.Namespace) -> int:
    from paperdcat.dcat.graph import DEFAULT_BASE_IRI, build_graph, write_catalog

    papers, skipped = load_folder(args.json_dir)
    if not papers and not skipped:
        raise PaperdcatError(f"{args.json_dir}: no *.json files (<Topic>/paper_N.json)")
    start = time.perf_counter()
    graph, counts = build_graph(
        papers, base_iri=args.base_iri or DEFAULT_BASE_IRI, merge_datasets=args.merge_datasets
    )
    write_catalog(graph, args.out, args.jsonld)
    seconds = time.perf_counter() - start
    shacl = None
    if args.validate:
        from paperdcat.dcat.shacl import validate

        shacl = validate(graph)
    written = ", ".join(str(path) for path in (args.out, args.jsonld) if path is not None)
    print(f"wrote {written} in {seconds:.1f} s")
    print_summary(counts, skipped, shacl)
    return 0
