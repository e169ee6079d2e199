"""Time each stage of `dvc repro` and a no-op `dvc repro` afterwards, with the peak memory of the stages.

    python benchmarks/pipeline_timing.py [--out timings.json] [--force]

Stages run one at a time in pipeline order (`dvc repro --single-item STAGE`), so each wall time is that
stage's own. Peak memory is the largest resident set of any stage process so far (getrusage of children).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import time
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table


def run_timed(command: list[str], cwd: Path | None = None, timeout: float | None = None) -> tuple[float, str]:
    """Wall time and stdout of ``command``; a failure or a timeout stops the benchmark with its output.

    The command runs in a process group of its own, killed whole on a timeout or an interrupt (a stage
    may have started processes of its own)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except BaseException as error:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        if isinstance(error, subprocess.TimeoutExpired):
            raise SystemExit(f"{' '.join(command)} ran past {timeout:.0f} s:\n{stdout[-2000:]}") from None
        raise
    elapsed = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{stdout[-2000:]}\n{stderr[-2000:]}")
    return elapsed, stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the timings as JSON here")
    parser.add_argument("--force", action="store_true", help="rerun stages that are up to date")
    args = parser.parse_args()
    stages = list(yaml.safe_load(Path("dvc.yaml").read_text())["stages"])
    rows = []
    for stage in stages:
        seconds, _ = run_timed(["dvc", "repro", "--single-item", stage, *(["--force"] if args.force else [])])
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        rows.append({"stage": stage, "seconds": round(seconds, 1), "peak_rss_mb_so_far": round(peak_mb)})
        Console().print(f"{stage}: {seconds:.1f} s")
    noop, output = run_timed(["dvc", "repro"])
    assert "Running stage" not in output, "the no-op dvc repro ran a stage"
    rows.append({"stage": "no-op dvc repro", "seconds": round(noop, 1), "peak_rss_mb_so_far": None})
    table = Table("stage", "wall s", "peak RSS MB (so far)")
    for row in rows:
        table.add_row(row["stage"], f"{row['seconds']:.1f}", str(row["peak_rss_mb_so_far"] or ""))
    table.add_row("all stages", f"{sum(r['seconds'] for r in rows[:-1]):.1f}", "")
    Console().print(table)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
