"""The shadow report benchmark writes the log it times and reads it as the gauges do."""

from __future__ import annotations

import time
from contextlib import closing
from pathlib import Path

import pytest

from app.monitoring.prediction_log import connect
from benchmarks.shadow_report import main, served_log


def test_the_log_holds_the_served_requests_of_the_last_hour(tmp_path: Path) -> None:
    path = tmp_path / "predictions.db"
    served_log(path, 500, time.time())
    with closing(connect(path)) as connection:
        rows, oldest, ids = connection.execute(
            "SELECT COUNT(*), MIN(ts), COUNT(DISTINCT request_id) FROM prediction_requests WHERE source = 'single'"
        ).fetchone()
    assert rows == ids == 500 and oldest > time.time() - 3600


def test_the_benchmark_reports_its_timing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--requests", "1000"]) == 0
    out = capsys.readouterr().out
    assert "writing 1,000 served requests" in out and "best " in out and "(0 pairs)" in out


def test_with_a_bundle_it_times_the_drift_summary_too(catboost_bundle: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["--requests", "300", "--bundle", str(catboost_bundle)]) == 0
    out = capsys.readouterr().out
    assert "drift summary over the last hour: best " in out and "(300 predictions)" in out
