"""Real predictions for the monitoring tests: dataset rows as they are, and rows with longer, larger credits."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
import requests

from frontend.tests.processes import ROOT

DATASET = ROOT / "data" / "german_credit.csv"
SHIFTED = {"duration_in_month": 3.0, "credit_amount": 3.0}  # feature -> factor, clipped to the schema's bounds


def dataset_applicants(schema: dict[str, Any], count: int, seed: int = 0) -> list[dict[str, Any]]:
    """`count` real rows drawn at random from the dataset (its file is ordered), restricted to the served features."""
    names = [f["name"] for f in schema["features"]]
    return pd.read_csv(DATASET)[names].sample(count, random_state=seed).to_dict("records")


def shifted(applicants: list[dict[str, Any]], schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The applicants with SHIFTED features scaled up, within the accepted upper bounds."""
    bounds = {f["name"]: f for f in schema["features"]}
    result = []
    for applicant in applicants:
        changed = dict(applicant)
        for name, factor in SHIFTED.items():
            feature = bounds[name]
            value = min(applicant[name] * factor, feature["upper_bound"])
            changed[name] = round(value) if feature.get("dtype") == "integer" else value
        result.append(changed)
    return result


def score(url: str, applicants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """POST /predict/batch (JSON); the backend logs every applicant."""
    response = requests.post(f"{url}/predict/batch", json=applicants, timeout=60)
    response.raise_for_status()
    return response.json()["predictions"]


def summary_counting(url: str, count: int, window: str = "1h", seconds: float = 20) -> dict[str, Any]:
    """GET /monitoring/summary until it counts at least `count` predictions (the log is written every ~0.2 s)."""
    deadline = time.monotonic() + seconds
    while True:
        summary = requests.get(f"{url}/monitoring/summary", params={"window": window}, timeout=10).json()
        if summary["count"] >= count or time.monotonic() > deadline:
            assert summary["count"] >= count, f"the summary counts {summary['count']} of {count} predictions"
            return summary
        time.sleep(0.2)
