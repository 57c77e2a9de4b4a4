"""Protected-attribute groups from the config: mapped categories, numeric bins, and the errors that name the problem."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

from training.config import DataConfig
from training.errors import TrainingInputError
from training.governance_config import GroupConfig
from training.groups import MISSING_GROUP, load_groups

SEX = {
    "column": "personal_status_and_sex",
    "map": {
        "female": ["female : divorced/separated/married"],
        "male": ["male : divorced/separated", "male : married/widowed", "male : single"],
    },
}
ROOT = Path(__file__).resolve().parents[2]
GERMAN = DataConfig(path=ROOT / "data" / "german_credit.csv", target="creditability", positive_label="bad")


def groups_of(config: dict[str, dict], data: DataConfig = GERMAN, rows: int = 1000):
    return load_groups({k: GroupConfig.model_validate(v) for k, v in config.items()}, data, pd.RangeIndex(rows))


def test_categories_map_to_groups_and_bins_to_bands() -> None:
    groups = groups_of({"sex": SEX, "age": {"column": "age_in_years", "bins": [18, 30, 100]}})
    frame = pd.read_csv(GERMAN.path)
    assert groups.labels["sex"].value_counts().to_dict() == {"male": 690, "female": 310}
    assert (groups.labels["sex"] == "female").equals(frame["personal_status_and_sex"].str.startswith("female"))
    assert groups.labels["age"].value_counts().to_dict() == {
        "[30, 100)": int((frame["age_in_years"] >= 30).sum()),
        "[18, 30)": int((frame["age_in_years"] < 30).sum()),
    }
    assert groups.definitions["age"]["definition"] == {"[18, 30)": [18, 30], "[30, 100)": [30, 100]}
    assert groups.of(pd.Index([0, 1]))["age"].tolist() == ["[30, 100)", "[18, 30)"]  # ages 67 and 22


def test_a_dropped_feature_is_still_measured() -> None:
    dropping = GERMAN.model_copy(update={"drop_features": ["personal_status_and_sex"]})
    assert groups_of({"sex": SEX}, dropping).labels["sex"].nunique() == 2


def test_labels_and_missing_values(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    pd.DataFrame({"age": [20, None, 70], "y": ["a", "b", "a"]}).to_csv(path, index=False)
    data = DataConfig(path=path, target="y", positive_label="a")
    groups = groups_of({"age": {"column": "age", "bins": [0, 50, 120], "labels": ["young", "old"]}}, data, 3)
    assert groups.labels["age"].tolist() == ["young", MISSING_GROUP, "old"]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"sex": {**SEX, "column": "gender"}}, "fairness.groups.sex: column 'gender' is not in"),
        ({"t": {"column": "creditability", "map": {"a": ["good"], "b": ["bad"]}}}, "is the target"),
        (
            {"sex": {**SEX, "map": {"female": SEX["map"]["female"], "male": ["male : single"]}}},
            "categories of 'personal_status_and_sex' in no group: 'male : divorced/separated'",
        ),
        ({"sex": {**SEX, "map": {**SEX["map"], "other": ["nonbinary"]}}}, "'nonbinary' are not values of"),
        (
            {"sex": {**SEX, "map": {**SEX["map"], "again": ["male : single"]}}},
            "category 'male : single' is in both 'male' and 'again'",
        ),
        ({"age": {"column": "age_in_years", "bins": [20, 40, 100]}}, "bins [20.0, 40.0, 100.0] do not cover"),
        ({"age": {"column": "age_in_years", "bins": [18, 40, 75]}}, "(from 19 to 75; intervals are [a, b))"),
        ({"p": {"column": "purpose", "bins": [0, 1, 2]}}, "bins need a numeric column, 'purpose' is not"),
    ],
)
def test_bad_groups_name_the_problem(config: dict, message: str) -> None:
    with pytest.raises(TrainingInputError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        groups_of(config)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"column": "x"}, "exactly one of `map` or `bins`"),
        ({"column": "x", "bins": [1, 2], "map": {"a": ["1"]}}, "exactly one of `map` or `bins`"),
        ({"column": "x", "bins": [0, 5, 5]}, "strictly increasing"),
        ({"column": "x", "bins": [0, 5]}, "at least 3 edges"),
        ({"column": "x", "bins": [0, 5, 9], "labels": ["a"]}, "need as many distinct labels"),
        ({"column": "x", "map": {"a": ["1"]}}, "at least 2 groups"),
    ],
)
def test_malformed_group_configs_are_rejected(config: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        GroupConfig.model_validate(config)
