"""The comparison of base and tuned: metrics/comparison.json, reports/report.md, a PNG chart and plot data.

``reports/fields.csv`` is the per-field plot data for ``dvc plots``: long format, one row per field and model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from paperdcat.io import atomic_path, write_json, write_text
from paperdcat.schema import DCAT_FIELDS, SHORT_NAME

SCORES = ("precision", "recall", "f1")
# DVC plots overwrite a datum's ``field``, ``filename`` and ``rev`` keys with their own, so the DCAT field
# column must not be called ``field``.
FIELD_SCORE_COLUMNS = ["dcat_field", "model", *SCORES]

OVERALL = [
    ("datasets", "precision"),
    ("datasets", "recall"),
    ("datasets", "f1"),
    ("fields_macro_f1",),
    ("mentioned_only", "datasets", "f1"),
    ("strict", "datasets", "f1"),
    ("json_valid_rate",),
    ("repaired_rate",),
    ("sec_per_paper",),
    ("tokens_per_s",),
    ("generated_tokens_mean",),
]


def delta(tuned: Any, base: Any) -> Any:
    """tuned - base for every numeric leaf both share (nested dicts), rounded to 4 decimals."""
    if isinstance(tuned, dict) and isinstance(base, dict):
        return {
            key: delta(tuned[key], base[key])
            for key in tuned
            if key in base and delta(tuned[key], base[key]) is not None
        }
    if isinstance(tuned, int | float) and isinstance(base, int | float) and not isinstance(tuned, bool):
        return round(tuned - base, 4)
    return None


def _get(metrics: dict, path: Sequence[str]) -> Any:
    for key in path:
        metrics = metrics.get(key, {}) if isinstance(metrics, dict) else {}
    return metrics if not isinstance(metrics, dict) else None


def overall_table(base: dict, tuned: dict) -> pd.DataFrame:
    rows = []
    for path in OVERALL:
        b, t = _get(base, path), _get(tuned, path)
        rows.append(
            {
                "metric": ".".join(path),
                "base": b,
                "tuned": t,
                "delta": round(t - b, 4) if b is not None and t is not None else None,
            }
        )
    return pd.DataFrame(rows)


def source_table(base: dict, tuned: dict) -> pd.DataFrame | None:
    """Dataset F1 and fields macro F1 per source, base vs tuned; None unless evaluate scored by source."""
    if "by_source" not in base or "by_source" not in tuned:
        return None
    rows = []
    for source, b in base["by_source"].items():
        t = tuned["by_source"].get(source)
        if t is None:
            continue
        rows.append(
            {
                "source": source,
                "papers": t["papers"],
                "base dataset F1": b["datasets"]["f1"],
                "tuned dataset F1": t["datasets"]["f1"],
                "delta dataset F1": round(t["datasets"]["f1"] - b["datasets"]["f1"], 4),
                "base macro F1": b["fields_macro_f1"],
                "tuned macro F1": t["fields_macro_f1"],
                "delta macro F1": round(t["fields_macro_f1"] - b["fields_macro_f1"], 4),
            }
        )
    return pd.DataFrame(rows)


def annotated_fields(predictions: list[dict]) -> list[str]:
    """DCAT fields that the gold of these papers carries (a source such as SciREX annotates only some)."""
    present = {key for paper in predictions for dataset in paper["gold"] for key in dataset}
    return [field for field in DCAT_FIELDS if field in present] or list(DCAT_FIELDS)


def field_table(base: dict, tuned: dict, fields: Sequence[str] = DCAT_FIELDS) -> pd.DataFrame:
    rows = []
    for field in fields:
        name = SHORT_NAME[field]
        b, t = base["fields"].get(name), tuned["fields"].get(name)
        if b is None or t is None:
            continue
        rows.append(
            {
                "field": name,
                "gold values": t["tp"] + t["fn"],
                "base P": b["precision"],
                "base R": b["recall"],
                "base F1": b["f1"],
                "tuned P": t["precision"],
                "tuned R": t["recall"],
                "tuned F1": t["f1"],
                "delta F1": round(t["f1"] - b["f1"], 4),
            }
        )
    return pd.DataFrame(rows)


def field_scores(fields: pd.DataFrame) -> pd.DataFrame:
    """``field_table`` in long format: per field, one row for base then one for tuned, with P, R and F1."""
    columns = dict(zip(SCORES, ("P", "R", "F1"), strict=True))
    rows = [
        {
            "dcat_field": row["field"],
            "model": model,
            **{key: row[f"{model} {short}"] for key, short in columns.items()},
        }
        for row in fields.to_dict("records")
        for model in ("base", "tuned")
    ]
    return pd.DataFrame(rows, columns=FIELD_SCORE_COLUMNS)


def _summarise(datasets: list[dict]) -> str:
    if not datasets:
        return "(none)"
    parts = []
    for dataset in datasets:
        creators = ", ".join(dataset.get("dcterms:creator", [])[:3])
        year = dataset.get("dcterms:issued", "")
        parts.append(
            f"**{dataset.get('dcterms:title', '')}**"
            + (f" ({creators}" if creators else " (")
            + (f"; {year})" if year else ")")
        )
    return "<br>".join(parts).replace("|", "\\|")


def examples_table(
    base_predictions: list[dict], tuned_predictions: list[dict], count: int = 5
) -> pd.DataFrame:
    """Gold vs base vs tuned for the first ``count`` test papers that have gold datasets."""
    tuned_by_id = {p["paper_id"]: p for p in tuned_predictions}
    chosen = [p for p in base_predictions if p["gold"]][:count]
    return pd.DataFrame(
        [
            {
                "paper": p["paper_id"],
                "gold": _summarise(p["gold"]),
                "base": _summarise(p["datasets"]),
                "tuned": _summarise(tuned_by_id[p["paper_id"]]["datasets"]),
            }
            for p in chosen
        ]
    )


def bar_chart(fields: pd.DataFrame, path: Path) -> None:
    """Grouped horizontal bars of F1 per field, base vs tuned, each bar labelled with its value."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 1.2 + 0.42 * max(len(fields), 1)))
    fields.set_index("field")[["base F1", "tuned F1"]].plot.barh(
        ax=axes, width=0.8, color=["#9aa5b1", "#2b6cb0"]
    )
    for bars in axes.containers:
        axes.bar_label(bars, fmt="%.2f", padding=2, fontsize=7)
    axes.set_xlim(0, 1.08)
    axes.invert_yaxis()
    axes.set_xlabel("F1 over matched datasets")
    axes.set_ylabel("DCAT field")
    axes.set_title("Per-field F1: base vs LoRA-tuned", pad=24)
    # above the plot, so that it never covers a bar
    axes.legend(["base", "tuned"], loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=120)
    plt.close(figure)


