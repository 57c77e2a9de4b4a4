"""Render a trained bundle's candidate comparison as Markdown (job summary) and CSV (artifact).

    python scripts/metrics_table.py [BUNDLE_DIR] [--out DIR]

Reads BUNDLE_DIR/metadata.json (default models/credit-default/latest), prints the Markdown table and,
with --out, writes DIR/metrics.md and DIR/metrics.csv. Exit 2 with a message when the metadata is
missing or lacks the candidates and metrics.
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
        f"decision threshold {format_value(metadata.get('threshold', metrics.get('threshold')))}.",
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
    return "\n".join(lines) + "\n"


def csv_table(metadata: dict[str, Any]) -> str:
    """Every candidate row with every column it has (first-seen order)."""
    fields: list[str] = []
    for row in metadata["candidates"]:
        fields += [key for key in row if key not in fields]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(metadata["candidates"])
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
    sys.stdout.write(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
