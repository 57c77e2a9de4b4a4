"""The prediction log: no lost rows under concurrent writers, failures never raise."""

import multiprocessing
import sqlite3
import threading
import time
from pathlib import Path

from app.core.scoring import Prediction
from app.monitoring.prediction_log import PredictionBatch, PredictionLog


def record(i: int, source: str = "single", ts: float | None = None) -> PredictionBatch:
    """One request's single prediction."""
    prediction = Prediction(i / 1000, i % 2, "low")
    return PredictionBatch(ts or time.time(), "7", "blue", source, [{"i": i}], [prediction])


def write_many(path: str, worker: int, count: int) -> None:
    log = PredictionLog(Path(path), retention_days=30)
    log.start()
    for i in range(count):
        log.record([record(worker * 100_000 + i)])
    log.close()


def test_concurrent_threads_lose_no_rows(tmp_path: Path) -> None:
    log = PredictionLog(tmp_path / "p.db", retention_days=30)
    log.start()
    threads = [
        threading.Thread(target=lambda w=w: log.record(record(w * 1000 + i) for i in range(500))) for w in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.flush()
    assert log.count() == 4000
    rows = log.since(0)
    assert len({r.inputs["i"] for r in rows}) == 4000
    log.close()


def test_concurrent_processes_sharing_one_file_lose_no_rows(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=write_many, args=(path, w, 1500)) for w in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    log = PredictionLog(Path(path), retention_days=30)
    assert log.count() == 6000


def test_write_failure_is_counted_not_raised(tmp_path: Path) -> None:
    failures: list[int] = []
    log = PredictionLog(tmp_path / "p.db", retention_days=30, on_failure=failures.append)
    log.start()
    with sqlite3.connect(tmp_path / "p.db") as connection:
        connection.execute("DROP TABLE predictions")
    log.record([record(1), record(2)])
    log.flush()
    assert sum(failures) == 2


def test_full_queue_drops_and_counts_without_blocking(tmp_path: Path) -> None:
    failures: list[int] = []
    log = PredictionLog(tmp_path / "p.db", retention_days=30, on_failure=failures.append, max_queue=10)
    log.record(record(i) for i in range(25))  # writer not started: the queue fills up, nothing waits
    assert failures == [15]


def test_retention_deletes_old_rows(tmp_path: Path) -> None:
    log = PredictionLog(tmp_path / "p.db", retention_days=1)
    log.start()
    old = record(0, ts=time.time() - 3 * 86_400)
    log.record([old, record(1)])
    log.flush()
    assert [r.inputs for r in log.since(0)] == [{"i": 1}]
    log.close()
