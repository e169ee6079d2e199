"""Running git and dvc from tests: a fixed git identity, no analytics, no hub, and the output on failure."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def run(
    args: list[str], cwd: Path, check: bool = True, home: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command in ``cwd`` (``HOME`` set to ``home`` when given); raise with its output on failure."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
        "DVC_NO_ANALYTICS": "1",
        "HF_HUB_OFFLINE": "1",
        **({"HOME": str(home)} if home is not None else {}),
    }
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result