def write_report(
    base: dict,
    tuned: dict,
    base_predictions: list[dict],
    tuned_predictions: list[dict],
    reports_dir: Path,
    comparison_path: Path,
) -> dict:
    comparison = {"base": base, "tuned": tuned, "delta": delta(tuned, base)}
    write_json(comparison_path, comparison)
    annotated = annotated_fields(base_predictions)
    unscored = [SHORT_NAME[field] for field in DCAT_FIELDS if field not in annotated]
    fields = field_table(base, tuned, annotated)
    with atomic_path(reports_dir / "fields.csv") as tmp:
        field_scores(fields).to_csv(tmp, index=False)
    bar_chart(fields, reports_dir / "field_f1.png")
    sources = source_table(base, tuned)
    per_source = (
        []
        if sources is None
        else [
            "## Per source",
            sources.to_markdown(index=False)
            + "\n\nMacro F1: the mean F1 over the fields scored on that source's papers (only those its gold "
            "annotates).",
        ]
    )
    text = "\n\n".join(
        [
            "# Base vs LoRA-tuned: DCAT extraction on the test split",
            f"{base['papers']} test papers. Dataset identification matches predicted to gold datasets by "
            "title; "
            "per-field scores are over matched datasets.",
            "## Overall",
            overall_table(base, tuned).to_markdown(index=False),
            *per_source,
            "## Per field",
            fields.to_markdown(index=False)
            + (
                f"\n\nNot annotated by this source, so not scored: {', '.join(unscored)}." if unscored else ""
            ),
            "![Per-field F1](field_f1.png)\n\n"
            "Plot data: `fields.csv` (precision, recall, F1 per field and model); "
            "`dvc plots show` renders it with the loss curves.",
            "## Examples (gold vs base vs tuned)",
            examples_table(base_predictions, tuned_predictions).to_markdown(index=False),
        ]
    )
    write_text(reports_dir / "report.md", text + "\n")
    return comparison
