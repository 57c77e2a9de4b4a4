"""Prediction ids and outcomes: ids in every answer and in the log; POST /outcomes (idempotent, 409, 404 with the rest
recorded, 422); realized performance equal to scikit-learn's on the same rows; maturity; the labeled export's
columns (the retraining contract); scopes."""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from tests.kit.api_keys import bearer, key_store

TODAY = datetime.now(timezone.utc).date().isoformat()


def logged_keys(client: TestClient) -> list[tuple[str, int, str]]:
    """(prediction_key, prediction_count, source) of every logged request, oldest first."""
    client.app.state.monitoring.log.flush()
    with closing(sqlite3.connect(client.app.state.settings.PREDICTION_LOG_PATH)) as db:
        return db.execute(
            "SELECT prediction_key, prediction_count, source FROM prediction_requests ORDER BY id"
        ).fetchall()


def scored_ids(client: TestClient, applicants: list[dict[str, Any]]) -> tuple[list[str], list[float]]:
    """Score a batch; its prediction ids and probabilities (logged before returning)."""
    answer = client.post("/predict/batch", json=applicants).json()["predictions"]
    client.app.state.monitoring.log.flush()
    return [row["prediction_id"] for row in answer], [row["probability_default"] for row in answer]


def outcome_rows(ids: list[str], outcomes: list[str], day: str = TODAY) -> list[dict[str, str]]:
    return [{"prediction_id": i, "outcome": o, "observed_date": day} for i, o in zip(ids, outcomes)]


def stored_outcomes(client: TestClient) -> dict[str, str]:
    with closing(sqlite3.connect(client.app.state.settings.PREDICTION_LOG_PATH)) as db:
        return dict(db.execute("SELECT prediction_id, outcome FROM outcomes"))


@pytest.fixture
def client(serve: Callable, catboost_bundle: Path) -> Iterator[TestClient]:
    """A fresh app over the catboost bundle, with its own prediction log."""
    with serve(catboost_bundle) as fresh:
        yield fresh


@pytest.mark.slow
def test_every_prediction_has_an_id_in_its_answer_and_in_the_log(client: TestClient, applicants: list) -> None:
    single = client.post("/predict", json=applicants[0]).json()["prediction_id"]
    fast = client.post("/predict?explain=false", json=applicants[1]).json()["prediction_id"]
    batch, _ = scored_ids(client, applicants[2:7])
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, list(applicants[0]))
    writer.writeheader()
    writer.writerows(applicants[7:10])
    body = buffer.getvalue()
    scored_csv = client.post(
        "/predict/batch", content=body, headers={"content-type": "text/csv", "accept": "text/csv"}
    ).text
    csv_ids = [row["prediction_id"] for row in csv.DictReader(io.StringIO(scored_csv))]
    logged = logged_keys(client)
    every = [single, fast, *batch, *csv_ids]
    assert len(set(every)) == len(every) == 10
    assert [(key, count) for key, count, _ in logged] == [
        (single.rsplit("-", 1)[0], 1),
        (fast.rsplit("-", 1)[0], 1),
        (batch[0].rsplit("-", 1)[0], 5),
        (csv_ids[0].rsplit("-", 1)[0], 3),
    ]
    assert batch == [f"{logged[2][0]}-{i}" for i in range(5)] and len(logged[2][0]) == 32


