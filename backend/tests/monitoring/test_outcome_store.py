"""The outcomes table next to the prediction log: an older log file is migrated, a batch is one transaction, and
realized figures come from scikit-learn on exactly the matured rows."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from app.core.errors import ApiError
from app.monitoring.outcomes import Outcome, OutcomeStore
from app.monitoring.prediction_log import PredictionBatch, PredictionLog
from app.monitoring.realized import RealizedSettings, realized_performance

OLD_LAYOUT = (
    "CREATE TABLE prediction_requests (id INTEGER PRIMARY KEY, ts REAL NOT NULL, model_version TEXT NOT NULL,"
    " color TEXT NOT NULL, source TEXT NOT NULL, prediction_count INTEGER NOT NULL, probabilities TEXT NOT NULL,"
    " labels TEXT NOT NULL, inputs TEXT NOT NULL)"
)


def log_requests(path: Path, batches: list[PredictionBatch]) -> None:
    log = PredictionLog(path, retention_days=30)
    log.start()
    log.record(batches)
    log.flush()
    log.close()


def batch(key: str, probabilities: list[float], ts: float | None = None, source: str = "batch") -> PredictionBatch:
    rows = [(i,) for i in range(len(probabilities))]
    labels = [int(p >= 0.5) for p in probabilities]
    return PredictionBatch(ts or time.time(), "3", "blue", source, ("x",), rows, probabilities, labels, "k", None, key)


def test_an_older_log_file_gains_the_key_column_and_the_outcomes_table(tmp_path: Path) -> None:
    path = tmp_path / "predictions.db"
    with closing(sqlite3.connect(path)) as old, old:
        old.execute(OLD_LAYOUT)
        old.execute(
            "INSERT INTO prediction_requests VALUES (1, ?, '1', 'blue', 'single', 1, '[0.2]', '[0]', ?)",
            (time.time(), '{"columns": ["x"], "rows": [[1]]}'),
        )
    store = OutcomeStore(path)
    store.create()
    store.create()  # both colors open it: the second finds everything there
    log_requests(path, [batch("a" * 32, [0.7, 0.1])])
    with closing(sqlite3.connect(path)) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(prediction_requests)")]
        indexes = [row[1] for row in db.execute("PRAGMA index_list(prediction_requests)")]
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "prediction_key" in columns and "prediction_requests_key" in indexes and "outcomes" in tables
    today = date.today()
    result = store.record([Outcome(0, "a" * 32 + "-0", "bad", today), Outcome(1, "old-0", "bad", today)], "ops")
    assert (result.recorded, result.unknown) == (["a" * 32 + "-0"], ["old-0"])  # old rows have no key: unknown


def test_a_date_before_its_prediction_rejects_the_whole_batch(tmp_path: Path) -> None:
    path = tmp_path / "predictions.db"
    store = OutcomeStore(path)
    store.create()
    log_requests(path, [batch("b" * 32, [0.3, 0.6])])
    today = date.today()
    with pytest.raises(ApiError) as raised:
        store.record(
            [Outcome(0, "b" * 32 + "-0", "bad", today), Outcome(1, "b" * 32 + "-1", "good", today - timedelta(days=3))],
            None,
        )
    assert raised.value.status_code == 422 and raised.value.errors[0].row == 1
    assert store.labeled(0) == []  # nothing half-written


def test_realized_figures_rest_on_the_matured_rows_only(tmp_path: Path) -> None:
    path = tmp_path / "predictions.db"
    store = OutcomeStore(path)
    store.create()
    rng = np.random.default_rng(0)
    old, new = rng.random(120).tolist(), rng.random(30).tolist()
    log_requests(path, [batch("c" * 32, old, ts=time.time() - 20 * 86400), batch("d" * 32, new)])
    drawn = (rng.random(120) < np.array(old)).astype(int)
    today = date.today()
    outcomes = [Outcome(i, f"{'c' * 32}-{i}", "bad" if d else "good", today) for i, d in enumerate(drawn)]
    outcomes += [Outcome(120 + i, f"{'d' * 32}-{i}", "bad", today) for i in range(30)]
    store.record(outcomes, None)
    settings = RealizedSettings("bad", 10, min_labeled=30, resamples=50, band_edges=(0.3, 0.6), expected_flagged={})
    (version,) = realized_performance(store.labeled(0), store.prediction_counts(0), settings)
    assert (version["labeled"], version["immature"], version["predictions"]) == (120, 30, 150)
    assert version["roc_auc"]["value"] == pytest.approx(roc_auc_score(drawn, old))
    low, high = version["roc_auc"]["ci_low"], version["roc_auc"]["ci_high"]
    again = realized_performance(store.labeled(0), store.prediction_counts(0), settings)[0]["roc_auc"]
    assert low < version["roc_auc"]["value"] < high and (again["ci_low"], again["ci_high"]) == (low, high)
    bands = {band["band"]: band for band in version["calibration_bands"]}
    low_rows = np.array(old) < 0.3
    assert bands["low"]["count"] == int(low_rows.sum())
    assert bands["low"]["observed"] == pytest.approx(drawn[low_rows].mean())
