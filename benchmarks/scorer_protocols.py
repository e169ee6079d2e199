"""The two scorer protocols on MetaMine's prediction folders, and what each title rule does: docs/scoring.md.

    python -m benchmarks.scorer_protocols [--metamine ../shared/data/metamine] [--sample 20] [--seed 0]
        [--fit] [--out figures.json]

Prints, as markdown: both protocols (and the strict protocol without its title rules, i.e. before them)
beside MetaMine's published figures for ``llama``, ``llama_tuned`` and ``qwen``; the dataset F1 from one
protocol to the other, one difference at a time; a control (each paper's predictions scored against
another paper's gold); the per-field F1 of the MetaMine protocol beside the published one; per folder, the
dataset pairs that each title rule adds or removes, alone and as the one left out of all four; seeded
random samples of the pairs that the rules add and of those they remove (with the rules that make each),
of a few pairs that each rule adds on its own, of the pairs that the numbers rule removes on its own and
of the pairs that only the MetaMine protocol matches; with ``--fit``, the MetaMine protocol's matched
counts for title thresholds 25-40 against the published counts.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

from paperdcat.io import write_json
from paperdcat.schema import DCAT_FIELDS, SHORT_NAME
from paperdcat.scoring.score import (
    METAMINE,
    STRICT,
    TITLE,
    FolderPapers,
    Protocol,
    match_datasets,
    read_folders,
    score_papers,
)
from paperdcat.scoring.titles import TITLE_RULES

REPO = Path(__file__).resolve().parents[1]
FOLDERS = ("llama", "llama_tuned", "qwen")
# MetaMine's results/*.json (SDM-TIB/LDM_Datasets): Student(Llama)-base, Student(Llama)-tuned and
# DeepSeek(QWEN Distill); overall counts and P/R/F1, and the F1 of each field over the matched pairs.
PUBLISHED: dict[str, dict[str, Any]] = {
    "llama": {
        "count_gs": 4104, "count_gen": 3354, "matched": 2429, "precision": 0.72, "recall": 0.59, "f1": 0.65,
        "fields": {"creator": 0.17, "theme": 0.33, "keyword": 0.38, "task": 0.38, "title": 0.58,
                   "issued": 0.67, "language": 0.71, "identifier": 0.80, "landingPage": 0.78,
                   "hasVersion": 0.97, "format": 0.50},
    },
    "llama_tuned": {
        "count_gs": 3849, "count_gen": 3447, "matched": 2682, "precision": 0.78, "recall": 0.70, "f1": 0.74,
        "fields": {"creator": 0.59, "theme": 0.54, "keyword": 0.63, "task": 0.58, "title": 0.86,
                   "issued": 0.86, "language": 0.78, "identifier": 0.86, "landingPage": 0.87,
                   "hasVersion": 0.97, "format": 0.73},
    },
    "qwen": {
        "count_gs": 4112, "count_gen": 3036, "matched": 2619, "precision": 0.86, "recall": 0.64, "f1": 0.73,
        "fields": {"creator": 0.39, "theme": 0.49, "keyword": 0.59, "task": 0.51, "title": 0.93,
                   "issued": 0.74, "language": 0.62, "identifier": 0.77, "landingPage": 0.74,
                   "hasVersion": 0.96, "format": 0.69},
    },
}  # fmt: skip
BEFORE = replace(STRICT, name="strict, no title rules", title_rules=frozenset())
RULE_ORDER = ("generic", "acronym", "version", "numbers")
assert set(RULE_ORDER) == TITLE_RULES

Pair = tuple[str, str, int, int]  # folder, paper, gold index, predicted index


Folders = dict[str, FolderPapers]


def protocol_rows(folders: Folders) -> dict[str, dict[str, dict[str, Any]]]:
    """Per folder, per protocol: the dataset counts and rates, creator F1, macro F1 and per-field F1."""
    rows: dict[str, dict[str, dict[str, Any]]] = {}
    for name, folder in folders.items():
        rows[name] = {}
        for protocol in (STRICT, BEFORE, METAMINE):
            metrics = score_papers(folder.scored(protocol), protocol=protocol)
            datasets = metrics["datasets"]
            rows[name][protocol.name] = {
                "papers": metrics["papers"],
                "count_gs": datasets["tp"] + datasets["fn"],
                "count_gen": datasets["tp"] + datasets["fp"],
                "matched": datasets["tp"],
                **{key: datasets[key] for key in ("precision", "recall", "f1")},
                "fields_macro_f1": metrics["fields_macro_f1"],
                "fields": {field: row["f1"] for field, row in metrics["fields"].items()},
            }
    return rows


# From the strict protocol to the MetaMine one, one difference at a time.
STEPS = (
    STRICT,
    replace(STRICT, name="+ papers with predictions only", predicted_papers_only=True),
    replace(STRICT, name="+ title threshold 31", predicted_papers_only=True, title_threshold=31),
    replace(METAMINE, name="+ no title rules, repeats and blank records count (= metamine)"),
)


def step_rows(folders: Folders) -> list[dict[str, Any]]:
    """Dataset F1 per folder for each step of ``STEPS``."""
    return [
        {
            "step": protocol.name,
            **{
                name: score_papers(folder.scored(protocol), protocol=protocol)["datasets"]["f1"]
                for name, folder in folders.items()
            },
        }
        for protocol in STEPS
    ]


def control_rows(folders: Folders) -> list[dict[str, Any]]:
    """Dataset F1 when each paper's predictions are scored against the gold of the next paper (of those
    with predictions, in path order): what a protocol gives for titles that name other datasets."""
    rows = []
    for protocol in (STRICT, METAMINE):
        row: dict[str, Any] = {"protocol": protocol.name}
        for name, folder in folders.items():
            scored = [(gold, pred) for _, gold, pred in folder.papers if pred is not None]
            shifted = [(gold, scored[(i + 1) % len(scored)][1]) for i, (gold, _) in enumerate(scored)]
            row[name] = score_papers(shifted, protocol=protocol)["datasets"]["f1"]
        rows.append(row)
    return rows


def matched_pairs(folders: Folders, protocol: Protocol) -> set[Pair]:
    """Every matched (gold, prediction) pair of the folders under ``protocol``."""
    pairs: set[Pair] = set()
    for name, folder in folders.items():
        for relative, gold, pred in folder.papers:
            if pred is not None or not protocol.predicted_papers_only:
                found = match_datasets(gold, pred or [], protocol=protocol)
                pairs.update((name, str(relative), i, j) for i, j in found)
    return pairs


def rule_effects(folders: Folders) -> tuple[dict[str, set[Pair]], list[dict[str, Any]]]:
    """Pairs under no rule, each rule alone, all rules and all but each; and per folder a table row per
    configuration with its matched count, pairs added and removed against no rule."""
    configs: dict[str, frozenset[str]] = {"none": frozenset()}
    configs |= {f"{rule} alone": frozenset({rule}) for rule in RULE_ORDER}
    configs["all"] = TITLE_RULES
    configs |= {f"all but {rule}": TITLE_RULES - {rule} for rule in RULE_ORDER}
    pairs = {
        label: matched_pairs(folders, replace(STRICT, title_rules=rules)) for label, rules in configs.items()
    }
    rows = []
    for name in folders:
        base = {pair for pair in pairs["none"] if pair[0] == name}
        for label, found in pairs.items():
            mine = {pair for pair in found if pair[0] == name}
            rows.append(
                {
                    "folder": name,
                    "rules": label,
                    "matched": len(mine),
                    "added": len(mine - base),
                    "removed": len(base - mine),
                }
            )
    return pairs, rows


def titles_of(folders: Folders, pair: Pair) -> tuple[str, str]:
    name, paper, i, j = pair
    _, gold, pred = next(row for row in folders[name].papers if str(row[0]) == paper)
    return str(gold[i].get(TITLE, "")), str((pred or [])[j].get(TITLE, ""))


def sample_rows(
    folders: Folders, chosen: set[Pair], pairs: dict[str, set[Pair]] | None, sample: int, seed: int
) -> list[dict[str, Any]]:
    """A seeded random sample of ``chosen`` with titles; given the rule configurations' ``pairs``, also the
    rules that alone make the same change (add the pair if all rules add it, drop it if they drop it) and
    those without which all rules do not."""
    picked = sorted(random.Random(seed).sample(sorted(chosen), min(sample, len(chosen))))
    rows = []
    for pair in picked:
        gold_title, pred_title = titles_of(folders, pair)
        row: dict[str, Any] = {"folder": pair[0], "paper": pair[1], "gold": gold_title, "pred": pred_title}
        if pairs is not None:
            added = pair in pairs["all"]
            row["alone"] = [rule for rule in RULE_ORDER if (pair in pairs[f"{rule} alone"]) == added]
            row["needed"] = [rule for rule in RULE_ORDER if (pair in pairs[f"all but {rule}"]) != added]
        rows.append(row)
    return rows


def fit_rows(folders: Folders) -> list[dict[str, Any]]:
    """The MetaMine protocol's matched count per folder for title thresholds 25-40."""
    rows = []
    for threshold in range(25, 41):
        matched = {
            name: score_papers(folder.scored(METAMINE), protocol=METAMINE, title_threshold=threshold)[
                "datasets"
            ]["tp"]
            for name, folder in folders.items()
        }
        error = sum(abs(matched[name] - PUBLISHED[name]["matched"]) for name in FOLDERS)
        rows.append({"threshold": threshold, **matched, "error": error})
    return rows