@pytest.mark.slow
def test_outcomes_are_idempotent_conflicts_are_409_and_unknown_ids_404_with_the_rest_recorded(
    client: TestClient, applicants: list
) -> None:
    ids, _ = scored_ids(client, applicants[:6])
    first = client.post("/outcomes", json=outcome_rows(ids[:3], ["bad", "good", "good"]))
    assert first.status_code == 200 and first.json()["recorded"] == 3
    again = client.post("/outcomes", json=outcome_rows(ids[:3], ["bad", "good", "good"]))
    assert again.status_code == 200
    assert (again.json()["recorded"], again.json()["unchanged"]) == (0, 3)

    conflicting = client.post("/outcomes", json=outcome_rows([ids[0], ids[3]], ["good", "bad"]))
    assert conflicting.status_code == 409
    body = conflicting.json()
    assert body["conflicting_ids"] == [ids[0]] and (body["conflicts"], body["recorded"]) == (1, 1)
    assert ids[0] in body["detail"] or any(ids[0] in e["message"] for e in body["errors"])

    ghost = ids[0].rsplit("-", 1)[0] + "-99"  # a known request, an index it does not have
    unknown = client.post(
        "/outcomes", json=outcome_rows(["0" * 32 + "-0", ghost, ids[4], ids[5]], ["bad", "bad", "good", "bad"])
    )
    assert unknown.status_code == 404
    assert unknown.json()["unknown_ids"] == ["0" * 32 + "-0", ghost]
    assert (unknown.json()["recorded"], unknown.json()["unknown"]) == (2, 2)
    assert stored_outcomes(client) == dict(zip(ids, ["bad", "good", "good", "bad", "good", "bad"]))


@pytest.mark.slow
def test_bad_outcomes_are_422_naming_the_field_and_nothing_is_recorded(client: TestClient, applicants: list) -> None:
    ids, _ = scored_ids(client, applicants[:3])
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    yesterday = (datetime.now(timezone.utc).date() - timedelta(days=1)).isoformat()
    cases = {
        "outcome": [*outcome_rows(ids[:1], ["bad"]), *outcome_rows(ids[1:2], ["defaulted"])],
        "observed_date": outcome_rows(ids[:2], ["bad", "good"], tomorrow),
    }
    for name, rows in cases.items():
        answer = client.post("/outcomes", json=rows)
        assert answer.status_code == 422, name
        assert {e["field"] for e in answer.json()["errors"]} == {name}, answer.json()
    before = client.post("/outcomes", json=outcome_rows(ids[:2], ["bad", "good"], yesterday))
    assert before.status_code == 422 and before.json()["errors"][0]["field"] == "observed_date"
    assert "before the prediction" in before.json()["errors"][0]["message"]
    missing = client.post("/outcomes", json=[{"prediction_id": ids[0], "outcome": "bad"}])
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "observed_date"
    for content in (
        "prediction_id,outcome\n" + f"{ids[0]},bad\n",  # a column missing
        "prediction_id,outcome,observed_date\n" + f"{ids[0]},bad,{TODAY},extra\n",  # ragged
        f"prediction_id,outcome,observed_date\n{ids[0]},bad,not-a-date\n",
    ):
        answer = client.post("/outcomes", content=content, headers={"content-type": "text/csv"})
        assert answer.status_code == 422 and answer.json()["errors"], content
    malformed = client.post("/outcomes", content=b"[{", headers={"content-type": "application/json"})
    assert malformed.status_code == 422 and "malformed JSON" in malformed.json()["detail"]
    assert stored_outcomes(client) == {}
    good_csv = "prediction_id,outcome,observed_date\n" + "".join(f"{i},good,{TODAY}\n" for i in ids)
    accepted = client.post("/outcomes", content=good_csv, headers={"content-type": "text/csv"})
    assert accepted.status_code == 200 and accepted.json()["recorded"] == 3


@pytest.mark.slow
def test_too_many_outcomes_are_413(serve: Callable, catboost_bundle: Path) -> None:
    with serve(catboost_bundle, MAX_BATCH_ROWS=2) as client:
        answer = client.post("/outcomes", json=outcome_rows(["a-0", "a-1", "a-2"], ["bad"] * 3))
        assert answer.status_code == 413


