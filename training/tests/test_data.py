"""Data tests: the dataset's expectations, schema inference and input validation."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from training.config import DataConfig, SplitConfig
from training.data import (
    file_sha256,
    histogram_reference,
    infer_schema,
    load_dataset,
    reference_distributions,
    split,
)
from training.errors import TrainingInputError

ROOT = Path(__file__).resolve().parents[2]
GERMAN = ROOT / "data" / "german_credit.csv"
GERMAN_SHA256 = "2c0bae00275c028fc853a1ea72cc7a68002c3f6876c41300c5c948711540c8c6"


def german(**changes) -> DataConfig:
    return DataConfig(**{"path": GERMAN, "target": "creditability", "positive_label": "bad", **changes})


def test_dataset_is_the_cited_file() -> None:
    assert file_sha256(GERMAN) == GERMAN_SHA256


def test_dataset_expectations() -> None:
    frame = pd.read_csv(GERMAN)
    assert frame.shape == (1000, 21)
    assert not frame.isna().any().any()
    assert frame["creditability"].value_counts().to_dict() == {"good": 700, "bad": 300}
    assert frame["age_in_years"].between(18, 100).all()
    assert (frame["credit_amount"] > 0).all()


def test_schema_comes_from_the_data() -> None:
    dataset = load_dataset(german())
    schema = {entry["name"]: entry for entry in infer_schema(dataset)}
    assert len(dataset.numeric) == 7 and len(dataset.categorical) == 13
    assert dataset.target.mean() == pytest.approx(0.3)
    age = schema["age_in_years"]
    assert (age["type"], age["dtype"], age["min"], age["max"]) == ("numeric", "integer", 19, 75)
    assert age["lower_bound"] <= age["min"] and age["upper_bound"] >= age["max"]
    housing = schema["housing"]
    assert housing["type"] == "categorical"
    assert housing["categories"] == ["for free", "own", "rent"]
    assert housing["example"] in housing["categories"]


def test_drop_features_removes_protected_attributes() -> None:
    dataset = load_dataset(german(drop_features=["personal_status_and_sex", "age_in_years"]))
    assert "age_in_years" not in dataset.features.columns
    assert "personal_status_and_sex" not in dataset.features.columns
    assert dataset.features.shape[1] == 18


def test_split_is_stratified_and_reproducible() -> None:
    dataset = load_dataset(german())
    x_train, x_test, y_train, y_test = split(dataset, SplitConfig(test_size=0.2, seed=7))
    assert len(x_test) == 200 and y_test.mean() == pytest.approx(0.3)
    again = split(dataset, SplitConfig(test_size=0.2, seed=7))
    assert list(again[1].index) == list(x_test.index)


def test_reference_distributions_are_proper_distributions() -> None:
    dataset = load_dataset(german())
    reference = reference_distributions(dataset.features, dataset.numeric, bins=10)
    assert set(reference) == set(dataset.features.columns)
    for entry in reference.values():
        shares = entry["shares"].values() if entry["kind"] == "categorical" else entry["shares"]
        assert sum(shares) == pytest.approx(1.0)
    numeric = reference["credit_amount"]
    assert len(numeric["shares"]) == len(numeric["edges"]) + 1


def test_histogram_reference_counts_values_into_open_outer_bins() -> None:
    values = np.arange(100, dtype=float)
    reference = histogram_reference(values, bins=4)
    assert reference["edges"] == [24.75, 49.5, 74.25]
    assert reference["shares"] == [0.25, 0.25, 0.25, 0.25]


@pytest.mark.parametrize(
    ("changes", "csv", "message"),
    [
        ({"path": Path("nowhere.csv")}, None, "data file not found"),
        ({"target": "missing_column"}, None, "target column 'missing_column' not in"),
        ({"positive_label": "terrible"}, None, "positive_label 'terrible' is not a value"),
        ({"drop_features": ["no_such_feature"]}, None, "unknown feature.*no_such_feature"),
        ({}, "a,creditability\n1,good\n2,bad\n3,ugly\n", "exactly two values"),
        ({}, "a,creditability\n" + "1,good\n" * 20 + "2,bad\n" * 3, "at least 10 rows"),
        ({}, "a,creditability\n1,good\n2,\n", "missing values"),
        ({}, "", "not a readable CSV"),
    ],
)
def test_bad_data_names_the_problem(tmp_path: Path, changes: dict, csv: str | None, message: str) -> None:
    if csv is not None:
        path = tmp_path / "bad.csv"
        path.write_text(csv)
        changes = {**changes, "path": path}
    with pytest.raises(TrainingInputError, match=message):
        load_dataset(german(**changes))
