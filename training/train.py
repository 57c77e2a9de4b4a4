"""Train the candidates, track them in MLflow, gate, register and export the champion.

    python -m training.train --config training/params.yaml [--force]

Exit codes: 0 done, 1 refused by the quality gate, 2 bad config or data.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

from training import data as data_mod
from training.candidate import train_candidate
from training.config import TrainingConfig, load_config
from training.decisions import check_reason_table, decision_keys
from training.errors import QualityGateError, TrainingInputError
from training.export import export_bundle
from training.gate import check_gate, enforce_gate
from training.metadata import build_metadata, git_commit
from training.models import build_candidate, check_params
from training.registry import current_champion, record_bundle, register_champion, sync_bundles
from training.report import comparison_table, log, print_data_summary, print_summary, print_table
from training.tracking import log_comparison, log_session_params, session_tags, setup_tracking


def run(cfg: TrainingConfig, force: bool = False) -> Path:
    """The whole pipeline; returns the exported bundle directory."""
    started = time.perf_counter()
    dataset = data_mod.load_dataset(cfg.data)
    check_reason_table(cfg, dataset)
    estimators = [build_candidate(c, dataset.numeric, dataset.categorical, cfg.split.seed) for c in cfg.candidates]
    for candidate, estimator in zip(cfg.candidates, estimators):
        check_params(estimator, candidate.name)
    splits = data_mod.split(dataset, cfg.split)
    x_train, _, y_train, y_test = splits
    print_data_summary(cfg, dataset, y_train, y_test)

    setup_tracking(cfg.tracking_uri, cfg.experiment_name)
    client = MlflowClient()
    commit = git_commit()
    log(f"mlflow: {cfg.tracking_uri} experiment '{cfg.experiment_name}'")
    imported = sync_bundles(client, cfg.export_dir, cfg.registered_model_name, cfg.tracking_uri)
    if imported:
        log(f"mlflow: imported the exported bundles this store lacked: {', '.join('v' + v for v in imported)}")
    run_name = f"training-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}"
    with mlflow.start_run(run_name=run_name) as parent, tempfile.TemporaryDirectory() as plot_dir:
        tags = session_tags(cfg, dataset, commit)
        mlflow.set_tags(tags)
        log_session_params(cfg)
        results = [
            train_candidate(index, cfg, candidate, estimator, splits, Path(plot_dir), tags)
            for index, (candidate, estimator) in enumerate(zip(cfg.candidates, estimators), start=1)
        ]
        champion = max(results, key=lambda r: r.metrics[cfg.selection_metric])
        table = comparison_table(results, champion.name)
        log_comparison(table, champion)
        log("")
        print_table(table)

        verdict = check_gate(cfg.quality_gate, champion.metrics, current_champion(client, cfg.registered_model_name))
        enforce_gate(verdict, force)
        version = register_champion(client, cfg.registered_model_name, champion.model_uri, champion.run_id)
        metadata = build_metadata(cfg, dataset, champion, version, x_train, y_train, table, commit)
        metadata.update(decision_keys(cfg, metadata, champion, y_test))
        bundle = export_bundle(cfg.export_dir, cfg.registered_model_name, version, metadata, champion.plots)
        digest = record_bundle(client, cfg.registered_model_name, version, champion.run_id, bundle)
        mlflow.set_tags({"bundle": str(bundle), "bundle_digest": digest})
    print_summary(cfg, champion, version, parent.info.run_id, bundle, time.perf_counter() - started)
    return bundle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="training/params.yaml", help="path to the YAML config")
    parser.add_argument("--force", action="store_true", help="register and export even if the quality gate refuses")
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.config)
        run(cfg, force=args.force)
    except TrainingInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except QualityGateError as exc:
        print(
            f"quality gate refused the champion: {exc}\nnothing was registered or exported "
            "(use --force to override)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