@pytest.mark.slow
def test_realized_performance_equals_scikit_learn_on_outcomes_drawn_from_the_probabilities(
    serve: Callable, catboost_bundle: Path, random_applicants: list
) -> None:
    with serve(catboost_bundle, OUTCOME_BOOTSTRAP_RESAMPLES=50) as client:
        ids, probabilities = scored_ids(client, random_applicants[:200])
        client.post("/predict", json=random_applicants[0], headers={"X-Traffic-Source": "probe"})  # left out
        drawn = np.random.default_rng(3).random(len(ids)) < np.array(probabilities)
        labeled = 150
        outcomes = ["bad" if d else "good" for d in drawn[:labeled]]
        assert client.post("/outcomes", json=outcome_rows(ids[:labeled], outcomes)).status_code == 200
        answer = client.get("/outcomes/performance?window=1d")
    assert answer.status_code == 200
    (version,) = answer.json()["versions"]
    y, p = drawn[:labeled].astype(int), np.array(probabilities[:labeled])
    assert (version["labeled"], version["predictions"], version["immature"]) == (labeled, 200, 0)
    assert version["labeled_share"] == pytest.approx(labeled / 200)
    assert version["roc_auc"]["value"] == pytest.approx(roc_auc_score(y, p))
    assert version["roc_auc"]["ci_low"] <= version["roc_auc"]["value"] <= version["roc_auc"]["ci_high"]
    assert version["pr_auc"] == pytest.approx(average_precision_score(y, p))
    assert version["brier"] == pytest.approx(brier_score_loss(y, p))
    threshold = client.app.state.model.service.threshold
    flagged = p >= threshold
    confusion = version["confusion"]
    assert confusion["true_positive"] == int((flagged & (y == 1)).sum())
    assert confusion["false_positive"] == int((flagged & (y == 0)).sum())
    assert version["realized_flagged_share"] == pytest.approx(flagged.mean())
    assert version["expected_default_rate"] == pytest.approx(p.mean())
    assert version["realized_default_rate"] == pytest.approx(y.mean())
    assert sum(band["count"] for band in version["calibration_bands"]) == labeled
    deciles = version["calibration_deciles"]
    assert sum(d["count"] for d in deciles) == labeled and deciles[0]["predicted"] < deciles[-1]["predicted"]
    assert version["status"] == "ok"


@pytest.mark.slow
def test_outcomes_before_maturity_are_counted_apart_and_left_out(
    serve: Callable, catboost_bundle: Path, random_applicants: list
) -> None:
    with serve(catboost_bundle, OUTCOME_MATURITY_DAYS=5) as client:
        old_ids, old_p = scored_ids(client, random_applicants[:40])
        new_ids, _ = scored_ids(client, random_applicants[40:60])
        with closing(sqlite3.connect(client.app.state.settings.PREDICTION_LOG_PATH)) as db, db:
            old_key = old_ids[0].rsplit("-", 1)[0]
            db.execute("UPDATE prediction_requests SET ts = ts - 10 * 86400 WHERE prediction_key = ?", (old_key,))
        old_outcomes = ["bad" if p > 0.3 else "good" for p in old_p]
        assert client.post("/outcomes", json=outcome_rows(old_ids, old_outcomes)).status_code == 200
        assert client.post("/outcomes", json=outcome_rows(new_ids, ["bad"] * 20)).status_code == 200
        (version,) = client.get("/outcomes/performance?window=30d").json()["versions"]
        export = client.get("/outcomes/labeled").json()
        everything = client.get("/outcomes/labeled?matured_only=false").json()
    assert (version["labeled"], version["immature"]) == (40, 20)
    y = np.array([o == "bad" for o in old_outcomes], dtype=int)
    assert version["brier"] == pytest.approx(brier_score_loss(y, old_p))
    assert [row["prediction_id"] for row in export["rows"]] == old_ids
    assert everything["count"] == 60


@pytest.mark.slow
def test_few_outcomes_are_insufficient_and_say_why(client: TestClient, applicants: list) -> None:
    ids, _ = scored_ids(client, applicants[:5])
    client.post("/outcomes", json=outcome_rows(ids, ["good"] * 5))
    (version,) = client.get("/outcomes/performance").json()["versions"]
    assert version["status"] == "insufficient" and "no defaults" in version["reason"]
    assert version["roc_auc"]["value"] is None and version["roc_auc"]["n"] == 5


