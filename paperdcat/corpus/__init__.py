"""Corpus sources (generated, SciREX, MetaMine, JSONL), the generated corpus and its catalogue, and the
preprocess step that builds contexts and splits."""
