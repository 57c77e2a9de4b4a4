"""The retraining dataset and its common hold-out: the original hold-out plus a share of the labeled rows."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable

import numpy as np
import pandas as pd

from training import data as data_mod
from training.config import DataConfig, SplitConfig
from training.data import Dataset, Splits, split_feature_types
from training.outcomes.labeled import LabeledRows, feature_columns

HASH_DIGITS = 15  # of the sha256 hex digest, read as a fraction in [0, 1)


def held_out(prediction_ids: pd.Series, share: float, seed: int) -> np.ndarray:
    """Which labeled rows are held out: a hash of (seed, prediction id) below `share`. The choice depends on the id
    only, so a row held out once is held out in every retrain and no retrained model ever trained on it."""
    fractions = [
        int(hashlib.sha256(f"{seed}:{pid}".encode()).hexdigest()[:HASH_DIGITS], 16) / 16**HASH_DIGITS
        for pid in prediction_ids
    ]
    return np.asarray(fractions, dtype=float) < share


def retrain_frame(original: pd.DataFrame, labeled: LabeledRows, cfg: DataConfig) -> pd.DataFrame:
    """The original rows, then the labeled rows with the original's columns (features and target; a dropped feature
    the service never received stays empty), numbers as numbers."""
    rows = labeled.frame.reindex(columns=original.columns)
    numeric, _ = split_feature_types(original[feature_columns(original, cfg)], cfg.categorical_features)
    for column in numeric:
        rows[column] = pd.to_numeric(rows[column])
    return pd.concat([original, rows], ignore_index=True)


def common_split(original_rows: int, holdout: np.ndarray) -> Callable[[Dataset, SplitConfig], Splits]:
    """A splitter for training.train.prepare: the original rows split as `make train` splits them (same seed, so the
    serving model never trained on that hold-out), the labeled rows by `holdout`."""

    def split(dataset: Dataset, cfg: SplitConfig) -> Splits:
        features, target = dataset.features, dataset.target
        first = features.index[:original_rows]
        original = dataclasses.replace(dataset, features=features.loc[first], target=target.loc[first])
        x_train, x_test, y_train, y_test = data_mod.split(original, cfg)
        labeled = features.index[original_rows:]
        if len(labeled) != len(holdout):
            raise ValueError(f"{len(labeled)} labeled rows, {len(holdout)} hold-out flags")
        kept, held = labeled[~holdout], labeled[holdout]
        return (
            pd.concat([x_train, features.loc[kept]]),
            pd.concat([x_test, features.loc[held]]),
            pd.concat([y_train, target.loc[kept]]),
            pd.concat([y_test, target.loc[held]]),
        )

    return split


def split_ids(splits: Splits, original_rows: int, prediction_ids: pd.Series) -> dict[str, dict[str, list]]:
    """The rows each side of the split holds: original rows by their 0-based position in the original CSV, labeled
    rows by prediction id (logged to MLflow as outcomes/split.json)."""

    def side(index: pd.Index) -> dict[str, list]:
        positions = np.asarray(index)
        return {
            "original_rows": sorted(int(p) for p in positions if p < original_rows),
            "prediction_ids": sorted(
                str(prediction_ids.iloc[p - original_rows]) for p in positions if p >= original_rows
            ),
        }

    return {"train": side(splits[0].index), "holdout": side(splits[1].index)}
