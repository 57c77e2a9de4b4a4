"""scikit-learn wrapper: the pipeline's own probabilities; linear and replacement explanations."""

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from app.core.bundle import BundleError, read_bundle
from app.core.predictors import build_predictor
from app.core.predictors.sklearn import SklearnPredictor

pytestmark = pytest.mark.slow


def predictor_of(bundle: Path) -> SklearnPredictor:
    built = build_predictor(read_bundle(bundle))
    assert isinstance(built, SklearnPredictor)
    return built


@pytest.mark.parametrize("bundle_name, method", [("logreg_bundle", "linear"), ("forest_bundle", "replacement")])
def test_probabilities_equal_the_pipelines_predict_proba(
    bundle_name: str,
    method: str,
    request: pytest.FixtureRequest,
    training_rows: pd.DataFrame,
    applicant_rows: list[tuple],
) -> None:
    predictor = predictor_of(request.getfixturevalue(bundle_name))
    assert predictor.explanation_method == method
    expected = predictor.pipeline.predict_proba(training_rows)[:, 1]
    # equal up to summation order: a random forest adds its trees' votes in thread completion order
    np.testing.assert_allclose(predictor.probabilities(applicant_rows), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(predictor.probabilities(applicant_rows[5:6]), expected[5:6], rtol=0, atol=1e-12)


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def test_linear_contributions_add_up_to_the_log_odds_gap(logreg_bundle: Path, applicant_rows: list) -> None:
    predictor = predictor_of(logreg_bundle)
    applicant = applicant_rows[7]
    contributions = predictor.contributions(applicant)
    assert set(contributions) == set(predictor.columns)
    p_applicant, p_typical = predictor.probabilities([applicant, predictor.typical])
    assert math.isclose(sum(contributions.values()), logit(p_applicant) - logit(p_typical), abs_tol=1e-9)
    same = [name for name, i in predictor.position.items() if applicant[i] == predictor.typical[i]]
    assert same and all(contributions[name] == 0 for name in same)


def test_replacement_contributions_are_probability_changes(forest_bundle: Path, applicant_rows: list) -> None:
    predictor = predictor_of(forest_bundle)
    applicant = applicant_rows[11]
    contributions = predictor.contributions(applicant)
    (p_applicant,) = predictor.probabilities([applicant])
    for name in ("credit_amount", "purpose"):
        (p_typical_value,) = predictor.probabilities([predictor.with_typical(applicant, name)])
        assert contributions[name] == pytest.approx(p_applicant - p_typical_value, abs=1e-12)


def test_nulls_reach_the_pipeline_as_nan_and_the_missing_marker(
    logreg_bundle: Path, applicants: list, as_row: Any
) -> None:
    predictor = predictor_of(logreg_bundle)
    frame = predictor.frame([as_row({**applicants[0], "purpose": None, "age_in_years": None})])
    assert frame.loc[0, "purpose"] == "__missing__" and np.isnan(frame.loc[0, "age_in_years"])
    assert frame["purpose"].dtype == object and frame["age_in_years"].dtype == "float64"
    assert 0 <= predictor.probabilities([as_row({**applicants[0], "age_in_years": None})])[0] <= 1


def test_a_pipeline_not_matching_the_schema_is_refused(logreg_bundle: Path) -> None:
    bundle = read_bundle(logreg_bundle)
    pipeline = predictor_of(logreg_bundle).pipeline
    fewer = bundle.metadata.model_copy(update={"feature_order": bundle.metadata.feature_order[:-1]})
    with pytest.raises(BundleError, match="input columns"):
        SklearnPredictor(pipeline, fewer)
