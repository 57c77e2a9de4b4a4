"""make simulate-traffic: realistic rows come from the data, shifted ones stay valid, bad usage exits 2."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest

from deploy.simulate_traffic import dataset_applicants, main, shift

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = [
    {"name": "duration_in_month", "type": "numeric", "dtype": "integer", "upper_bound": 100},
    {"name": "credit_amount", "type": "numeric", "dtype": "float", "upper_bound": 20_000.0},
    {"name": "housing", "type": "categorical", "categories": ["for free", "own", "rent"]},
    {"name": "purpose", "type": "categorical", "categories": ["business", "car (new)"]},
]


def test_dataset_applicants_are_rows_of_the_dataset_with_the_served_features() -> None:
    data = ROOT / "data" / "german_credit.csv"
    applicants = dataset_applicants(data, SCHEMA, 25, random.Random(1))
    rows = pd.read_csv(data)[[f["name"] for f in SCHEMA]].to_dict("records")
    assert len(applicants) == 25 and all(applicant in rows for applicant in applicants)


def test_a_dataset_without_a_served_feature_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    pd.DataFrame({"housing": ["own"]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match="lacks served feature"):
        dataset_applicants(path, SCHEMA, 3, random.Random(0))


def test_shift_scales_numbers_within_bounds_and_pins_the_skewed_categories() -> None:
    applicant = {"duration_in_month": 70, "credit_amount": 1_000.0, "housing": "own", "purpose": "business"}
    shifted = shift(applicant, SCHEMA, 1.8, pinned={"housing"})
    assert shifted["duration_in_month"] == 100 and isinstance(shifted["duration_in_month"], int)
    assert shifted["credit_amount"] == pytest.approx(1_800.0)
    assert shifted["housing"] == "rent" and shifted["purpose"] == "business"
    assert applicant["duration_in_month"] == 70, "the original is left alone"


def test_shift_can_be_limited_to_some_numeric_features() -> None:
    applicant = {"duration_in_month": 10, "credit_amount": 1_000.0, "housing": "own", "purpose": "business"}
    shifted = shift(applicant, SCHEMA, 3.0, only={"credit_amount"})
    assert shifted == {**applicant, "credit_amount": pytest.approx(3_000.0)}


@pytest.mark.parametrize("args", [["--count", "0"], ["--factor", "-1"], ["--concurrency", "0"]])
def test_bad_options_exit_2(args: list[str], capsys: pytest.CaptureFixture) -> None:
    assert main(args) == 2
    assert "must be positive" in capsys.readouterr().err


def test_an_unreachable_backend_exits_2_with_the_reason(capsys: pytest.CaptureFixture) -> None:
    assert main(["--url", "http://127.0.0.1:9/api", "--count", "1"]) == 2
    assert "cannot prepare traffic for http://127.0.0.1:9/api" in capsys.readouterr().err
