"""The monitoring page's realized-performance section in AppTest against a real backend with real outcomes."""

from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest
import requests

from analyst_ui.realized import auc_text, not_enough_text
from tests.kit.applicants import real_applicants
from tests.kit.traffic import score_batch, summary_counting

pytestmark = pytest.mark.slow

PAGE = "views/monitoring.py"


def post_outcomes(server, predictions: list[dict], seed: int = 0) -> None:
    """Each prediction's outcome drawn from its own probability (seeded), observed today."""
    rng, today = random.Random(seed), datetime.now(timezone.utc).date().isoformat()
    rows = [
        {
            "prediction_id": p["prediction_id"],
            "outcome": "bad" if rng.random() < p["probability_default"] else "good",
            "observed_date": today,
        }
        for p in predictions
    ]
    answer = requests.post(f"{server.url}/outcomes", json=rows, headers=server.headers, timeout=30)
    assert answer.status_code == 200, answer.text


def test_the_page_shows_the_realized_figures_of_the_served_model(own_backend, open_app) -> None:
    schema = requests.get(f"{own_backend.url}/schema", timeout=10, headers=own_backend.headers).json()
    predictions = score_batch(own_backend, real_applicants(schema["features"], 80, seed=4))
    summary_counting(own_backend, 80)
    post_outcomes(own_backend, predictions)
    performance = requests.get(f"{own_backend.url}/outcomes/performance", headers=own_backend.headers, timeout=30)
    (figures,) = performance.json()["versions"]

    app = open_app(own_backend, PAGE)

    assert not app.exception and not app.error
    assert "Realized performance" in [h.value for h in app.subheader]
    shown = {metric.label: metric.value for metric in app.main.metric}
    assert shown["Outcomes known"] == "80"
    assert shown["Ranking quality (AUC)"] == auc_text(figures["roc_auc"])
    assert shown["Observed default rate"] == f"{figures['realized_default_rate']:.1%}"
    assert any(chart.proto.id.endswith("monitoring_calibration") for chart in app.get("plotly_chart"))
    confusion = app.dataframe[-1].value
    assert int(confusion.to_numpy().sum()) == 80
    assert confusion.loc["defaulted", "flagged as likely default"] == figures["confusion"]["true_positive"]


def test_too_few_outcomes_say_so_in_words() -> None:
    assert "no outcome" in not_enough_text(None, 30)
    entry = {"labeled": 5, "status": "insufficient", "reason": "no defaults observed yet"}
    assert not_enough_text(entry, 30).startswith("Not enough outcomes yet: no defaults observed yet")
    assert not_enough_text({"labeled": 50, "status": "ok"}, 30) is None
    assert auc_text({"value": 0.781, "ci_low": 0.70, "ci_high": 0.85}) == "0.78 (0.70–0.85)"
