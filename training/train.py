"""Train the candidates, track them in MLflow, gate, register and export the champion.

    python -m training.train --config training/params.yaml [--force]

Three steps, the stages of the DVC pipeline (dvc.yaml runs them one by one through training.pipeline):
prepare (validate config and data), train_and_register (candidates, gate, registry), export_champion
(bundle and model card). Exit codes: 0 done, 1 refused by the quality gate, 2 bad config or data.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import mlflow
from mlflow.tracking import MlflowClient
from sklearn.base import BaseEstimator

from training import data as data_mod
from training.candidate import train_candidate
from training.config import SplitConfig, TrainingConfig, load_config
from training.data import Dataset, Splits
from training.decisions import check_reason_table, decision_keys
from training.errors import QualityGateError, TrainingInputError
from training.export import export_bundle
from training.gate import GateVerdict, check_gate, enforce_gate
from training.governance import (
    GovernanceInputs,
    combined_verdict,
    log_review,
    prepare_governance,
    review_champion,
    review_metadata,
    prediction_sets,
)
from training.lineage import dvc_lineage, training_lineage
from training.metadata import build_metadata, git_commit
from training.model_card import HTML_FILE, MARKDOWN_FILE, render
from training.models import build_candidate, check_params
from training.registry import current_champion, record_bundle, register_champion, sync_bundles
from training.report import comparison_table, log, print_data_summary, print_summary, print_table
from training.sanity_reference import SANITY_FILE, sanity_reference
from training.tracking import log_comparison, log_session_params, session_tags, setup_tracking


@dataclass(frozen=True)
class Prepared:
    """The validated inputs of a session: data, split, unfitted candidates, fairness groups and behavioral tests."""

    dataset: Dataset
    splits: Splits
    estimators: list[BaseEstimator]
    governance: GovernanceInputs


@dataclass(frozen=True)
class SessionExtension:
    """What a caller adds to a session (`make retrain`): tags on every run, params, metrics and JSON artifacts on
    the session run, sections of the bundle's lineage, and the quality verdict that replaces the comparison with
    the registered champion."""

    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    artifacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    lineage: dict[str, Any] = field(default_factory=dict)
    quality: Callable[[Mapping[str, float]], GateVerdict] | None = None


@dataclass(frozen=True)
class TrainedChampion:
    """What the export step needs: the registered champion's metadata and its plot files."""

    metadata: dict[str, Any]
    plots: dict[str, Path]
    sanity: dict[str, Any]  # the reference applicants of the deploy's decision-sanity gate (sanity.json)


def prepare(cfg: TrainingConfig, splitter: Callable[[Dataset, SplitConfig], Splits] = data_mod.split) -> Prepared:
    """Load and check everything before MLflow is touched: TrainingInputError (exit 2) names any problem.
    `splitter` makes the train/hold-out split (`make retrain` passes its common hold-out)."""
    dataset = data_mod.load_dataset(cfg.data)
    check_reason_table(cfg, dataset)
    estimators = [build_candidate(c, dataset.numeric, dataset.categorical, cfg.split.seed) for c in cfg.candidates]
    for candidate, estimator in zip(cfg.candidates, estimators):
        check_params(estimator, candidate.name)
    splits = splitter(dataset, cfg.split)
    governance = prepare_governance(cfg, dataset, splits[0])
    return Prepared(dataset, splits, estimators, governance)


