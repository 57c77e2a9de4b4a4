"""CatBoost: column blocks in FeaturesData (no pandas), one thread per row, exact SHAP from precomputed tables."""

from __future__ import annotations

import logging

import numpy as np
from catboost import CatBoostClassifier, FeaturesData, Pool

from app.core.applicant import MISSING_CATEGORY, Row
from app.core.bundle import BundleError, BundleMetadata, CategoricalFeature
from app.core.explain.oblivious_trees import UnsupportedForest, read_forest
from app.core.explain.tree_shap import ShapTables, shap_tables
from app.core.predictors import check_binary_classes

logger = logging.getLogger(__name__)

PARALLEL_FROM_ROWS = 256
ALL_CPUS = -1
SELF_CHECK_TOLERANCE = 1e-6


class CatBoostPredictor:
    """Builds CatBoost's input directly: a float32 block for the numbers and an object block for the
    categories (FeaturesData, matched to the model by feature name), both cut from one object array
    of the rows: a pandas DataFrame per request would cost more than predicting one row, and a list of rows
    is slower to turn into a Pool (docs/benchmarks.md).

    Explanations are CatBoost's own SHAP values, from per-leaf tables built once at load (app.core.explain)
    and the leaf each row reaches in each tree; the tables are checked against CatBoost's `ShapValues` on
    the bundle's example row. A model the tables cannot represent (non-symmetric trees) or that fails the
    check is explained by CatBoost's `ShapValues` on every call, exact but slower (logged as a warning)."""

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
        self.shap = self._checked_tables(tuple(metadata.example.get(name) for name in self.names))
        self.explains_fast = self.shap is not None

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
        return self.model.predict_proba(self.pool(applicants), thread_count=_threads(applicants))[:, 1]

    def explain(self, applicants: list[Row]) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities and SHAP values (log-odds; with the expected value they add up to the raw score)."""
        pool, threads = self.pool(applicants), _threads(applicants)
        return self.model.predict_proba(pool, thread_count=threads)[:, 1], self._contributions(pool, threads)

    def _contributions(self, pool: Pool, threads: int, tables: ShapTables | None = None) -> np.ndarray:
        tables = tables or self.shap
        if tables is None:
            return self.catboost_shap(pool, threads)[:, :-1]
        return tables.contributions(self.model.calc_leaf_indexes(pool, thread_count=threads))

    def catboost_shap(self, pool: Pool, threads: int = 1) -> np.ndarray:
        """CatBoost's own SHAP values: one column per feature, then the expected value."""
        return self.model.get_feature_importance(pool, type="ShapValues", thread_count=threads)

    def _checked_tables(self, example: Row) -> ShapTables | None:
        """The SHAP tables of the model, if it has symmetric trees and they reproduce CatBoost's own SHAP
        values (and expected value) on `example`; else None, and a warning."""
        try:
            tables = shap_tables(read_forest(self.model, len(self.names)))
        except UnsupportedForest as exc:
            logger.warning("explanations use CatBoost's ShapValues on every call (slower): %s", exc)
            return None
        pool = self.pool([example])
        reference = self.catboost_shap(pool)[0]
        ours = self._contributions(pool, 1, tables)[0]
        gap = max(float(np.max(np.abs(ours - reference[:-1]))), abs(tables.expected_value - float(reference[-1])))
        if gap > SELF_CHECK_TOLERANCE:
            logger.warning(
                "explanations use CatBoost's ShapValues on every call (slower): the SHAP tables "
                "differ from CatBoost's by %.3g on the example row",
                gap,
            )
            return None
        return tables


def _threads(applicants: list[Row]) -> int:
    return 1 if len(applicants) < PARALLEL_FROM_ROWS else ALL_CPUS
