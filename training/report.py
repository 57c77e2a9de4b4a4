"""Console output of a training session: progress lines, the candidate comparison table, the summary."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from training.config import TrainingConfig
from training.data import Dataset
from training.model_card import MARKDOWN_FILE

if TYPE_CHECKING:
    from training.candidate import CandidateResult

TABLE_COLUMNS = [
    "cv_roc_auc_mean",
    "cv_roc_auc_std",
    "test_roc_auc",
    "test_pr_auc",
    "test_accuracy",
    "test_f1",
    "test_brier",
    "threshold",
    "seconds",
]


def log(message: str) -> None:
    """One line to stdout, flushed at once so progress shows while the work runs."""
    print(message, flush=True)


def print_data_summary(cfg: TrainingConfig, dataset: Dataset, y_train: pd.Series, y_test: pd.Series) -> None:
    log(
        f"data: {cfg.data.path} rows={len(dataset.target)} features={dataset.features.shape[1]} "
        f"({len(dataset.numeric)} numeric, {len(dataset.categorical)} categorical) "
        f"positive rate={dataset.target.mean():.3f} dropped={cfg.data.drop_features or 'none'}"
    )
    log(f"split: train={len(y_train)} test={len(y_test)}; {cfg.split.cv_folds}-fold CV; seed={cfg.split.seed}")


def comparison_table(results: list[CandidateResult], champion: str) -> pd.DataFrame:
    """One row per candidate: its metrics (rounded), its time and whether it is the champion."""
    rows = []
    for result in results:
        rows.append(
            {
                "candidate": result.name,
                "champion": result.name == champion,
                **{k: round(v, 4) for k, v in result.metrics.items()},
                "seconds": round(result.seconds, 1),
            }
        )
    return pd.DataFrame(rows)


def print_table(table: pd.DataFrame) -> None:
    header = f"   {'candidate':<22}" + "".join(f"{c.replace('_mean', ''):>16}" for c in TABLE_COLUMNS)
    log(header)
    for _, row in table.iterrows():
        mark = " * " if row["champion"] else "   "
        log(f"{mark}{row['candidate']:<22}" + "".join(f"{row[c]:>16.4f}" for c in TABLE_COLUMNS))
    log("   (* = champion)")


def print_summary(cfg: TrainingConfig, metadata: dict[str, Any], bundle: Path, seconds: float) -> None:
    """The session's outcome: champion, registry version, gate decision with its warnings, bundle and card."""
    metrics = metadata["metrics"]
    gate = metadata.get("gate", {})
    log(
        f"\nchampion: {metadata['candidate']} ({cfg.selection_metric}={metrics[cfg.selection_metric]:.4f}, "
        f"test_roc_auc={metrics['test_roc_auc']:.4f}, threshold={metadata['threshold']:.3f})"
    )
    session = metadata.get("lineage", {}).get("mlflow", {}).get("session_run_id", "?")
    log(f"registered: {cfg.registered_model_name} v{metadata['version']} (alias champion); parent run {session}")
    log(
        f"gate: {gate.get('decision', '?')} (fairness {gate.get('fairness', '?')}, behavioral tests "
        f"{gate.get('behavioral', '?')}, {len(gate.get('warnings', []))} warning(s))"
    )
    log(f"bundle: {bundle} (model card: {bundle / MARKDOWN_FILE})")
    log(f"done in {seconds:.1f}s")
