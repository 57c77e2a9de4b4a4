"""CatBoost wrapper: the model's own probabilities and SHAP values, from row tuples."""

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from catboost import Pool

from app.core.bundle import BundleError, read_bundle
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


def test_contributions_are_catboost_shap_values_that_add_up(
    predictor: CatBoostPredictor, training_rows: pd.DataFrame, applicant_rows: list[tuple]
) -> None:
    contributions = predictor.contributions(applicant_rows[3])
    pool = Pool(training_rows.iloc[[3]], cat_features=predictor.model.get_cat_feature_indices())
    shap = predictor.model.get_feature_importance(pool, type="ShapValues")[0]
    assert list(contributions) == list(training_rows.columns)
    np.testing.assert_allclose(list(contributions.values()), shap[:-1], rtol=1e-9, atol=1e-12)
    raw = predictor.model.predict(pool, prediction_type="RawFormulaVal")[0]
    assert math.isclose(sum(contributions.values()) + shap[-1], raw, abs_tol=1e-6)


def test_a_model_not_matching_the_schema_is_refused(catboost_bundle: Path) -> None:
    bundle = read_bundle(catboost_bundle)
    model = build_predictor(bundle).model
    renamed = bundle.metadata.model_copy(update={"feature_order": list(reversed(bundle.metadata.feature_order))})
    with pytest.raises(BundleError, match="feature_order"):
        CatBoostPredictor(model, renamed)
