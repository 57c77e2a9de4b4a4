"""Render a trained bundle's candidate comparison and fairness by group as Markdown (job summary) and CSV.

    python scripts/metrics_table.py [BUNDLE_DIR] [--out DIR]

Reads BUNDLE_DIR/metadata.json (default models/credit-default/latest), prints the Markdown tables and,
with --out, writes DIR/metrics.md, DIR/metrics.csv and (when the bundle measured groups) DIR/fairness.csv.
Exit 2 with a message when the metadata is missing or lacks the candidates and metrics.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

DEFAULT_BUNDLE = Path("models/credit-default/latest")
COLUMNS = [  # (metadata key, column title)
    ("cv_roc_auc_mean", "CV ROC AUC"),
    ("cv_roc_auc_std", "± std"),
    ("cv_pr_auc_mean", "CV PR AUC"),
    ("test_roc_auc", "test ROC AUC"),
    ("test_pr_auc", "test PR AUC"),
    ("test_accuracy", "accuracy"),
    ("test_precision", "precision"),
    ("test_recall", "recall"),
    ("test_f1", "F1"),
    ("test_brier", "Brier"),
    ("test_log_loss", "log loss"),
    ("threshold", "threshold"),
    ("seconds", "seconds"),
]
NUMBER_FORMATS = {"seconds": ".1f"}  # every other column: ".4f"
GROUP_COLUMNS = [("base_rate", "default rate"), ("flagged_rate", "flagged rate"), ("tpr", "TPR"), ("fpr", "FPR")]
DISPARITY_COLUMNS = [
    ("demographic_parity_ratio", "DP ratio"),
    ("demographic_parity_difference", "DP difference"),
    ("equalized_odds_difference", "EO difference"),
]


class MetadataError(ValueError):
    """The bundle's metadata cannot be read as a trained bundle."""


def load_metadata(bundle: Path) -> dict[str, Any]:
    """The bundle's metadata.json, checked for the keys this report needs."""
    path = bundle / "metadata.json"
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MetadataError(f"{path} does not exist (train a model first: make train)") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise MetadataError(f"{path} is not readable JSON: {exc}") from None
    if not isinstance(metadata, dict):
        raise MetadataError(f"{path}: expected a JSON object")
    for key in ("name", "version", "algorithm", "candidate", "metrics", "candidates"):
        if key not in metadata:
            raise MetadataError(f"{path}: missing key '{key}'")
    candidates = metadata["candidates"]
    if not isinstance(candidates, list) or not candidates or not all(isinstance(c, dict) for c in candidates):
        raise MetadataError(f"{path}: 'candidates' must be a non-empty list of objects")
    for index, row in enumerate(candidates):
        if "candidate" not in row:
            raise MetadataError(f"{path}: candidates[{index}] has no 'candidate' name")
    return metadata


def format_value(value: Any, number_format: str = ".4f") -> str:
    """Numbers in the given format, anything else as text, missing as an en dash."""
    if value is None:
        return "–"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format(value, number_format)
    return str(value)


def markdown(metadata: dict[str, Any]) -> str:
    """A heading naming the champion and one table row per candidate (champion in bold)."""
    champion = metadata["candidate"]
    metrics = metadata["metrics"]
    lines = [
        f"### Trained {metadata['name']} v{metadata['version']}: champion `{champion}` ({metadata['algorithm']})",
        "",
        f"Passed the quality gate with test ROC AUC {format_value(metrics.get('test_roc_auc'))}, "
        f"decision threshold {format_value(metadata.get('threshold', metrics.get('threshold')))}"
        + gate_note(metadata)
        + ".",
        "",
        "| candidate | " + " | ".join(title for _, title in COLUMNS) + " |",
        "| --- |" + " ---: |" * len(COLUMNS),
    ]
    for row in metadata["candidates"]:
        name = row["candidate"]
        cells = [format_value(row.get(key), NUMBER_FORMATS.get(key, ".4f")) for key, _ in COLUMNS]
        if name == champion:
            name, cells = f"**{name}** (champion)", [f"**{cell}**" for cell in cells]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines + fairness_lines(metadata)) + "\n"


