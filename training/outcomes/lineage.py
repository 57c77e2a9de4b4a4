"""What a retrain records about its data: in MLflow (tags, params, artifacts) and in the bundle's lineage."""

from __future__ import annotations

from typing import Any

from training.outcomes.labeled import DatasetVersion, LabeledRows


def outcomes_lineage(
    original: dict[str, Any],
    labeled: LabeledRows,
    labeled_file: DatasetVersion,
    retrain_file: DatasetVersion,
    source: str,
    holdout: dict[str, Any],
    serving: dict[str, Any],
) -> dict[str, Any]:
    """metadata["lineage"]["outcomes"]: the original data, the labeled file and its prediction ids, the dataset
    trained on, the common hold-out and the serving model it was compared with."""
    frame = labeled.frame
    versions = frame["model_version"].value_counts().sort_index()
    return {
        "original": original,
        "labeled": {
            "path": str(labeled_file.path),
            "sha256": labeled_file.sha256,
            "rows": labeled_file.rows,
            "duplicates_dropped": labeled.duplicates,
            "source": source,
            "prediction_ids": {
                "first": str(frame["prediction_id"].iloc[0]),
                "last": str(frame["prediction_id"].iloc[-1]),
            },
            "scored_at": {"from": str(frame["scored_at"].iloc[0]), "to": str(frame["scored_at"].iloc[-1])},
            "observed_date": {"from": str(frame["observed_date"].min()), "to": str(frame["observed_date"].max())},
            "model_versions": {str(k): int(v) for k, v in versions.items()},
        },
        "retrain_dataset": {"path": str(retrain_file.path), "sha256": retrain_file.sha256, "rows": retrain_file.rows},
        "holdout": holdout,
        "serving": serving,
    }


def outcomes_tags(lineage: dict[str, Any]) -> dict[str, str]:
    """Tags on the session and every candidate run (searchable: tags.outcomes_labeled_sha256 = '...')."""
    labeled = lineage["labeled"]
    ids = labeled["prediction_ids"]
    return {
        "outcomes_original_sha256": lineage["original"]["sha256"],
        "outcomes_labeled_sha256": labeled["sha256"],
        "outcomes_labeled_rows": str(labeled["rows"]),
        "outcomes_prediction_ids": f"{ids['first']}..{ids['last']}",
        "outcomes_serving_version": str(lineage["serving"]["version"]),
    }


def outcomes_params(lineage: dict[str, Any]) -> dict[str, str]:
    """Params of the session run: the files and the hold-out's settings."""
    holdout = lineage["holdout"]
    return {
        "outcomes_labeled_path": lineage["labeled"]["path"],
        "outcomes_retrain_dataset": lineage["retrain_dataset"]["path"],
        "retrain_holdout_share": str(holdout["share"]),
        "retrain_min_auc_gain": str(lineage["serving"]["min_auc_gain"]),
    }
