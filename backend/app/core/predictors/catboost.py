"""CatBoost: column blocks in FeaturesData (no pandas), one thread per row, its own SHAP values."""

from __future__ import annotations

import numpy as np
from catboost import CatBoostClassifier, FeaturesData, Pool

from app.core.applicant import MISSING_CATEGORY, Row
from app.core.bundle import BundleError, BundleMetadata, CategoricalFeature
from app.core.predictors import check_binary_classes

PARALLEL_FROM_ROWS = 256
ALL_CPUS = -1


class CatBoostPredictor:
    """Builds CatBoost's input directly: a float32 block for the numbers and an object block for the
    categories (FeaturesData, matched to the model by feature name), both cut from one object array
    of the rows: a pandas DataFrame per request would cost more than predicting one row, and a list of rows
    is slower to turn into a Pool (docs/benchmarks.md)."""

    explanation_method = "shap"

    def __init__(self, model: CatBoostClassifier, metadata: BundleMetadata) -> None:
        features = metadata.ordered_features()
        if list(model.feature_names_ or []) != metadata.feature_order:
            raise BundleError("the CatBoost model's features differ from the bundle's feature_order")
        cat_indices = [i for i, f in enumerate(features) if isinstance(f, CategoricalFeature)]
        if sorted(model.get_cat_feature_indices()) != cat_indices:
            raise BundleError("the CatBoost model's categorical features differ from the bundle's schema")
        check_binary_classes(getattr(model, "classes_", None))
        self.model = model
        self.names = [f.name for f in features]
        self.cat_columns = cat_indices
        self.num_columns = [i for i in range(len(features)) if i not in cat_indices]
        self.cat_names = [self.names[i] for i in self.cat_columns]
        self.num_names = [self.names[i] for i in self.num_columns]
        self.cat_nullable = any(f.nullable for f in features if isinstance(f, CategoricalFeature))

    def features_data(self, applicants: list[Row]) -> FeaturesData:
        """Numbers as float32 (null -> NaN; CatBoost computes in float32 anyway), categories as
        strings (null -> the missing-category marker)."""
        rows = np.array(applicants, dtype=object)
        numbers = rows[:, self.num_columns].astype(np.float32) if self.num_columns else None
        categories = rows[:, self.cat_columns] if self.cat_columns else None
        if self.cat_nullable and categories is not None:
            categories[np.equal(categories, None)] = MISSING_CATEGORY
        return FeaturesData(
            num_feature_data=numbers,
            cat_feature_data=categories,
            num_feature_names=self.num_names or None,
            cat_feature_names=self.cat_names or None,
        )

    def pool(self, applicants: list[Row]) -> Pool:
        return Pool(self.features_data(applicants), thread_count=1)

    def probabilities(self, applicants: list[Row]) -> np.ndarray:
        """One thread for small requests (as fast, and no thread wake-ups); every CPU for big batches."""
        threads = 1 if len(applicants) < PARALLEL_FROM_ROWS else ALL_CPUS
        return self.model.predict_proba(self.pool(applicants), thread_count=threads)[:, 1]

    def contributions(self, applicant: Row) -> dict[str, float]:
        """CatBoost's SHAP values (log-odds), in the model's column order; the last one is the expected value."""
        shap = self.model.get_feature_importance(self.pool([applicant]), type="ShapValues", thread_count=1)[0]
        return {name: float(value) for name, value in zip(self.names, shap[:-1])}