def train_and_register(
    cfg: TrainingConfig,
    prepared: Prepared,
    plot_dir: Path,
    force: bool = False,
    extension: SessionExtension = SessionExtension(),
) -> TrainedChampion:
    """Train every candidate in one MLflow session, gate the champion, register it; its metadata and plots."""
    dataset, splits = prepared.dataset, prepared.splits
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
    with mlflow.start_run(run_name=run_name) as parent:
        tags = {**session_tags(cfg, dataset, commit), **extension.tags}
        mlflow.set_tags(tags)
        log_session_params(cfg)
        log_extension(extension)
        results = [
            train_candidate(index, cfg, candidate, estimator, splits, plot_dir, tags, prepared.governance)
            for index, (candidate, estimator) in enumerate(zip(cfg.candidates, prepared.estimators), start=1)
        ]
        champion = max(results, key=lambda r: r.metrics[cfg.selection_metric])
        table = comparison_table(results, champion.name)
        log_comparison(table, champion)
        log("")
        print_table(table)

        log(f"reviewing {champion.name}: fairness by group ({cfg.fairness.bootstrap.n_boot} bootstrap resamples)")
        sets = prediction_sets(splits, champion.out_of_fold, champion.test_proba, champion.threshold)
        review = review_champion(cfg, prepared.governance, champion, sets)
        if extension.quality is not None:
            quality = extension.quality(champion.metrics)
        else:
            quality = check_gate(
                cfg.quality_gate, champion.metrics, current_champion(client, cfg.registered_model_name)
            )
        verdict = combined_verdict(quality, review)
        fairness_plot = log_review(review, verdict, plot_dir)
        decision = enforce_gate(verdict, force)
        version = register_champion(client, cfg.registered_model_name, champion.model_uri, champion.run_id)
        metadata = build_metadata(cfg, dataset, champion, version, x_train, y_train, table, commit)
        metadata.update(decision_keys(cfg, metadata, champion, y_test))
        metadata = {
            **metadata,
            **review_metadata(review, verdict, decision),
            "lineage": training_lineage(
                cfg.data.path,
                dataset.sha256,
                cfg.tracking_uri,
                cfg.experiment_name,
                parent.info.run_id,
                champion.run_id,
                (cfg.registered_model_name, version),
            )
            | extension.lineage,
        }
    plots = {**champion.plots, **({"fairness": fairness_plot} if fairness_plot else {})}
    return TrainedChampion(metadata, plots, sanity_reference(splits[1], champion.test_proba, champion.threshold))


def log_extension(extension: SessionExtension) -> None:
    """The caller's params, metrics and JSON artifacts on the active session run."""
    if extension.params:
        mlflow.log_params(extension.params)
    if extension.metrics:
        mlflow.log_metrics(extension.metrics)
    for name, content in extension.artifacts.items():
        mlflow.log_dict(content, name)


def export_champion(cfg: TrainingConfig, trained: TrainedChampion) -> Path:
    """Add the model card's statements and the DVC lineage, render the card, log it to MLflow, write the bundle."""
    metadata = {
        **trained.metadata,
        "model_card": cfg.model_card.model_dump(),
        "lineage": dvc_lineage(trained.metadata.get("lineage", {})),
    }
    card_metadata = {**metadata, "plots": {name: f"plots/{name}.png" for name in trained.plots}}
    markdown, html = render(card_metadata)
    mlflow.set_tracking_uri(cfg.tracking_uri)
    client = MlflowClient()
    runs = metadata["lineage"]["mlflow"]
    for run_id in (runs["session_run_id"], runs["champion_run_id"]):
        client.log_text(run_id, markdown, f"model_card/{MARKDOWN_FILE}")
        client.log_text(run_id, html, f"model_card/{HTML_FILE}")
    bundle = export_bundle(
        cfg.export_dir,
        cfg.registered_model_name,
        metadata["version"],
        metadata,
        trained.plots,
        texts={MARKDOWN_FILE: markdown, HTML_FILE: html, SANITY_FILE: json.dumps(trained.sanity)},
    )
    digest = record_bundle(client, cfg.registered_model_name, metadata["version"], runs["champion_run_id"], bundle)
    client.set_tag(runs["session_run_id"], "bundle", str(bundle))
    client.set_tag(runs["session_run_id"], "bundle_digest", digest)
    return bundle


def run(cfg: TrainingConfig, force: bool = False) -> Path:
    """The whole pipeline in one process; returns the exported bundle directory."""
    started = time.perf_counter()
    prepared = prepare(cfg)
    with tempfile.TemporaryDirectory() as plot_dir:
        trained = train_and_register(cfg, prepared, Path(plot_dir), force)
        bundle = export_champion(cfg, trained)
    print_summary(cfg, trained.metadata, bundle, time.perf_counter() - started)
    return bundle


def exit_code(step: Callable[[], object]) -> int:
    """Run a step of the pipeline; bad input is exit 2, a refusal of the gate exit 1, each with one line."""
    try:
        step()
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="training/params.yaml", help="path to the YAML config")
    parser.add_argument("--force", action="store_true", help="register and export even if the quality gate refuses")
    args = parser.parse_args(argv)
    return exit_code(lambda: run(load_config(args.config), force=args.force))


if __name__ == "__main__":
    sys.exit(main())
