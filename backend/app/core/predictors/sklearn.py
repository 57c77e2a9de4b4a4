"""scikit-learn Pipelines: a small DataFrame with the training dtypes, and a matching explainer.

Explanations are measured against a typical applicant: the bundle schema's per-feature example
(the training median for numbers, the most frequent category). A linear model (logistic
regression) gets coef x (transformed value - transformed typical value), summed over the
one-hot columns of each feature, in log-odds. Other models (decision tree, random forest) get
the change in P(default) when the feature is set to its typical value.
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

    def contributions(self, applicant: Row) -> dict[str, float]:
        if self.group_of_column is not None:
            return self._linear(applicant)
        return self._replacement(applicant)

    def _linear(self, applicant: Row) -> dict[str, float]:
        transformed = np.asarray(self.pipeline[:-1].transform(self.frame([applicant, self.typical])), dtype=float)
        terms = self.pipeline[-1].coef_[0] * (transformed[0] - transformed[1])
        out = dict.fromkeys(self.columns, 0.0)
        for column, feature in enumerate(self.group_of_column):
            out[feature] += float(terms[column])
        return out

    def _replacement(self, applicant: Row) -> dict[str, float]:
        variants = [applicant] + [self.with_typical(applicant, name) for name in self.columns]
        probabilities = self.probabilities(variants).tolist()
        return {name: probabilities[0] - probabilities[i + 1] for i, name in enumerate(self.columns)}

    def with_typical(self, applicant: Row, name: str) -> Row:
        """The applicant with one feature set to its typical value."""
        position = self.position[name]
        return (*applicant[:position], self.typical[position], *applicant[position + 1 :])


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
