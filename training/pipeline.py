"""The stages of the DVC pipeline (dvc.yaml): the three steps of training.train, each passing files to the next.

    python -m training.pipeline validate --config training/params.yaml --out reports/validation.json
    python -m training.pipeline train --config training/params.yaml --out reports/train --metrics reports/metrics.json
    python -m training.pipeline export --config training/params.yaml --trained reports/train --card reports/card

`train` also logs to MLflow and registers a version, and `export` writes the bundle under export_dir: side
effects DVC does not track (docs/training.md). Exit codes as training.train: 0 done, 1 refused, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from training.config import TrainingConfig, load_config
from training.errors import TrainingInputError
from training.metadata import dataset_summary
from training.model_card import HTML_FILE, MARKDOWN_FILE
from training.report import log
from training.sanity_reference import SANITY_FILE
from training.train import Prepared, TrainedChampion, exit_code, export_champion, prepare, train_and_register

METADATA_FILE = "metadata.json"
PLOTS_DIR = "plots"


def write_file(path: Path, text: str) -> None:
    """Through a temp file beside it and a rename: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=f".{path.name}.", delete=False, encoding="utf-8"
    ) as handle:
        handle.write(text)
    os.replace(handle.name, path)


def replace_dir(target: Path, fill: Callable[[Path], None]) -> None:
    """Fill a staging directory beside `target`, then put it in target's place (removed again on failure)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        fill(staging)
        os.chmod(staging, 0o755)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def validation_report(cfg: TrainingConfig, prepared: Prepared) -> dict[str, Any]:
    """What validation found: the data, the split, each group's size, the declared behavioral tests."""
    dataset, (x_train, x_test, _, _) = prepared.dataset, prepared.splits
    groups = prepared.governance.groups.labels
    return {
        "dataset": dataset_summary(cfg, dataset),
        "features": {"numeric": dataset.numeric, "categorical": dataset.categorical},
        "split": {"train": int(len(x_train)), "test": int(len(x_test))},
        "groups": {
            name: {str(k): int(v) for k, v in groups[name].value_counts().sort_index().items()} for name in groups
        },
        "behavioral_tests": [test.name for test in prepared.governance.tests],
    }


def validate_stage(cfg: TrainingConfig, out: Path) -> None:
    prepared = prepare(cfg)
    report = validation_report(cfg, prepared)
    write_file(out, json.dumps(report, indent=2) + "\n")
    sizes = "; ".join(f"{name}: {counts}" for name, counts in report["groups"].items()) or "none"
    log(f"validated {cfg.data.path}: {report['dataset']['rows']} rows, groups {sizes}")
    log(f"report: {out}")


def stage_metrics(metadata: dict[str, Any]) -> dict[str, Any]:
    """The numbers `dvc metrics show` lists: the champion's metrics, its disparities, the gate's counts."""
    fairness = (metadata.get("fairness") or {}).get("sets") or {}
    gate = metadata.get("gate") or {}
    return {
        "version": int(metadata["version"]),
        "metrics": metadata["metrics"],
        "fairness": {
            set_name: {
                attribute: {k: v["value"] for k, v in (report.get("disparities") or {}).items()}
                for attribute, report in attributes.items()
            }
            for set_name, attributes in fairness.items()
        },
        "gate": {
            "warnings": len(gate.get("warnings", [])),
            "behavioral_failed": sum(1 for r in metadata.get("behavioral_tests", []) if not r["passed"]),
        },
    }


def train_stage(cfg: TrainingConfig, out: Path, metrics: Path, force: bool) -> None:
    prepared = prepare(cfg)

    def fill(staging: Path) -> None:
        with tempfile.TemporaryDirectory() as plot_dir:
            trained = train_and_register(cfg, prepared, Path(plot_dir), force)
            (staging / PLOTS_DIR).mkdir()
            for name, path in trained.plots.items():
                shutil.copyfile(path, staging / PLOTS_DIR / f"{name}.png")
        (staging / METADATA_FILE).write_text(json.dumps(trained.metadata, indent=2) + "\n", encoding="utf-8")
        (staging / SANITY_FILE).write_text(json.dumps(trained.sanity) + "\n", encoding="utf-8")
        write_file(metrics, json.dumps(stage_metrics(trained.metadata), indent=2) + "\n")

    replace_dir(out, fill)
    log(f"trained: {out} (metrics: {metrics})")


def read_trained(directory: Path) -> TrainedChampion:
    """The train stage's output, as the export step takes it."""
    try:
        metadata = json.loads((directory / METADATA_FILE).read_text(encoding="utf-8"))
        sanity = json.loads((directory / SANITY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TrainingInputError(f"{directory} is not a train stage's output: {exc}") from None
    plots = {path.stem: path for path in sorted((directory / PLOTS_DIR).glob("*.png"))}
    return TrainedChampion(metadata, plots, sanity)


def export_stage(cfg: TrainingConfig, trained_dir: Path, card: Path) -> None:
    bundle = export_champion(cfg, read_trained(trained_dir))

    def fill(staging: Path) -> None:
        for name in (MARKDOWN_FILE, HTML_FILE):
            shutil.copyfile(bundle / name, staging / name)

    replace_dir(card, fill)
    log(f"exported: {bundle} (model card: {card / MARKDOWN_FILE})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=("validate", "train", "export"))
    parser.add_argument("--config", default="training/params.yaml", help="path to the YAML config")
    parser.add_argument("--out", type=Path, help="validate: the report file; train: the output directory")
    parser.add_argument("--metrics", type=Path, default=Path("reports/metrics.json"), help="train: the metrics file")
    parser.add_argument("--trained", type=Path, default=Path("reports/train"), help="export: the train stage's output")
    parser.add_argument("--card", type=Path, default=Path("reports/card"), help="export: where the card is copied")
    parser.add_argument("--force", action="store_true", help="train: register even if the quality gate refuses")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def stage() -> None:
        cfg = load_config(args.config)
        if args.stage == "validate":
            validate_stage(cfg, args.out or Path("reports/validation.json"))
        elif args.stage == "train":
            train_stage(cfg, args.out or Path("reports/train"), args.metrics, args.force)
        else:
            export_stage(cfg, args.trained, args.card)

    code = exit_code(stage)
    if code == 0:
        log(f"stage {args.stage} done in {time.perf_counter() - started:.1f}s")
    return code


if __name__ == "__main__":
    sys.exit(main())
