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


def linear_reference(predictor: SklearnPredictor, applicant: tuple) -> np.ndarray:
    """The linear terms of one applicant, computed on its own (one transform of it and the typical applicant)."""
    transformed = np.asarray(predictor.pipeline[:-1].transform(predictor.frame([applicant, predictor.typical])))
    terms = predictor.pipeline[-1].coef_[0] * (transformed[0] - transformed[1])
    out = np.zeros(len(predictor.columns))
    for column, feature in enumerate(predictor.group_of_column):
        out[predictor.position[feature]] += terms[column]
    return out


def replacement_reference(predictor: SklearnPredictor, applicant: tuple) -> np.ndarray:
    """The change in probability of one applicant when each feature alone is set to its typical value."""
    (own,) = predictor.probabilities([applicant])
    return np.array(
        [own - predictor.probabilities([predictor.with_typical(applicant, n)])[0] for n in predictor.columns]
    )


def test_linear_contributions_equal_the_per_row_terms_on_every_holdout_row(
    logreg_bundle: Path, holdout_rows: list
) -> None:
    predictor = predictor_of(logreg_bundle)
    probabilities, contributions = predictor.explain(holdout_rows)
    assert predictor.explains_fast and contributions.shape == (len(holdout_rows), len(predictor.columns))
    expected = np.array([linear_reference(predictor, applicant) for applicant in holdout_rows])
    np.testing.assert_allclose(contributions, expected, rtol=0, atol=1e-9)
    p_typical = predictor.probabilities([predictor.typical])[0]
    gaps = [logit(p) - logit(p_typical) for p in probabilities]
    np.testing.assert_allclose(contributions.sum(axis=1), gaps, rtol=0, atol=1e-9)  # they add up to the log-odds gap
    applicant = holdout_rows[7]
    same = [i for i, name in enumerate(predictor.columns) if applicant[i] == predictor.typical[i]]
    assert same and all(contributions[7, i] == 0 for i in same)


def test_replacement_contributions_equal_the_per_row_changes_on_every_holdout_row(
    forest_bundle: Path, holdout_rows: list
) -> None:
    predictor = predictor_of(forest_bundle)
    probabilities, contributions = predictor.explain(holdout_rows)
    assert not predictor.explains_fast
    expected = np.array([replacement_reference(predictor, applicant) for applicant in holdout_rows])
    # equal up to summation order: a random forest adds its trees' votes in thread completion order
    np.testing.assert_allclose(contributions, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(probabilities, predictor.probabilities(holdout_rows), rtol=0, atol=1e-12)


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
