"""Shadow copies and the champion vs challenger report on two real apps sharing one prediction log (blue serves the
CatBoost bundle, green the logistic regression): the report's figures equal numpy's over the answers the two apps
gave; shadow copies are never counted as served; a bad window is a 422 naming it."""

from __future__ import annotations

import sqlite3
import tempfile
import time
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.auth.callers import Caller, RequestTag
from app.monitoring.shadow_pairs import pair, read_answers
from app.monitoring.shadow_report import BANDS
from backend.tests.conftest import serving

N_SINGLE = 12
BATCH = 30


def settle(*clients: Any) -> None:
    for client in clients:
        client.app.state.monitoring.log.flush()


def answers(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    body = response.json()
    return body["predictions"] if "predictions" in body else [body]


def decision(answer: dict[str, Any]) -> str:
    """The decision's name (an object on /predict, a name on /predict/batch)."""
    return answer["decision"] if isinstance(answer["decision"], str) else answer["decision"]["name"]


@pytest.fixture(scope="module")
def shadowed(catboost_bundle: Path, logreg_bundle: Path, applicants: list[dict[str, Any]]) -> Any:
    """Blue scores the applicants as served traffic (with nginx's request ids), green scores the same requests as
    shadow copies (X-Shadow-Of: the served request's id); the two apps' answers, and both clients."""
    log = Path(tempfile.mkdtemp(prefix="shadow-")) / "predictions.db"
    with (
        serving(catboost_bundle, DEPLOY_COLOR="blue", PREDICTION_LOG_PATH=log) as blue,
        serving(logreg_bundle, DEPLOY_COLOR="green", PREDICTION_LOG_PATH=log) as green,
    ):
        served, shadow = [], []
        for i, applicant in enumerate(applicants[:N_SINGLE]):
            rid = f"{i:032x}"
            served += answers(blue.post("/predict", json=applicant, headers={"X-Request-ID": rid}))
            shadow += answers(green.post("/predict", json=applicant, headers={"X-Shadow-Of": rid}))
        batch = applicants[N_SINGLE : N_SINGLE + BATCH]
        served += answers(blue.post("/predict/batch", json=batch, headers={"X-Request-ID": "b" * 32}))
        shadow += answers(green.post("/predict/batch", json=batch, headers={"X-Shadow-Of": "b" * 32}))
        # Served without a copy (the challenger missed it) and a copy whose served request failed.
        answers(blue.post("/predict", json=applicants[0], headers={"X-Request-ID": "c" * 32}))
        answers(green.post("/predict", json=applicants[1], headers={"X-Shadow-Of": "d" * 32}))
        answers(blue.post("/predict", json=applicants[2], headers={"X-Request-ID": "e" * 32}))
        settle(blue, green)
        yield {"blue": blue, "green": green, "served": served, "shadow": shadow, "log": log}


def test_the_report_equals_numpy_over_the_answers_both_colors_gave(shadowed: dict[str, Any]) -> None:
    report = shadowed["blue"].get("/monitoring/shadow", params={"window": "1h"})
    assert report.status_code == 200, report.text
    figures = report.json()
    served, shadow = shadowed["served"], shadowed["shadow"]
    p_champion = np.array([a["probability_default"] for a in served])
    p_challenger = np.array([a["probability_default"] for a in shadow])
    delta = np.abs(p_challenger - p_champion)
    assert delta.max() > 0, "two different models: some applicant must differ"
    labels = np.array([a["label"] for a in served]), np.array([a["label"] for a in shadow])
    decisions = [decision(a) for a in served], [decision(a) for a in shadow]
    assert figures["requests_compared"] == N_SINGLE + 1 and figures["rows_compared"] == N_SINGLE + BATCH
    assert figures["label_agreement"] == pytest.approx(np.mean(labels[0] == labels[1]))
    assert figures["decision_agreement"] == pytest.approx(np.mean(np.equal(*decisions)))
    assert figures["mean_abs_delta"] == pytest.approx(delta.mean())
    assert figures["p95_abs_delta"] == pytest.approx(np.percentile(delta, 95))
    champion, challenger = figures["champion"], figures["challenger"]
    assert (champion["color"], challenger["color"]) == ("blue", "green")
    assert champion["flagged_share"] == pytest.approx(labels[0].mean())
    assert challenger["flagged_share"] == pytest.approx(labels[1].mean())
    assert (champion["unanswered"], challenger["unanswered"]) == (1, 1)  # "d" * 32 and "c" * 32; "e" is after
    assert champion["p95_seconds"] > 0 and challenger["mean_seconds"] > 0
    bands = [a["risk_band"] for a in served], [a["risk_band"] for a in shadow]
    expected = [[sum(1 for a, b in zip(*bands) if (a, b) == (x, y)) for y in BANDS] for x in BANDS]
    assert figures["risk_bands"] == BANDS and figures["band_transitions"] == expected
    assert sum(map(sum, figures["decision_transitions"])) == N_SINGLE + BATCH


def test_shadow_copies_are_never_counted_as_served(shadowed: dict[str, Any]) -> None:
    blue, green = shadowed["blue"], shadowed["green"]
    summary = blue.get("/monitoring/summary", params={"window": "1h"}).json()
    served = N_SINGLE + BATCH + 2  # the two served requests without a copy
    assert summary["count"] == served and summary["colors"] == {"blue": served}
    metrics = {
        (s.name, s.labels.get("source"), s.labels.get("label")): s.value
        for family in text_string_to_metric_families(green.get("/metrics").text)
        for s in family.samples
    }
    shadow_counted = sum(v for (name, source, _), v in metrics.items() if name == "predictions_total" and source)
    assert shadow_counted == N_SINGLE + BATCH + 1
    assert all(source == "shadow" for (name, source, _) in metrics if name == "predictions_total")
    trail = blue.get("/audit/predictions", params={"author": "tests", "window": "1h"}).json()
    assert trail["requests"] == N_SINGLE + 1 + 2, "the audit trail lists served requests only"
    assert {r["color"] for r in trail["items"]} == {"blue"}


def test_the_gauges_carry_the_report_and_a_bad_window_is_named(shadowed: dict[str, Any]) -> None:
    blue = shadowed["blue"]
    report = blue.get("/monitoring/shadow").json()
    samples = {
        (s.name, s.labels.get("side"), s.labels.get("champion_band"), s.labels.get("challenger_band")): s.value
        for family in text_string_to_metric_families(blue.get("/metrics").text)
        for s in family.samples
    }
    assert samples[("shadow_rows_compared", None, None, None)] == report["rows_compared"]
    assert samples[("shadow_p95_abs_delta", None, None, None)] == pytest.approx(report["p95_abs_delta"])
    assert samples[("shadow_flagged_share", "challenger", None, None)] == pytest.approx(
        report["challenger"]["flagged_share"]
    )
    assert samples[("shadow_band_transitions", None, "high", "low")] == report["band_transitions"][2][0]
    bad = blue.get("/monitoring/shadow", params={"window": "yesterday"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "window"


def test_pairing_needs_the_same_id_and_as_many_applicants(shadowed: dict[str, Any]) -> None:
    rows = read_answers(shadowed["log"], time.time() - 3600)
    pairing = pair(rows)
    assert all(p.served.request_id == p.shadow.request_id for p in pairing.pairs)
    assert all(len(p.served.labels) == len(p.shadow.labels) for p in pairing.pairs)
    assert {p.served.color for p in pairing.pairs} == {"blue"} and {p.shadow.color for p in pairing.pairs} == {"green"}
    assert pair([r for r in rows if r.source != "shadow"]).pairs == []


def test_coalesced_rows_of_different_requests_are_announced_apart(
    shadowed: dict[str, Any], applicants: list[dict[str, Any]]
) -> None:
    """Rows scored in one model call keep their own request ids (each pairs with its own copy); rows of one caller
    without ids (no nginx in front) stay one group, as before."""
    service = shadowed["blue"].app.state.model.service
    rows = [service.parser.one_from_dict(applicant) for applicant in applicants[:3]]
    key = Caller("tests", frozenset({"score"}))
    seen: list[Any] = []
    service.listeners.append(seen.append)
    try:
        tagged = [replace(key, request=RequestTag(f"{i:032x}", time.perf_counter())) for i in range(3)]
        service.predict_rows(rows, ["single"] * 3, False, tagged)
        assert [event.caller.request.request_id for event in seen] == [f"{i:032x}" for i in range(3)]
        seen.clear()
        untagged = [replace(key, request=RequestTag(None, time.perf_counter())) for _ in range(3)]
        service.predict_rows(rows, ["single"] * 3, False, untagged)
        assert len(seen) == 1 and len(seen[0].predictions) == 3
    finally:
        service.listeners.remove(seen.append)


def test_only_the_span_of_the_copies_is_read_and_nothing_without_copies(
    shadowed: dict[str, Any], tmp_path: Path
) -> None:
    """A scrape reads the served requests around the window's copies only: a busy hour without shadow costs nothing."""
    copy = tmp_path / "predictions.db"
    with closing(sqlite3.connect(shadowed["log"])) as source, closing(sqlite3.connect(copy)) as target:
        source.backup(target)
        earlier = ("c" * 32,)  # served without a copy: moved two hours before the copies, beyond the margin
        target.execute("UPDATE prediction_requests SET ts = ts - 7200 WHERE request_id = ?", earlier)
        target.commit()
    rows = read_answers(copy, time.time() - 3 * 3600)
    ids = {row.request_id for row in rows}
    assert "e" * 32 in ids and "c" * 32 not in ids
    with closing(sqlite3.connect(copy)) as target:
        target.execute("DELETE FROM prediction_requests WHERE source = 'shadow'")
        target.commit()
    assert read_answers(copy, time.time() - 3 * 3600) == []
