"""Candidate estimators: scikit-learn Pipelines and a native-categorical CatBoost."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import numpy as np
import pandas as pd
from catboost import CatBoostClassifier
from sklearn.base import BaseEstimator, clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

from training.config import CandidateConfig
from training.errors import TrainingInputError

SKLEARN_MODELS = {
    "decision_tree": DecisionTreeClassifier,
    "logistic_regression": LogisticRegression,
    "random_forest": RandomForestClassifier,
}
NEEDS_SCALING = {"logistic_regression"}


def preprocessor(numeric: list[str], categorical: list[str], scale: bool) -> ColumnTransformer:
    """One-hot for categoricals; median-impute (and scale, for linear models) numerics."""
    numeric_steps: list[tuple[str, Any]] = [("impute", SimpleImputer(strategy="median"))]
    if scale:
        numeric_steps.append(("scale", StandardScaler()))
    return ColumnTransformer(
        [
            ("numeric", Pipeline(numeric_steps), numeric),
            ("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
        ],
        verbose_feature_names_out=False,
    )


def build_candidate(candidate: CandidateConfig, numeric: list[str], categorical: list[str], seed: int) -> BaseEstimator:
    """A fresh, unfitted estimator for one candidate of the config."""
    params = dict(candidate.params)
    try:
        if candidate.type == "catboost":
            params.setdefault("random_seed", seed)
            params.setdefault("verbose", False)
            params.setdefault("allow_writing_files", False)
            return CatBoostClassifier(cat_features=categorical, **params)
        estimator_class = SKLEARN_MODELS[candidate.type]
        if "random_state" in estimator_class().get_params():
            params.setdefault("random_state", seed)
        estimator = estimator_class(**params)
    except (TypeError, ValueError) as exc:
        raise TrainingInputError(f"candidate '{candidate.name}': bad hyperparameters: {exc}") from None
    return Pipeline(
        [
            ("preprocess", preprocessor(numeric, categorical, candidate.type in NEEDS_SCALING)),
            ("model", estimator),
        ]
    )


def check_params(estimator: BaseEstimator, name: str) -> None:
    """Fail early (exit 2) when scikit-learn rejects a hyperparameter value."""
    model = estimator.named_steps["model"] if isinstance(estimator, Pipeline) else None
    if model is None:
        return
    try:
        model._validate_params()
    except (TypeError, ValueError) as exc:
        raise TrainingInputError(f"candidate '{name}': bad hyperparameters: {exc}") from None


def fresh_copy(estimator: BaseEstimator) -> BaseEstimator:
    """An unfitted copy (sklearn's clone() rejects CatBoost's cat_features handling)."""
    if isinstance(estimator, CatBoostClassifier):
        return CatBoostClassifier(**estimator.get_params())
    return clone(estimator)


def serving_requirements(flavor: str) -> list[str]:
    """Pinned pip requirements for the logged model (given explicitly: inferring them is slow)."""
    packages = ["mlflow", "numpy", "pandas", "scikit-learn", "scipy"]
    packages += ["catboost"] if flavor == "catboost" else ["skops"]
    return [f"{name}=={version(name)}" for name in packages]


def predict_positive(estimator: BaseEstimator, features: pd.DataFrame) -> np.ndarray:
    """Probability of class 1."""
    return np.asarray(estimator.predict_proba(features))[:, 1]


def estimator_params(estimator: BaseEstimator) -> dict[str, Any]:
    """The model's own hyperparameters, for logging."""
    if isinstance(estimator, CatBoostClassifier):
        params = estimator.get_params()
        params.pop("cat_features", None)
        return params
    return estimator.named_steps["model"].get_params()