def print_report(figures: dict[str, Any]) -> None:
    print("## Both protocols\n")
    print(
        "| predictions | protocol | papers | gold | predicted | matched | P | R | F1 | creator F1 | macro |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in FOLDERS:
        published = PUBLISHED[name]
        for protocol, row in [*figures["protocols"][name].items(), ("published", published)]:
            creator = row["fields"]["creator"]
            macro = row.get("fields_macro_f1", "")
            print(
                f"| {name} | {protocol} | {row.get('papers', '')} | {row['count_gs']} | {row['count_gen']} "
                f"| {row['matched']} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} "
                f"| {creator:.3f} | {macro} |"
            )
    print("\n## From strict to MetaMine: dataset F1, one difference at a time\n")
    print("| step | " + " | ".join(FOLDERS) + " |")
    print("|---|" + "---:|" * len(FOLDERS))
    for row in figures["steps"]:
        print(f"| {row['step']} | " + " | ".join(f"{row[name]:.3f}" for name in FOLDERS) + " |")
    print("\n## Control: each paper's predictions against the next paper's gold, dataset F1\n")
    print("| protocol | " + " | ".join(FOLDERS) + " |")
    print("|---|" + "---:|" * len(FOLDERS))
    for row in figures["control"]:
        print(f"| {row['protocol']} | " + " | ".join(f"{row[name]:.3f}" for name in FOLDERS) + " |")
    print("\n## Field F1: MetaMine protocol / published\n")
    fields = [SHORT_NAME[field] for field in DCAT_FIELDS]
    print("| predictions | " + " | ".join(fields) + " |")
    print("|---|" + "---:|" * len(fields))
    for name in FOLDERS:
        ours = figures["protocols"][name][METAMINE.name]["fields"]
        published = PUBLISHED[name]["fields"]
        cells = [
            f"{ours[field]:.2f} / " + (f"{published[field]:.2f}" if field in published else "-")
            for field in fields
        ]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("\n## Title rules (strict protocol, threshold 85): pairs against no rule\n")
    print("| predictions | rules | matched | added | removed |")
    print("|---|---|---:|---:|---:|")
    for row in figures["rules"]:
        print(f"| {row['folder']} | {row['rules']} | {row['matched']} | {row['added']} | {row['removed']} |")
    for label, rows in figures["samples"].items():
        print(f"\n## {label} ({figures['counts'][label]} in all)\n")
        print("| # | predictions | paper | gold title | predicted title | alone | needed |")
        print("|---:|---|---|---|---|---|---|")
        for number, row in enumerate(rows, 1):
            print(
                f"| {number} | {row['folder']} | {row['paper']} | {row['gold']} | {row['pred']} "
                f"| {', '.join(row.get('alone', [])) or '-'} | {', '.join(row.get('needed', [])) or '-'} |"
            )
    if "fit" in figures:
        print("\n## MetaMine protocol: matched pairs by title threshold (published 2429 / 2682 / 2619)\n")
        print("| threshold | " + " | ".join(FOLDERS) + " | total error |")
        print("|---:|" + "---:|" * (len(FOLDERS) + 1))
        for row in figures["fit"]:
            print(
                f"| {row['threshold']} | "
                + " | ".join(str(row[name]) for name in FOLDERS)
                + f" | {row['error']} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--metamine", type=Path, default=REPO.parent / "shared" / "data" / "metamine")
    parser.add_argument("--sample", type=int, default=20, help="pairs to sample, added and removed each")
    parser.add_argument("--per-rule", type=int, default=5, help="pairs to sample that each rule alone adds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fit", action="store_true", help="also scan the MetaMine title threshold")
    parser.add_argument("--out", type=Path, help="write the figures as JSON")
    args = parser.parse_args()
    folders = {name: read_folders(args.metamine / "gs", args.metamine / name) for name in FOLDERS}
    pairs, rules = rule_effects(folders)
    chosen = {
        "pairs the four rules add": (pairs["all"] - pairs["none"], args.sample),
        "pairs the four rules remove": (pairs["none"] - pairs["all"], args.sample),
        **{
            f"pairs the {rule} rule alone adds": (pairs[f"{rule} alone"] - pairs["none"], args.per_rule)
            for rule in RULE_ORDER
            if rule != "numbers"
        },
        "pairs the numbers rule alone removes": (pairs["none"] - pairs["numbers alone"], args.sample),
    }
    metamine_only = matched_pairs(folders, METAMINE) - pairs["all"]
    figures: dict[str, Any] = {
        "protocols": protocol_rows(folders),
        "steps": step_rows(folders),
        "control": control_rows(folders),
        "rules": rules,
        "counts": {label: len(found) for label, (found, _) in chosen.items()},
        "samples": {
            label: sample_rows(folders, found, pairs, size, args.seed)
            for label, (found, size) in chosen.items()
        },
    }
    label = "pairs the MetaMine protocol matches and the strict one does not"
    figures["counts"][label] = len(metamine_only)
    figures["samples"][label] = sample_rows(folders, metamine_only, None, args.sample, args.seed)
    if args.fit:
        figures["fit"] = fit_rows(folders)
    print_report(figures)
    if args.out:
        write_json(args.out, figures)


if __name__ == "__main__":
    main()
