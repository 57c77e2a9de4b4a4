"""CatBoost wrapper: the model's own probabilities and SHAP values, from row tuples."""

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from catboost import Pool

from app.core.bundle import BundleError, read_bundle
from app.core.explain.tree_shap import ShapTables
from app.core.predictors import build_predictor
from app.core.predictors.catboost import PARALLEL_FROM_ROWS, CatBoostPredictor

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def predictor(catboost_bundle: Path) -> CatBoostPredictor:
    built = build_predictor(read_bundle(catboost_bundle))
    assert isinstance(built, CatBoostPredictor)
    return built


def test_probabilities_equal_the_models_predict_proba_on_a_dataframe(
    predictor: CatBoostPredictor, training_rows: pd.DataFrame, applicant_rows: list[tuple]
) -> None:
    expected = predictor.model.predict_proba(training_rows)[:, 1]
    assert predictor.probabilities(applicant_rows).tolist() == expected.tolist()
    assert len(applicant_rows) < PARALLEL_FROM_ROWS  # ...and the multi-threaded path for big batches:
    assert predictor.probabilities(applicant_rows * 2).tolist() == np.concatenate([expected, expected]).tolist()
    assert [predictor.probabilities([a])[0] for a in applicant_rows[:20]] == expected[:20].tolist()


def test_nulls_become_nan_and_the_missing_marker(predictor: CatBoostPredictor, applicants: list, as_row: Any) -> None:
    applicant = as_row({**applicants[0], "purpose": None, "age_in_years": None})
    predictor.cat_nullable = True
    try:
        data = predictor.features_data([applicant])
    finally:
        predictor.cat_nullable = False
    assert data.cat_feature_data[0][predictor.cat_names.index("purpose")] == "__missing__"
    assert math.isnan(data.num_feature_data[0][predictor.num_names.index("age_in_years")])
    assert 0 <= predictor.probabilities([as_row({**applicants[0], "age_in_years": None})])[0] <= 1


def test_contributions_equal_catboosts_shap_values_on_every_holdout_row(
    predictor: CatBoostPredictor, holdout: pd.DataFrame, holdout_rows: list[tuple]
) -> None:
    assert predictor.explains_fast and predictor.shap is not None  # the precomputed tables, not the fallback
    pool = Pool(holdout, cat_features=predictor.model.get_cat_feature_indices())
    reference = predictor.model.get_feature_importance(pool, type="ShapValues")
    probabilities, contributions = predictor.explain(holdout_rows)
    assert contributions.shape == (len(holdout), len(predictor.names))
    np.testing.assert_allclose(contributions, reference[:, :-1], rtol=0, atol=1e-6)
    assert predictor.shap.expected_value == pytest.approx(reference[0, -1], abs=1e-6)
    raw = predictor.model.predict(pool, prediction_type="RawFormulaVal")
    np.testing.assert_allclose(contributions.sum(axis=1) + predictor.shap.expected_value, raw, rtol=0, atol=1e-6)
    assert probabilities.tolist() == predictor.probabilities(holdout_rows).tolist()
    for index in range(0, len(holdout_rows), 25):  # one row on its own: the same values
        np.testing.assert_allclose(predictor.explain([holdout_rows[index]])[1][0], contributions[index], atol=1e-12)


def test_tables_that_disagree_with_catboost_are_not_used(
    catboost_bundle: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, applicant_rows: list
) -> None:
    from app.core.predictors import catboost as module

    real = module.shap_tables

    def skewed(forest: Any) -> ShapTables:
        tables = real(forest)
        return ShapTables(tables.table * 1.01, tables.offsets, tables.expected_value)

    monkeypatch.setattr(module, "shap_tables", skewed)
    with caplog.at_level(logging.WARNING):
        fallback = build_predictor(read_bundle(catboost_bundle))
    assert isinstance(fallback, CatBoostPredictor) and fallback.shap is None and not fallback.explains_fast
    assert "differ from CatBoost's" in caplog.text
    reference = fallback.catboost_shap(fallback.pool(applicant_rows[:3]))
    np.testing.assert_allclose(fallback.explain(applicant_rows[:3])[1], reference[:, :-1], rtol=0, atol=1e-12)


def test_a_model_not_matching_the_schema_is_refused(catboost_bundle: Path) -> None:
    bundle = read_bundle(catboost_bundle)
    model = build_predictor(bundle).model
    renamed = bundle.metadata.model_copy(update={"feature_order": list(reversed(bundle.metadata.feature_order))})
    with pytest.raises(BundleError, match="feature_order"):
        CatBoostPredictor(model, renamed)
