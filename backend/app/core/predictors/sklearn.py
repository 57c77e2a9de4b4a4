"""scikit-learn Pipelines: a small DataFrame with the training dtypes, and a matching explainer.

Explanations are measured against a typical applicant: the bundle schema's per-feature example
(the training median for numbers, the most frequent category). A linear model (logistic
regression) gets coef x (transformed value - transformed typical value), summed over the
one-hot columns of each feature, in log-odds. Other models (decision tree, random forest) get
the change in P(default) when the feature is set to its typical value. Both are computed for all
rows of a request at once: one transform (linear), or one prediction over every row and its
variants with one feature set to the typical value (replacement).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from app.core.applicant import MISSING_CATEGORY, Row
from app.core.bundle import BundleError, BundleMetadata, CategoricalFeature
from app.core.predictors import check_binary_classes


class SklearnPredictor:
    def __init__(self, pipeline: Any, metadata: BundleMetadata) -> None:
        if not isinstance(pipeline, Pipeline) or not hasattr(pipeline, "predict_proba"):
            raise BundleError("the sklearn model is not a Pipeline with predict_proba")
        fitted_columns = [str(c) for c in getattr(pipeline, "feature_names_in_", [])]
        if sorted(fitted_columns) != sorted(metadata.feature_order):
            raise BundleError("the sklearn model's input columns differ from the bundle's features")
        check_binary_classes(getattr(pipeline, "classes_", None))
        self.pipeline = pipeline
        self.columns = fitted_columns
        categorical = {f.name for f in metadata.features if isinstance(f, CategoricalFeature)}
        self.dtypes = {name: object if name in categorical else "float64" for name in fitted_columns}
        self.position = {name: metadata.feature_order.index(name) for name in fitted_columns}
        self.typical: Row = tuple(f.example for f in metadata.ordered_features())
        self.group_of_column = _feature_of_each_output(pipeline, self.columns)
        self.explanation_method = "linear" if self.group_of_column is not None else "replacement"
        self.explains_fast = self.group_of_column is not None
        self.owner = None if self.group_of_column is None else _owner_matrix(self.group_of_column, self.position)

    def frame(self, applicants: list[Row]) -> pd.DataFrame:
        """Categoricals as object strings (null -> the missing marker), numbers as float64 (null -> NaN)."""
        data = {}
        for name, dtype in self.dtypes.items():
            position = self.position[name]
            values = [a[position] for a in applicants]
            if dtype is object:
                values = [MISSING_CATEGORY if v is None else v for v in values]
            data[name] = pd.Series(values, dtype=dtype)
        return pd.DataFrame(data)

    def probabilities(self, applicants: list[Row]) -> np.ndarray:
        return self.pipeline.predict_proba(self.frame(applicants))[:, 1]

    def explain(self, applicants: list[Row]) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities and contributions (rows x features in the bundle's order)."""
        if self.owner is not None:
            return self.probabilities(applicants), self._linear(applicants, self.owner)
        return self.probabilities(applicants), self._replacement(applicants)

    def _linear(self, applicants: list[Row], owner: np.ndarray) -> np.ndarray:
        transformed = np.asarray(self.pipeline[:-1].transform(self.frame([*applicants, self.typical])), dtype=float)
        terms = self.pipeline[-1].coef_[0] * (transformed[:-1] - transformed[-1])
        return terms @ owner

    def _replacement(self, applicants: list[Row]) -> np.ndarray:
        positions = sorted(self.position.values())
        variants = [
            variant
            for applicant in applicants
            for variant in (applicant, *(self.with_position_typical(applicant, p) for p in positions))
        ]
        scores = self.probabilities(variants).reshape(len(applicants), len(positions) + 1)
        return scores[:, :1] - scores[:, 1:]

    def with_typical(self, applicant: Row, name: str) -> Row:
        """The applicant with one feature set to its typical value."""
        return self.with_position_typical(applicant, self.position[name])

    def with_position_typical(self, applicant: Row, position: int) -> Row:
        return (*applicant[:position], self.typical[position], *applicant[position + 1 :])


def _owner_matrix(group_of_column: list[str], position: dict[str, int]) -> np.ndarray:
    """(model output columns x features in the bundle's order): 1 where the column belongs to the feature."""
    owner = np.zeros((len(group_of_column), len(position)))
    owner[np.arange(len(group_of_column)), [position[feature] for feature in group_of_column]] = 1.0
    return owner


def _feature_of_each_output(pipeline: Pipeline, columns: list[str]) -> list[str] | None:
    """For a linear final step after a ColumnTransformer: the input feature of every output column."""
    model, pre = pipeline[-1], pipeline[0]
    coef = getattr(model, "coef_", None)
    if coef is None or np.ndim(coef) != 2 or coef.shape[0] != 1 or len(pipeline) != 2:
        return None
    if not isinstance(pre, ColumnTransformer):
        return None
    owner: list[str | None] = [None] * coef.shape[1]
    for name, transformer, selected in pre.transformers_:
        if transformer == "drop" or name == "remainder":
            continue
        outputs = range(coef.shape[1])[pre.output_indices_[name]]
        names = [columns[c] if isinstance(c, (int, np.integer)) else str(c) for c in selected]
        encoder = transformer[-1] if isinstance(transformer, Pipeline) else transformer
        if isinstance(encoder, OneHotEncoder):
            widths = [len(categories) for categories in encoder.categories_]
            if encoder.drop_idx_ is not None or sum(widths) != len(outputs):
                return None
            expanded = [feature for feature, width in zip(names, widths) for _ in range(width)]
        else:
            expanded = names
        if len(expanded) != len(outputs):
            return None
        for position, feature in zip(outputs, expanded):
            owner[position] = feature
    return None if any(o is None for o in owner) else owner  # type: ignore[return-value]
