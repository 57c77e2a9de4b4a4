"""Behavioral tests on a real fitted model whose behavior is known: risk rises with `debt`, `region` matters,
`shoe_size` is noise that the model is not given."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import TypeAdapter, ValidationError

from training.behavioral import run_tests, typical_applicant, validate_tests
from training.config import CandidateConfig, DataConfig
from training.data import Dataset, load_dataset
from training.errors import TrainingInputError
from training.governance_config import BehavioralTests
from training.models import build_candidate

TESTS = TypeAdapter(BehavioralTests)


@pytest.fixture(scope="module")
def known(tmp_path_factory: pytest.TempPathFactory) -> tuple[Dataset, object]:
    rng = np.random.default_rng(0)
    n = 600
    debt = rng.uniform(0, 100, n)
    region = rng.choice(["north", "south"], n)
    risk = 1 / (1 + np.exp(-(debt - 50) / 10 - (region == "south") * 1.5))
    frame = pd.DataFrame(
        {
            "debt": debt.round(1),
            "region": region,
            "shoe_size": rng.integers(36, 47, n),
            "default": np.where(rng.random(n) < risk, "yes", "no"),
        }
    )
    path = tmp_path_factory.mktemp("behavior") / "known.csv"
    frame.to_csv(path, index=False)
    dataset = load_dataset(DataConfig(path=path, target="default", positive_label="yes", drop_features=["shoe_size"]))
    model = build_candidate(
        CandidateConfig(name="lr", type="logistic_regression"), dataset.numeric, dataset.categorical, 0
    ).fit(dataset.features, dataset.target)
    return dataset, model


def run(known: tuple[Dataset, object], *tests: dict) -> dict[str, object]:
    dataset, model = known
    declared = TESTS.validate_python(list(tests))
    validate_tests(declared, dataset, ["shoe_size"])
    typical = typical_applicant(dataset.features, dataset.numeric)
    results = run_tests(declared, model, dataset.features.head(200), typical, 0.5, ["shoe_size"])
    return {r.name: r for r in results}


def test_directional_expectations_hold_one_way_and_fail_the_other(known) -> None:
    results = run(
        known,
        {"name": "up", "type": "directional", "feature": "debt", "add": 10, "min_share": 1.0},
        {"name": "down", "type": "directional", "feature": "debt", "add": 10, "direction": "not_higher"},
        {"name": "times", "type": "directional", "feature": "debt", "multiply": 0.5, "min_share": 0.95},
    )
    assert results["up"].passed and results["up"].figures["share"] == 1.0
    assert results["up"].figures["largest_drop"] >= 0 and results["up"].figures["mean_change"] > 0.05
    assert not results["down"].passed and results["down"].figures["share"] < 0.2
    assert not results["times"].passed, "halving the debt lowers the risk of almost everybody"
    assert "debt +10: P(default) did not drop by more than 0.01 for 100.0% of 200 applicants" in results["up"].summary


def test_invariance_measures_the_change_and_the_decisions_it_flips(known) -> None:
    results = run(
        known,
        {"name": "region", "type": "invariance", "feature": "region", "max_delta": 0.05, "enforce": False},
        {"name": "shoe", "type": "invariance", "feature": "shoe_size", "values": [36, 46]},
    )
    region = results["region"]
    assert not region.passed and not region.enforced
    assert region.figures["values"] == ["north", "south"]
    assert 0.15 < region.figures["largest_change"] < 0.5 and region.figures["decisions_changed"] > 10
    assert region.figures["share_within"] < 0.5
    assert results["shoe"].passed and "holds by construction" in results["shoe"].summary


def test_textbook_applicants_get_the_expected_decision(known) -> None:
    results = run(
        known,
        {"name": "safe", "type": "minimum_functionality", "applicant": {"debt": 5}, "expect": "approved"},
        {"name": "risky", "type": "minimum_functionality", "applicant": {"debt": 95}, "expect": "flagged"},
        {"name": "wrong", "type": "minimum_functionality", "applicant": {"debt": 95}, "expect": "approved"},
    )
    assert results["safe"].passed and results["safe"].figures["probability"] < 0.2
    assert results["risky"].passed and results["risky"].figures["decision"] == "flagged"
    assert not results["wrong"].passed and "(expected approved)" in results["wrong"].summary


@pytest.mark.parametrize(
    ("test", "message"),
    [
        ({"type": "directional", "feature": "salary", "add": 1}, "behavioral_tests.t: unknown feature 'salary'"),
        ({"type": "directional", "feature": "region", "add": 1}, "directional tests need a numeric feature"),
        ({"type": "invariance", "feature": "region", "values": ["west"]}, "'west' is not a category of 'region'"),
        ({"type": "invariance", "feature": "debt"}, "numeric feature 'debt' needs `values`"),
        ({"type": "invariance", "feature": "debt", "values": ["a lot"]}, "'debt' is numeric, 'a lot' is not a number"),
        ({"type": "minimum_functionality", "applicant": {"age": 3}, "expect": "flagged"}, "unknown feature 'age'"),
    ],
)
def test_declarations_that_do_not_fit_the_data_name_the_problem(known, test: dict, message: str) -> None:
    with pytest.raises(TrainingInputError, match=message):
        validate_tests(TESTS.validate_python([{"name": "t", **test}]), known[0], ["shoe_size"])


@pytest.mark.parametrize(
    ("tests", "message"),
    [
        ([{"name": "t", "type": "monotonic", "feature": "debt"}], "does not match any of the expected tags"),
        ([{"name": "t", "type": "directional", "feature": "debt"}], "exactly one of `add` or `multiply`"),
        ([{"name": "a b", "type": "invariance", "feature": "debt"}], "should match pattern"),
        ([{"name": "t", "type": "invariance", "feature": "x"}] * 2, "names must be unique"),
    ],
)
def test_unknown_or_malformed_expectations_are_config_errors(tests: list, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TESTS.validate_python(tests)


def test_typical_applicant_is_medians_and_modes(known) -> None:
    dataset, _ = known
    typical = typical_applicant(dataset.features, dataset.numeric)
    assert typical["debt"] == pytest.approx(dataset.features["debt"].median())
    assert typical["region"] == dataset.features["region"].mode().iloc[0]
