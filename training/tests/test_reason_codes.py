"""The reason table: checked against the data's schema (every feature, only known ones), stored per feature."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from training.config import DataConfig
from training.data import infer_schema, load_dataset
from training.reason_codes import FeatureReasonConfig, ReasonTableConfig, reasons_metadata, table_problems

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def schema() -> list[dict]:
    config = DataConfig(path=ROOT / "data" / "german_credit.csv", target="creditability", positive_label="bad")
    return infer_schema(load_dataset(config))


@pytest.fixture
def table() -> dict:
    """The reason table of training/params.yaml, as YAML gives it."""
    return yaml.safe_load((ROOT / "training" / "params.yaml").read_text())["reasons"]


def problems(table: dict, schema: list[dict], dropped: list[str] | None = None) -> list[str]:
    return table_problems(ReasonTableConfig.model_validate(table), schema, dropped or [])


def test_the_repository_table_covers_the_german_credit_data(table: dict, schema: list[dict]) -> None:
    assert problems(table, schema) == []


@pytest.mark.parametrize(
    "edit, problem",
    [
        (lambda t: t["features"].pop("housing"), "reasons.features has no entry for feature(s): housing"),
        (
            lambda t: t["features"].update(income={"label": "Income", "high": "h", "low": "l"}),
            "unknown feature(s): income",
        ),
        (
            lambda t: t["features"]["housing"]["categories"].update(castle="Lives in a castle"),
            "reasons.features.housing.categories names unknown value(s): 'castle'",
        ),
        (
            lambda t: t["features"]["housing"]["categories"].pop("rent"),
            "reasons.features.housing: no text for categories 'rent' (add them or a `template`)",
        ),
        (
            lambda t: t["features"]["age_in_years"].pop("low"),
            "reasons.features.age_in_years: a numeric feature needs a `low`",
        ),
        (
            lambda t: t["features"]["age_in_years"].update(template="Age {value}"),
            "a numeric feature takes `high` and `low`, not `categories` or `template`",
        ),
        (
            lambda t: t["features"]["housing"].update(high="High"),
            "a categorical feature takes `categories` or `template`",
        ),
        (
            lambda t: t["features"]["age_in_years"].update(high="Aged {value:.1f}"),
            "reasons.features.age_in_years: 'Aged {value:.1f}' cannot be filled in",
        ),
    ],
)
def test_a_table_that_does_not_fit_the_data_names_the_problem(
    table: dict, schema: list[dict], edit, problem: str
) -> None:
    edit(table)
    assert any(problem in found for found in problems(table, schema)), problems(table, schema)


def test_a_dropped_feature_may_stay_in_the_table(table: dict, schema: list[dict]) -> None:
    served = [f for f in schema if f["name"] != "age_in_years"]
    assert problems(table, served, dropped=["age_in_years"]) == []
    assert "unknown feature(s): age_in_years" in problems(table, served)[0]


@pytest.mark.parametrize(
    "text, problem", [("Aged {years}", "unknown placeholder {years}"), ("Aged {value", "malformed text")]
)
def test_texts_may_only_use_value_and_label(text: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        FeatureReasonConfig(label="Age", high=text, low="Young")


def test_the_bundle_stores_every_category_text_and_the_typical_numbers(table: dict, schema: list[dict]) -> None:
    stored = reasons_metadata(ReasonTableConfig.model_validate(table), schema)
    assert stored["max_reasons"] == 4 and list(stored["features"]) == [f["name"] for f in schema]
    purpose = next(f for f in schema if f["name"] == "purpose")
    assert stored["features"]["purpose"] == {
        "type": "categorical",
        "label": "Loan purpose",
        "categories": {c: f"Loan purpose: {c}" for c in purpose["categories"]},  # the template, filled in
    }
    age = next(f for f in schema if f["name"] == "age_in_years")
    assert stored["features"]["age_in_years"] == {
        "type": "numeric",
        "label": "Age",
        "typical": age["example"],
        "high": "Older applicant ({value} years)",
        "low": "Younger applicant ({value} years)",
    }