@pytest.mark.slow
def test_the_labeled_export_has_the_contracts_columns_oldest_first_without_probes(
    client: TestClient, applicants: list
) -> None:
    client_metadata = client.get("/model").json()
    ids, _ = scored_ids(client, applicants[:4])
    probe = client.post("/predict", json=applicants[9], headers={"X-Traffic-Source": "probe"}).json()
    client.app.state.monitoring.log.flush()
    rows = outcome_rows([*ids, probe["prediction_id"]], ["bad", "good", "good", "bad", "good"])
    assert client.post("/outcomes", json=rows).status_code == 200
    as_csv = client.get("/outcomes/labeled", headers={"accept": "text/csv"})
    as_json = client.get("/outcomes/labeled").json()
    metadata = client.app.state.model.service.metadata
    features = [feature.name for feature in metadata.features]
    header, *lines = list(csv.reader(io.StringIO(as_csv.text)))
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert header == ["prediction_id", "model_version", "scored_at", "observed_date", *features, "creditability"]
    table = [dict(zip(header, line)) for line in lines]
    assert [row["prediction_id"] for row in table] == ids  # the probe is left out
    assert [row["creditability"] for row in table] == ["bad", "good", "good", "bad"]
    assert all(row["model_version"] == client_metadata["version"] and row["observed_date"] == TODAY for row in table)
    assert datetime.fromisoformat(table[0]["scored_at"]).utcoffset() == timedelta(0)
    assert (
        table[0]["purpose"] == applicants[0]["purpose"]
        and int(table[0]["age_in_years"]) == applicants[0]["age_in_years"]
    )
    assert (as_json["target"], as_json["positive_label"], as_json["negative_label"]) == ("creditability", "bad", "good")
    assert as_json["count"] == 4 and list(as_json["rows"][0]) == header
    assert as_json["rows"][0]["age_in_years"] == applicants[0]["age_in_years"]


@pytest.mark.slow
def test_outcome_routes_need_their_scopes(serve: Callable, catboost_bundle: Path) -> None:
    with serve(catboost_bundle, API_KEYS_RECHECK_S=0) as client:
        keys = key_store(client.app.state.settings.API_KEYS_PATH, scorer=("score",), reader=("read",))
        anonymous = {"Authorization": ""}
        for method, path in (("post", "/outcomes"), ("get", "/outcomes/performance"), ("get", "/outcomes/labeled")):
            assert getattr(client, method)(path, headers=anonymous).status_code == 401, path
        assert client.post("/outcomes", json=[], headers=bearer(keys["scorer"])).status_code == 403
        assert client.get("/outcomes/performance", headers=bearer(keys["scorer"])).status_code == 403
        assert client.get("/outcomes/performance", headers=bearer(keys["reader"])).status_code == 200
        refused = client.get("/outcomes/labeled", headers=bearer(keys["reader"]))
        assert refused.status_code == 403 and "audit" in refused.text


@pytest.mark.slow
def test_realized_gauges_are_on_metrics(serve: Callable, catboost_bundle: Path, random_applicants: list) -> None:
    with serve(catboost_bundle, OUTCOME_METRICS_TTL_S=0) as client:
        ids, probabilities = scored_ids(client, random_applicants[:60])
        outcomes = ["bad" if p > 0.35 else "good" for p in probabilities]
        client.post("/outcomes", json=outcome_rows(ids, outcomes))
        text = client.get("/metrics").text
        version = client.app.state.model.service.version
    labeled = f'realized_labeled_predictions{{model_version="{version}"}} 60.0'
    assert labeled in text and f'realized_roc_auc{{model_version="{version}"}}' in text
    assert f'realized_roc_auc_ci_low{{model_version="{version}"}}' in text
    assert f'expected_flagged_share{{model_version="{version}"}}' in text
