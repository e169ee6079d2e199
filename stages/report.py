"""report: comparison metrics, reports/report.md, the F1 chart (PNG) and plot data (reports/fields.csv)."""

from pathlib import Path

from paperdcat.errors import cli_entry
from paperdcat.io import read_json, read_jsonl
from paperdcat.params import load_params
from paperdcat.scoring.report import write_report


@cli_entry
def main() -> None:
    load_params()
    comparison = write_report(
        read_json("metrics/base.json"),
        read_json("metrics/tuned.json"),
        read_jsonl("data/predictions/base.jsonl"),
        read_jsonl("data/predictions/tuned.jsonl"),
        Path("reports"),
        Path("metrics/comparison.json"),
    )
    print(f"reports/report.md written; dataset F1 delta {comparison['delta']['datasets']['f1']:+.3f}")


if __name__ == "__main__":
    main()
