"""Build (and validate) the DCAT graph of MetaMine-layout folders: the figures in ``docs/dcat.md``.

    python -m benchmarks.dcat_catalogues FOLDER... [--validate] [--out figures.json]

For each folder: papers, files skipped, dataset objects, ``dcat:Dataset`` nodes, triples, the seconds to build
the graph and to write Turtle and JSON-LD (to a temporary folder), what was dropped or demoted, and with
``--validate`` the DCAT-AP 3.0.1 SHACL report (violations and warnings per shape).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from paperdcat.dcat.command import load_folder
from paperdcat.dcat.graph import build_graph, write_catalog
from paperdcat.dcat.shacl import validate
from paperdcat.io import write_json


def catalogue_figures(folder: Path, with_validation: bool) -> dict[str, Any]:
    papers, skipped = load_folder(folder)
    start = time.perf_counter()
    graph, counts = build_graph(papers)
    built = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        write_catalog(graph, Path(tmp) / "catalog.ttl", Path(tmp) / "catalog.jsonld")
    written = time.perf_counter()
    figures: dict[str, Any] = {
        "folder": str(folder),
        "skipped_files": len(skipped),
        **counts,
        "build_seconds": round(built - start, 2),
        "write_seconds": round(written - built, 2),
    }
    if with_validation:
        figures["shacl"] = validate(graph)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", type=Path, nargs="+")
    parser.add_argument("--validate", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rows = [catalogue_figures(folder, args.validate) for folder in args.folders]
    print("| folder | papers | skipped | objects | Dataset nodes | triples | build s | write s | SHACL |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for row in rows:
        shacl = row.get("shacl")
        verdict = "" if shacl is None else f"{shacl['violations']} violations, {shacl['warnings']} warnings"
        print(
            f"| {Path(row['folder']).name} | {row['papers']} | {row['skipped_files']} | {row['datasets']} "
            f"| {row['dataset_nodes']} | {row['triples']} | {row['build_seconds']} | {row['write_seconds']} "
            f"| {verdict} |"
        )
    print(json.dumps(rows, indent=1))
    if args.out:
        write_json(args.out, rows)


if __name__ == "__main__":
    main()