def with_interval(value: Any, interval: Any) -> str:
    """`0.591 (0.457–0.759)`, or the value alone."""
    if not isinstance(interval, list) or len(interval) != 2 or None in interval:
        return format_value(value, ".3f")
    return f"{format_value(value, '.3f')} ({interval[0]:.3f}–{interval[1]:.3f})"


def fairness_lines(metadata: dict[str, Any]) -> list[str]:
    """The fairness gate's decision and, for the predictions it judges, each group's rates and the disparities."""
    fairness = metadata.get("fairness")
    if not isinstance(fairness, dict) or not fairness.get("sets"):
        return []
    gate = fairness.get("gate") or {}
    judged = gate.get("predictions", next(iter(fairness["sets"])))
    lines = [
        "",
        f"#### Fairness by group ({judged.replace('_', '-')} predictions): gate **{gate.get('decision', '?')}** "
        f"(action `{gate.get('action', '?')}`)",
        "",
        "| attribute | group | n | " + " | ".join(title for _, title in GROUP_COLUMNS) + " |",
        "| --- | --- |" + " ---: |" * (len(GROUP_COLUMNS) + 1),
    ]
    for attribute, report in fairness["sets"].get(judged, {}).items():
        for group in report.get("groups", []):
            cells = [with_interval(group.get(key), group.get(f"{key}_ci")) for key, _ in GROUP_COLUMNS]
            if not group.get("measured"):
                cells[1:] = [group.get("note") or "too small to measure"] + ["–"] * (len(cells) - 2)
            lines.append(f"| {attribute} | {group['group']} | {group['count']} | " + " | ".join(cells) + " |")
    lines += ["", "| attribute | " + " | ".join(title for _, title in DISPARITY_COLUMNS) + " |"]
    lines.append("| --- |" + " ---: |" * len(DISPARITY_COLUMNS))
    for attribute, report in fairness["sets"].get(judged, {}).items():
        disparities = report.get("disparities") or {}
        cells = [
            with_interval((disparities.get(k) or {}).get("value"), (disparities.get(k) or {}).get("ci"))
            for k, _ in DISPARITY_COLUMNS
        ]
        lines.append(f"| {attribute} | " + " | ".join(cells) + " |")
    lines += [""] + [f"- {finding}" for finding in gate.get("findings", [])]
    return lines


def fairness_csv(metadata: dict[str, Any]) -> str | None:
    """Every set's per-group rows (None when the bundle measured no groups)."""
    fairness = metadata.get("fairness")
    if not isinstance(fairness, dict) or not fairness.get("sets"):
        return None
    rows = [
        {"set": set_name, "attribute": attribute, **{k: v for k, v in group.items() if not k.endswith("_ci")}}
        for set_name, attributes in fairness["sets"].items()
        for attribute, report in attributes.items()
        for group in report.get("groups", [])
    ]
    return csv_text(rows)


def gate_note(metadata: dict[str, Any]) -> str:
    """`, 2 warning(s) recorded` when the gate passed the champion with warnings."""
    gate = metadata.get("gate")
    warnings = gate.get("warnings") if isinstance(gate, dict) else None
    return f" ({gate.get('decision')}, {len(warnings)} warning(s) recorded)" if warnings else ""


def csv_table(metadata: dict[str, Any]) -> str:
    """Every candidate row with every column it has (first-seen order)."""
    return csv_text(metadata["candidates"])


def csv_text(rows: list[dict[str, Any]]) -> str:
    """Rows as CSV with every key any row has, in first-seen order."""
    fields: list[str] = []
    for row in rows:
        fields += [key for key in row if key not in fields]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_atomic(path: Path, text: str) -> None:
    """Write through a temp file in the same directory and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", nargs="?", type=Path, default=DEFAULT_BUNDLE, help="bundle directory")
    parser.add_argument("--out", type=Path, help="directory for metrics.md and metrics.csv")
    args = parser.parse_args(argv)
    try:
        metadata = load_metadata(args.bundle)
    except MetadataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    table = markdown(metadata)
    if args.out is not None:
        write_atomic(args.out / "metrics.md", table)
        write_atomic(args.out / "metrics.csv", csv_table(metadata))
        fairness = fairness_csv(metadata)
        if fairness is not None:
            write_atomic(args.out / "fairness.csv", fairness)
    sys.stdout.write(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
