"""Fixtures shared by the test modules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

REPO_ROOT = Path(__file__).resolve().parents[1]

# Property tests: `ci` (the default) runs 2,000 examples per test, `slow` ten times as many, `quick` 100 for
# editing (HYPOTHESIS_PROFILE=slow python -m pytest tests/test_properties.py tests/test_dcat.py). No deadline:
# the first examples pay for imports and caches, and a loaded CI machine must not turn time into failures.
settings.register_profile(
    "ci", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("slow", settings.get_profile("ci"), max_examples=20_000)
settings.register_profile("quick", settings.get_profile("ci"), max_examples=100)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real public data (``$PAPERDCAT_SHARED_DATA``, else ``<repo>/../shared/data``).

    It lives outside the repository and is never copied in; tests that need it are skipped without it.
    """
    path = Path(os.environ.get("PAPERDCAT_SHARED_DATA") or REPO_ROOT.parent / "shared" / "data")
    if not path.is_dir():
        pytest.skip(f"shared data folder {path} not found; set PAPERDCAT_SHARED_DATA to use real data")
    return path


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny random Llama with a BPE tokenizer trained on generated papers: a local ``model.base``."""
    from tiny_model import build_tiny_model

    from paperdcat.corpus.generated import generate_corpus
    from paperdcat.extraction.parse import format_answer
    from paperdcat.extraction.prompt import SYSTEM_PROMPT

    papers = generate_corpus(20, seed=0)
    corpus = [SYSTEM_PROMPT] + [p["text"] for p in papers] + [format_answer(p["datasets"]) for p in papers]
    return build_tiny_model(tmp_path_factory.mktemp("tiny-llama"), corpus, vocab_size=2000)
