"""``python -m paperdcat.extract``: the same as ``paperdcat extract`` (``paperdcat.extraction.command``)."""

from paperdcat.cli import command_main

if __name__ == "__main__":
    command_main("extract")
