"""The prediction log: no lost rows under concurrent writers, failures never raise."""

import multiprocessing
import sqlite3
import threading
import time
from pathlib import Path

from app.monitoring.prediction_log import PredictionBatch, PredictionLog


def record(i: int, source: str = "single", ts: float | None = None) -> PredictionBatch:
    """One request's single prediction."""
    return PredictionBatch(ts or time.time(), "7", "blue", source, ("i",), [(i,)], [i / 1000], [i % 2])


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
        connection.execute("DROP TABLE prediction_requests")
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


def batch(ts: float, first: int, size: int, source: str = "batch") -> PredictionBatch:
    numbers = range(first, first + size)
    return PredictionBatch(
        ts, "7", "blue", source, ("i",), [(i,) for i in numbers], [i / 1000 for i in numbers], [i % 2 for i in numbers]
    )


def test_a_request_is_one_row_read_back_as_one_record_per_prediction(tmp_path: Path) -> None:
    log = PredictionLog(tmp_path / "p.db", retention_days=30)
    log.start()
    now = time.time()
    log.record([batch(now - 2, 0, 3), batch(now - 1, 3, 1, source="probe"), batch(now, 4, 2, source="single")])
    log.flush()
    with sqlite3.connect(log.path) as connection:
        assert connection.execute("SELECT COUNT(*) FROM prediction_requests").fetchone()[0] == 3
    assert log.count() == 6
    records = log.since(0)
    assert [r.inputs["i"] for r in records] == [0, 1, 2, 4, 5], "oldest first, input order, no probes"
    assert [(r.probability, r.label, r.source) for r in records[:2]] == [(0.0, 0, "batch"), (0.001, 1, "batch")]
    assert [r.inputs["i"] for r in log.since(0, include_probes=True)] == [0, 1, 2, 3, 4, 5]
    assert [r.inputs["i"] for r in log.since(now - 1.5, include_probes=True)] == [3, 4, 5]
    assert [r.inputs["i"] for r in log.since(0, limit=3)] == [2, 4, 5], "the newest `limit` predictions"
    log.close()


def test_inputs_that_cannot_be_serialized_are_dropped_and_counted(tmp_path: Path) -> None:
    failures: list[int] = []
    log = PredictionLog(tmp_path / "p.db", retention_days=30, on_failure=failures.append)
    log.start()
    bad = PredictionBatch(time.time(), "7", "blue", "batch", ("i",), [(object(),)] * 2, [0.1, 0.2], [0, 0])
    log.record([bad])
    log.flush()
    log.record([record(1)])
    log.flush()
    assert failures == [2] and [r.inputs for r in log.since(0)] == [{"i": 1}]
    log.close()
