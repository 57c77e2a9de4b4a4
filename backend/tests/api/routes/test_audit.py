"""The audit trail against a real backend: each prediction names who asked (the key, or the analyst the UI's key
acts for) and the color; the probe marker and the on-behalf header are honored only from keys allowed to use
them; an admin lists an analyst's activity and each key's last use."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from app.monitoring.prediction_log import PredictionLog
from deploy.api_keys import ApiKeyStore
from tests.kit.api_keys import bearer

pytestmark = pytest.mark.slow


def trail(url: str, key: str, author: str, count: int, **params: str) -> dict:
    """GET /audit/predictions until it lists `count` requests (the log is written every ~0.2 s)."""
    deadline = time.monotonic() + 15
    while True:
        response = httpx.get(
            f"{url}/audit/predictions", params={"author": author, **params}, headers=bearer(key), timeout=10
        )
        assert response.status_code == 200, response.text
        if response.json()["requests"] >= count or time.monotonic() > deadline:
            return response.json()
        time.sleep(0.2)


def test_predictions_name_their_author_and_an_admin_lists_them(
    start_live_server: Callable, catboost_bundle: Path, example: dict
) -> None:
    with start_live_server(catboost_bundle, DEPLOY_COLOR="blue", KEY_USAGE_FLUSH_S="0.2") as live:
        live.wait_for("/ready")
        store = ApiKeyStore(live.key_store)
        ui = store.create("analyst-ui", ["score", "read", "on-behalf-of"])
        job = store.create("nightly-job", ["score", "probe"])
        admin = store.create("auditor", ["audit"])
        plain = store.create("partner", ["score"])
        time.sleep(1.2)
        for_alice = {**bearer(ui), "X-On-Behalf-Of": "alice@bank.example"}
        assert httpx.post(f"{live.url}/predict", json=example, headers=for_alice, timeout=10).status_code == 200
        batch = httpx.post(f"{live.url}/predict/batch", json=[example] * 3, headers=for_alice, timeout=10)
        assert batch.status_code == 200
        assert httpx.post(f"{live.url}/predict", json=example, headers=bearer(job), timeout=10).status_code == 200
        probe = {**bearer(job), "X-Traffic-Source": "probe"}
        assert httpx.post(f"{live.url}/predict", json=example, headers=probe, timeout=10).status_code == 200
        pretend = {**bearer(plain), "X-Traffic-Source": "probe"}
        assert httpx.post(f"{live.url}/predict", json=example, headers=pretend, timeout=10).status_code == 200

        alice = trail(live.url, admin, "alice@bank.example", 2)
        assert (alice["requests"], alice["predictions"]) == (2, 4)
        assert [(i["source"], i["count"], i["api_key"], i["analyst"]) for i in alice["items"]] == [
            ("batch", 3, "analyst-ui", "alice@bank.example"),
            ("single", 1, "analyst-ui", "alice@bank.example"),
        ]
        assert all(i["color"] == "blue" and i["inputs"] is None for i in alice["items"])
        job_trail = trail(live.url, admin, "nightly-job", 2)
        assert sorted(i["source"] for i in job_trail["items"]) == ["probe", "single"]
        partner = trail(live.url, admin, "partner", 1)
        assert [i["source"] for i in partner["items"]] == ["single"], "the probe marker needs the probe scope"
        with_inputs = trail(live.url, admin, "alice@bank.example", 2, include_inputs="true", limit="1")
        assert with_inputs["truncated"] and with_inputs["items"][0]["inputs"] == [example] * 3
        assert trail(live.url, admin, "bob", 0)["requests"] == 0

        used = httpx.get(f"{live.url}/audit/keys", headers=bearer(admin), timeout=10).json()["keys"]
        assert {"analyst-ui", "nightly-job", "partner", "auditor"} <= {entry["name"] for entry in used}
        assert all(entry["color"] == "blue" for entry in used)
        assert httpx.get(f"{live.url}/audit/keys", headers=bearer(ui), timeout=10).status_code == 403


def test_only_the_on_behalf_scope_may_name_an_analyst(start_live_server: Callable, catboost_bundle: Path) -> None:
    with start_live_server(catboost_bundle) as live:
        live.wait_for("/ready")
        store = ApiKeyStore(live.key_store)
        plain = store.create("partner", ["score", "read"])
        ui = store.create("analyst-ui", ["score", "read", "on-behalf-of"])
        time.sleep(1.2)
        claimed = httpx.get(f"{live.url}/schema", headers={**bearer(plain), "X-On-Behalf-Of": "alice"}, timeout=10)
        assert claimed.status_code == 403 and claimed.json()["errors"][0]["field"] == "X-On-Behalf-Of"
        for bad in ("", "alice smith", "a" * 200, "<script>", "-alice"):
            answer = httpx.get(f"{live.url}/schema", headers={**bearer(ui), "X-On-Behalf-Of": bad}, timeout=10)
            assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "X-On-Behalf-Of", bad
        ok = httpx.get(f"{live.url}/schema", headers={**bearer(ui), "X-On-Behalf-Of": "alice"}, timeout=10)
        assert ok.status_code == 200


def test_an_older_prediction_log_gains_the_audit_columns(tmp_path: Path) -> None:
    path = tmp_path / "predictions.db"
    with sqlite3.connect(path) as old:
        old.execute(
            "CREATE TABLE prediction_requests (id INTEGER PRIMARY KEY, ts REAL NOT NULL, model_version TEXT NOT NULL,"
            " color TEXT NOT NULL, source TEXT NOT NULL, prediction_count INTEGER NOT NULL, probabilities TEXT NOT"
            " NULL, labels TEXT NOT NULL, inputs TEXT NOT NULL)"
        )
        old.execute(
            "INSERT INTO prediction_requests VALUES (1, ?, '1', 'blue', 'single', 1, '[0.2]', '[0]',"
            ' \'{"columns": ["a"], "rows": [[1]]}\')',
            (time.time(),),
        )
    for _ in range(2):  # both colors open it: the second finds the columns there
        log = PredictionLog(path, retention_days=30)
        log.start()
        log.close()
    columns = [row[1] for row in sqlite3.connect(path).execute("PRAGMA table_info(prediction_requests)")]
    assert columns[-7:] == ["api_key", "analyst", "prediction_key", "request_id", "seconds", "risk_bands", "decisions"]
    (record,) = PredictionLog(path, retention_days=30).since(0)
    assert (record.probability, record.inputs) == (0.2, {"a": 1}), "old rows are still read"
