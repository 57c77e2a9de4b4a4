"""Input rules of params.yaml: checked against the data's schema and carried in the bundle's feature schema."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from training.config import load_config
from training.input_rules import InputRule, annotate_schema, rule_problems

SCHEMA = [
    {"name": "age_in_years", "type": "numeric", "dtype": "integer", "lower_bound": 0, "upper_bound": 150},
    {"name": "housing", "type": "categorical", "categories": ["for free", "own", "rent"]},
]


def test_the_schema_carries_labels_rules_and_category_texts() -> None:
    cfg = load_config("training/params.yaml")
    age, housing = annotate_schema(SCHEMA, cfg.inputs, cfg.reasons)
    assert age["label"] == "Age" and age["input"] == {"min": 18.0, "max": 100.0, "unit": "years"}
    assert age["lower_bound"] == 0  # the schema's own bounds stay what the service accepts
    assert housing["category_labels"] == {
        "for free": "Lives rent-free",
        "own": "Owns the home",
        "rent": "Rents the home",
    }
    assert "input" not in housing


def test_rules_that_do_not_fit_the_data_are_named() -> None:
    rules = {"age": InputRule(min=18), "housing": InputRule(codes={1: "one"}), "age_in_years": InputRule(min=18)}
    assert rule_problems(rules, SCHEMA) == [
        "inputs: 'age' is not a feature of the data",
        "inputs: 'housing' is categorical: bounds and codes apply to numeric features only",
    ]


def test_a_min_above_the_max_is_refused() -> None:
    with pytest.raises(ValidationError, match="greater than max"):
        InputRule(min=5, max=1)
