"""Load and validate the dataset, infer its feature schema, split it."""

from __future__ import annotations


import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from training.bundle_digest import file_sha256
from training.config import DataConfig, SplitConfig
from training.errors import TrainingInputError

MISSING_CATEGORY = "__missing__"
Splits = tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]  # x_train, x_test, y_train, y_test


@dataclass(frozen=True)
class Dataset:
    """Features and the 0/1 target (1 = the positive class, e.g. default)."""

    features: pd.DataFrame
    target: pd.Series
    sha256: str
    negative_label: str
    numeric: list[str]
    categorical: list[str]


def load_dataset(cfg: DataConfig) -> Dataset:
    """Read the CSV and check target, labels and feature lists; raise TrainingInputError."""
    path = Path(cfg.path)
    if not path.is_file():
        raise TrainingInputError(f"data file not found: {path}")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise TrainingInputError(f"data file {path} is not a readable CSV: {exc}") from None
    if cfg.target not in frame.columns:
        raise TrainingInputError(
            f"target column '{cfg.target}' not in {path} (columns: {', '.join(map(str, frame.columns))})"
        )
    unknown = [f for f in cfg.drop_features + cfg.categorical_features if f not in frame.columns or f == cfg.target]
    if unknown:
        raise TrainingInputError(f"unknown feature(s) in drop_features/categorical_features: {', '.join(unknown)}")
    target_raw = frame[cfg.target]
    if target_raw.isna().any():
        raise TrainingInputError(f"target column '{cfg.target}' has {int(target_raw.isna().sum())} missing values")
    labels = sorted(target_raw.astype(str).unique())
    if len(labels) != 2:
        raise TrainingInputError(
            f"target column '{cfg.target}' must have exactly two values, found {len(labels)}: {labels[:10]}"
        )
    positive = str(cfg.positive_label)
    if positive not in labels:
        raise TrainingInputError(f"positive_label '{positive}' is not a value of '{cfg.target}' (values: {labels})")
    negative = next(label for label in labels if label != positive)
    features = frame.drop(columns=[cfg.target, *cfg.drop_features])
    if features.shape[1] == 0:
        raise TrainingInputError("no features left after drop_features")
    target = (target_raw.astype(str) == positive).astype(int).rename(cfg.target)
    if target.value_counts().min() < 10:
        raise TrainingInputError("each target class needs at least 10 rows for a stratified split")
    numeric, categorical = split_feature_types(features, cfg.categorical_features)
    features = normalise_types(features, numeric, categorical)
    return Dataset(features, target, file_sha256(path), negative, numeric, categorical)


def split_feature_types(features: pd.DataFrame, forced_categorical: list[str]) -> tuple[list[str], list[str]]:
    """Numeric columns stay numeric unless forced; everything else is categorical."""
    numeric = [
        c
        for c in features.columns
        if pd.api.types.is_numeric_dtype(features[c])
        and not pd.api.types.is_bool_dtype(features[c])
        and c not in forced_categorical
    ]
    categorical = [c for c in features.columns if c not in numeric]
    return numeric, categorical


def normalise_types(features: pd.DataFrame, numeric: list[str], categorical: list[str]) -> pd.DataFrame:
    """Numbers as float64, categories as plain Python strings (missing -> a marker category)."""
    out = pd.DataFrame(index=features.index)
    for column in features.columns:
        if column in numeric:
            out[column] = features[column].astype("float64")
        else:
            values = features[column].astype(object).where(features[column].notna(), MISSING_CATEGORY)
            out[column] = values.map(str).astype(object)
    return out


def split(dataset: Dataset, cfg: SplitConfig) -> Splits:
    """Stratified hold-out split."""
    return train_test_split(
        dataset.features,
        dataset.target,
        test_size=cfg.test_size,
        stratify=dataset.target,
        random_state=cfg.seed,
    )


def _json_number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


def infer_schema(dataset: Dataset, raw_features: pd.DataFrame | None = None) -> list[dict[str, Any]]:
    """Per-feature schema for serving: type, categories or observed/allowed range, example."""
    frame = dataset.features
    schema: list[dict[str, Any]] = []
    for column in frame.columns:
        series = frame[column]
        if column in dataset.numeric:
            observed = series.dropna()
            low, high = float(observed.min()), float(observed.max())
            span = max(high - low, abs(high), 1.0)
            is_integer = bool(np.all(np.mod(observed, 1) == 0))
            lower = 0.0 if low >= 0 else low - span
            schema.append(
                {
                    "name": column,
                    "type": "numeric",
                    "dtype": "integer" if is_integer else "float",
                    "min": _json_number(low),
                    "max": _json_number(high),
                    "lower_bound": _json_number(math.floor(lower)),
                    "upper_bound": _json_number(math.ceil(high + span)),
                    "nullable": bool(series.isna().any()),
                    "example": _json_number(round(float(observed.median()), 0 if is_integer else 6)),
                }
            )
        else:
            counts = series.value_counts()
            schema.append(
                {
                    "name": column,
                    "type": "categorical",
                    "categories": sorted(counts.index.tolist()),
                    "nullable": MISSING_CATEGORY in counts.index,
                    "example": str(counts.index[0]),
                }
            )
    return schema


def example_row(features: pd.DataFrame, target: pd.Series) -> dict[str, Any]:
    """A real applicant from the data (the first one of the positive class) for self-tests."""
    row = features.loc[target[target == 1].index[0]]
    return {k: (_json_number(v) if isinstance(v, float) else v) for k, v in row.items()}


def reference_distributions(features: pd.DataFrame, numeric: list[str], bins: int) -> dict[str, dict[str, Any]]:
    """Binned (numeric, quantile edges) or per-category shares, the baseline for drift (PSI)."""
    reference: dict[str, dict[str, Any]] = {}
    for column in features.columns:
        series = features[column].dropna()
        if column in numeric:
            reference[column] = histogram_reference(series.to_numpy(dtype=float), bins)
        else:
            shares = series.value_counts(normalize=True).sort_index()
            reference[column] = {"kind": "categorical", "shares": {str(k): float(v) for k, v in shares.items()}}
    return reference


def histogram_reference(values: np.ndarray, bins: int) -> dict[str, Any]:
    """Quantile bin edges (inner edges only; outer bins are open) and the share in each bin."""
    inner = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1]))
    counts = np.bincount(np.searchsorted(inner, values, side="right"), minlength=len(inner) + 1)
    return {
        "kind": "numeric",
        "edges": [float(e) for e in inner],
        "shares": [float(c) / max(len(values), 1) for c in counts],
    }
