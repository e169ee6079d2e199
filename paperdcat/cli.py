"""The ``paperdcat`` command: ``extract`` (papers in, MetaMine-layout JSON and a DCAT graph out), ``rdf``
(a DCAT graph from any MetaMine-layout folder) and ``score`` (predictions against gold).

Each subcommand lives in its own module, which exposes ``add_arguments(parser)`` and ``run(args) -> int``.
Exit status: 0 success, 1 a run that failed (one ``error:`` line), 2 bad arguments (argparse's own)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from paperdcat.errors import PaperdcatError

COMMANDS = {
    "extract": ("paperdcat.extraction.command", "extract DCAT records from PDFs, texts or a corpus JSONL"),
    "rdf": ("paperdcat.dcat.command", "build a DCAT graph from a folder of MetaMine-layout JSON"),
    "score": ("paperdcat.scoring.score", "score a prediction folder against a gold folder"),
}


def build_parser(prog: str = "paperdcat") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        importlib.import_module(module).add_arguments(sub)
        sub.set_defaults(module=module)
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "paperdcat") -> int:
    args = build_parser(prog).parse_args(argv)
    try:
        return importlib.import_module(args.module).run(args)
    except PaperdcatError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def command_main(command: str) -> None:
    """``python -m paperdcat.<command>``: the same as ``paperdcat <command>``."""
    sys.exit(main([command, *sys.argv[1:]], prog="paperdcat"))


if __name__ == "__main__":
    sys.exit(main())
