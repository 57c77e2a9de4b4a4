"""Retrain on outcomes: the original data plus the service's matured labeled predictions, gated against the serving
model on a common hold-out neither model trained on.

    python -m training.outcomes.retrain --config training/params.yaml
        (--url URL [--key-file F] [--ca-file PEM] | --labeled F.csv) [--serving VERSION]

Steps: read the labeled rows (the API's `GET /outcomes/labeled`, scope audit, or a CSV file), check and deduplicate
them; find the serving model in the registry; write the rows (and the retraining dataset) as content-addressed files
(tracked by DVC in a DVC project); split the common hold-out and score the serving model on it; train the
candidates with training.train's session and gate; register and export. Exit codes: 0 a new version, 1 refused by
the gate or too few labeled rows (nothing registered), 2 bad input, a refused key or an unreachable service.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
from mlflow.tracking import MlflowClient
from sklearn.metrics import roc_auc_score

from training.bundle_digest import file_sha256
from training.config import TrainingConfig, load_config
from training.errors import QualityGateError
from training.gate import GateVerdict, check_against_serving
from training.models import predict_positive
from training.outcomes import source
from training.outcomes.holdout import common_split, held_out, retrain_frame, split_ids
from training.outcomes.labeled import (
    DatasetVersion,
    LabeledRows,
    TooFewLabeledRows,
    content_sha256,
    dvc_track,
    parse_labeled,
    read_original,
    write_version,
)
from training.outcomes.lineage import outcomes_lineage, outcomes_params, outcomes_tags
from training.outcomes.serving import ServingModel, check_unseen_holdout, serving_model
from training.registry import sync_bundles
from training.report import log
from training.tracking import setup_tracking
from training.train import SessionExtension, exit_code, export_champion, prepare, train_and_register

STEPS = 6


@dataclass(frozen=True)
class Outcome:
    """What the summary reports."""

    original_rows: int
    labeled_rows: int
    labeled_train: int
    holdout_original: int
    holdout_labeled: int
    serving_version: str
    serving_auc: float
    new_auc: float | None = None
    verdict: str = "refused"
    new_version: str | None = None
    bundle: Path | None = None


def step(number: int, message: str) -> None:
    log(f"[{number}/{STEPS}] {message}")


def read_rows(cfg: TrainingConfig, read: Callable[[], tuple[bytes, str]]) -> tuple[pd.DataFrame, LabeledRows, str]:
    """Step 1: the original data and the checked labeled rows; TooFewLabeledRows before anything is written."""
    step(1, "reading the matured labeled predictions")
    content, origin = read()
    original = read_original(cfg.data)
    labeled = parse_labeled(content, original, cfg.data, origin)
    log(f"  {len(labeled.frame)} labeled rows from {origin} ({labeled.duplicates} repeated prediction(s) dropped)")
    if len(labeled.frame) < cfg.retrain.min_labeled_rows:
        raise TooFewLabeledRows(
            f"{len(labeled.frame)} matured labeled rows, retrain.min_labeled_rows is {cfg.retrain.min_labeled_rows}: "
            "too few to improve anything; nothing was written or registered"
        )
    return original, labeled, origin


def find_serving(cfg: TrainingConfig, serving_version: str | None) -> ServingModel:
    """Step 2: the serving model from the registry, checked to have never trained on the original hold-out."""
    step(2, "finding the serving model in the registry")
    setup_tracking(cfg.tracking_uri, cfg.experiment_name)
    client = MlflowClient()
    sync_bundles(client, cfg.export_dir, cfg.registered_model_name, cfg.tracking_uri)
    serving = serving_model(client, cfg.registered_model_name, serving_version)
    log(f"  {check_unseen_holdout(client, serving, file_sha256(Path(cfg.data.path)), cfg.split)}")
    return serving


def write_versions(
    cfg: TrainingConfig, original: pd.DataFrame, labeled: LabeledRows
) -> tuple[DatasetVersion, DatasetVersion]:
    """Step 3: the labeled file and the retraining dataset, content-addressed, DVC-tracked in a DVC project."""
    step(3, f"writing the dataset versions under {cfg.retrain.outcomes_dir}/")
    labeled_file = write_version(cfg.retrain.outcomes_dir, "labeled", labeled.frame)
    retrain_file = write_version(cfg.retrain.outcomes_dir, "retrain", retrain_frame(original, labeled, cfg.data))
    log(f"  labeled: {labeled_file.path} (sha256 {labeled_file.sha256[:12]}, {labeled_file.rows} rows)")
    log(f"  retraining dataset: {retrain_file.path} ({len(original)} original + {labeled_file.rows} labeled rows)")
    log(f"  {dvc_track([labeled_file.path, retrain_file.path])}")
    return labeled_file, retrain_file


def run(cfg: TrainingConfig, read: Callable[[], tuple[bytes, str]], serving_version: str | None, force: bool) -> Path:
    """The whole retrain; returns the new bundle. Raises TooFewLabeledRows, TrainingInputError, QualityGateError."""
    started = time.perf_counter()
    original, labeled, origin = read_rows(cfg, read)
    serving = find_serving(cfg, serving_version)
    if serving.labeled_sha256 == content_sha256(labeled.frame):
        raise TooFewLabeledRows(
            f"the serving model v{serving.version} was trained on these very labeled rows (sha256 "
            f"{serving.labeled_sha256[:12]}): nothing new to learn; nothing was written or registered"
        )
    labeled_file, retrain_file = write_versions(cfg, original, labeled)

    step(4, "splitting the common hold-out (the original hold-out plus a share of the labeled rows) and scoring")
    retrain_cfg = cfg.model_copy(update={"data": cfg.data.model_copy(update={"path": retrain_file.path})})
    holdout = held_out(labeled.ids, cfg.retrain.holdout_share, cfg.split.seed)
    prepared = prepare(retrain_cfg, common_split(len(original), holdout))
    ids = split_ids(prepared.splits, len(original), labeled.ids)
    held = ids["holdout"]
    log(
        f"  common hold-out: {len(prepared.splits[1])} rows = original hold-out {len(held['original_rows'])} "
        f"+ labeled {len(held['prediction_ids'])}; the new model trains on {len(prepared.splits[0])} rows"
    )

    serving_auc = float(roc_auc_score(prepared.splits[3], predict_positive(serving.estimator, prepared.splits[1])))
    log(f"  serving model v{serving.version}: ROC AUC {serving_auc:.4f} on the common hold-out")
    outcome = Outcome(
        len(original),
        len(labeled.frame),
        len(ids["train"]["prediction_ids"]),
        len(held["original_rows"]),
        len(held["prediction_ids"]),
        serving.version,
        serving_auc,
    )
    lineage = outcomes_lineage(
        {"path": str(cfg.data.path), "sha256": file_sha256(Path(cfg.data.path)), "rows": len(original)},
        labeled,
        labeled_file,
        retrain_file,
        origin,
        {
            "rows": len(prepared.splits[1]),
            "original_rows": outcome.holdout_original,
            "labeled_rows": outcome.holdout_labeled,
            "share": cfg.retrain.holdout_share,
            "seed": cfg.split.seed,
            "assignment": "original: the stratified split of make train (seed); labeled: sha256(seed:prediction_id)",
        },
        {
            "version": serving.version,
            "run_id": serving.run_id,
            "holdout_roc_auc": serving_auc,
            "min_auc_gain": cfg.retrain.min_auc_gain,
        },
    )
    judged: dict[str, float] = {}

    def quality(metrics: Mapping[str, float]) -> GateVerdict:
        judged.update(metrics)
        return check_against_serving(cfg.quality_gate, metrics, serving.version, serving_auc, cfg.retrain.min_auc_gain)

    extension = SessionExtension(
        tags=outcomes_tags(lineage),
        params=outcomes_params(lineage),
        metrics={"serving_holdout_roc_auc": serving_auc},
        artifacts={"outcomes/lineage.json": lineage, "outcomes/split.json": ids},
        lineage={"outcomes": lineage},
        quality=quality,
    )

    step(5, f"training the candidates: {', '.join(c.name for c in cfg.candidates)}")
    with tempfile.TemporaryDirectory() as plot_dir:
        try:
            trained = train_and_register(retrain_cfg, prepared, Path(plot_dir), force, extension)
        except QualityGateError:
            print_summary(replace(outcome, new_auc=judged.get("test_roc_auc")), started)
            raise
        step(6, f"exporting {cfg.registered_model_name} v{trained.metadata['version']}")
        bundle = export_champion(retrain_cfg, trained)
    decision = trained.metadata.get("gate", {}).get("decision", "passed")
    new_auc = trained.metadata["metrics"]["test_roc_auc"]
    print_summary(
        replace(outcome, new_auc=new_auc, verdict=decision, new_version=trained.metadata["version"], bundle=bundle),
        started,
    )
    return bundle


def print_summary(outcome: Outcome, started: float) -> None:
    """Rows, hold-out sizes, both models' ROC AUC on the common hold-out, the verdict, the new version."""
    new = f"new {outcome.new_auc:.4f}" if outcome.new_auc is not None else "new ?"
    log(f"\nretrain summary ({time.perf_counter() - started:.1f}s)")
    log(
        f"  rows: original {outcome.original_rows}, labeled {outcome.labeled_rows} "
        f"(trained on {outcome.labeled_train}, held out {outcome.holdout_labeled})"
    )
    log(
        f"  common hold-out: {outcome.holdout_original + outcome.holdout_labeled} rows "
        f"(original {outcome.holdout_original} + labeled {outcome.holdout_labeled})"
    )
    log(
        f"  ROC AUC on it: {new} vs serving v{outcome.serving_version} {outcome.serving_auc:.4f}; "
        f"gate {outcome.verdict}"
    )
    if outcome.new_version is None:
        log("  nothing registered or exported")
        return
    log(f"  new version: v{outcome.new_version} ({outcome.bundle})")
    log(
        f"next: make deploy MODEL={outcome.new_version}, then make switch-green or make switch-blue "
        "(the color make deploy started it on), watched by the controller"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="training/params.yaml", help="path to the YAML config")
    given = parser.add_mutually_exclusive_group(required=True)
    given.add_argument("--url", help="the service's base URL (through nginx: https://127.0.0.1:8080/api)")
    given.add_argument("--labeled", type=Path, help="a labeled CSV in the API's columns instead of fetching")
    parser.add_argument("--key-file", type=Path, help="the API key's file when $API_KEY is not set")
    parser.add_argument("--ca-file", type=Path, help="the CA bundle an https:// URL is verified against")
    parser.add_argument("--serving", help="the registry version serving now (default: the champion alias)")
    parser.add_argument("--force", action="store_true", help="register and export even if the gate refuses")
    args = parser.parse_args(argv)

    def read() -> tuple[bytes, str]:
        if args.labeled is not None:
            return source.read_labeled_file(args.labeled), str(args.labeled)
        labeled = source.fetch_labeled(args.url, source.api_key(args.key_file), args.ca_file)
        return labeled, args.url.rstrip("/") + source.ENDPOINT

    try:
        return exit_code(lambda: run(load_config(args.config), read, args.serving, args.force))
    except TooFewLabeledRows as exc:
        print(f"retrain: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
