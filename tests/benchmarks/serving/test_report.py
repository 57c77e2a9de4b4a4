"""The report: targets at their thresholds, table rows, the printed lines and the JSON results file."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from benchmarks.serving.report import (
    Section,
    Target,
    decision_section,
    decision_targets,
    direct_section,
    direct_targets,
    latency_row,
    report_lines,
    results_json,
    throughput_row,
    write_results,
)
from benchmarks.serving.results import LoadResult, ServerResult

PREDICT_US = {"predict": 100.0, "validate_and_predict": 130.0, "predict_spaced": 160.0}


def load(concurrency: int, requests_per_s: float, p50_ms: float, p99_ms: float | None = None) -> LoadResult:
    return LoadResult(concurrency, requests_per_s, p50_ms, p99_ms or 2 * p50_ms, requests=100, errors=0)


def server(
    name: str, c1_p50_ms: float, c8_rps: float, batch_p50_ms: float, cold_start_s: float, **extra: object
) -> ServerResult:
    return ServerResult(
        name,
        cold_start_s=[cold_start_s + 1, cold_start_s],
        single=[load(1, 1000, c1_p50_ms), load(8, c8_rps, 1.0)],
        batch=load(1, 1000 / batch_p50_ms, batch_p50_ms),
        lone_batch_ms=[batch_p50_ms, 2 * batch_p50_ms, 3 * batch_p50_ms],
        **extra,
    )


def mlflow() -> ServerResult:
    return server("mlflow models serve", c1_p50_ms=2.0, c8_rps=100, batch_p50_ms=30.0, cold_start_s=3.0)


def verdicts(ours: ServerResult, theirs: ServerResult) -> list[bool]:
    return [target.passed for target in direct_targets(ours, theirs, PREDICT_US["predict"])]


def test_targets_pass_at_their_thresholds() -> None:
    ours = server("backend", c1_p50_ms=0.4, c8_rps=2000, batch_p50_ms=10.0, cold_start_s=0.9)
    assert verdicts(ours, mlflow()) == [True, True, True, True]


def test_targets_fail_just_past_their_thresholds() -> None:
    ours = server("backend", c1_p50_ms=0.401, c8_rps=1999, batch_p50_ms=10.01, cold_start_s=1.0)
    assert verdicts(ours, mlflow()) == [False, False, False, False]


def test_target_details_show_the_deciding_figures() -> None:
    ours = server(
        "backend", c1_p50_ms=0.3, c8_rps=2500, batch_p50_ms=5.0, cold_start_s=0.5, idle_as_is=load(1, 800, 0.45)
    )
    lines = [target.line() for target in direct_targets(ours, mlflow(), PREDICT_US["predict"])]
    assert lines == [
        "PASS  single-row throughput at c=8 >= 20x mlflow serve: 25.0x",
        "PASS  p50 at c=1 <= 4x in-process predict of one row: 300 us vs 4 x 100 us = 400 us"
        "; with the machine's own idle states 450 us",
        "PASS  1,000-row batch >= 3x faster than mlflow serve (p50 at c=1): 6.0x (5.00 vs 30.00 ms)",
        "PASS  cold start < 1/3 of mlflow serve's: 0.50 s vs 3.00 s",
    ]


def test_table_rows_put_ours_first_and_the_ratio_last() -> None:
    ours, theirs = load(8, 2500.4, 0.5, 1.0), load(8, 100.0, 5.0, 20.0)
    assert throughput_row("single row, c=8", ours, theirs, 0) == "| single row, c=8: requests/s | 2,500 | 100 | 25.0x |"
    assert latency_row("single row, c=8", ours, theirs) == (
        "| single row, c=8: p50 / p99 ms | 0.50 / 1.00 | 5.00 / 20.00 | 10.0x / 20.0x |"
    )


def test_section_prints_the_table_then_the_in_process_reference() -> None:
    ours = server("backend", c1_p50_ms=0.4, c8_rps=2000, batch_p50_ms=10.0, cold_start_s=0.9)
    section = direct_section(ours, mlflow(), PREDICT_US, {"predict": [100.0]}, batch_rows=1000)
    assert section.lines[:2] == [
        "| measure | this backend | mlflow models serve | ratio |",
        "| --- | ---: | ---: | ---: |",
    ]
    measures = [line.split(" | ")[0] for line in section.lines[2:-2]]
    assert measures == [
        "| single row, c=1: requests/s",
        "| single row, c=1: p50 / p99 ms",
        "| single row, c=8: requests/s",
        "| single row, c=8: p50 / p99 ms",
        "| 1000-row batch, c=1: requests/s",
        "| 1000-row batch, c=1: p50 / p99 ms",
        "| lone 1000-row batch right after the other server's: median ms",
        "| cold start (start -> ready) s",
    ]
    assert section.lines[-2:] == [
        "",
        "in-process predict of one row: 100 us back to back (130 us with JSON validation, "
        "160 us when spaced like the c=1 requests)",
    ]
    assert list(section.results) == ["in_process_us", "servers"]
    assert [s["name"] for s in section.results["servers"]] == ["backend", "mlflow models serve"]


def explained(c1_p50_ms: float, c8_rps: float, batch_p50_ms: float) -> ServerResult:
    """Our server with score-only answers (c=1 p50 0.4 ms, c=8 2,000 requests/s, batch 10 ms) and these with reasons."""
    ours = server("backend", c1_p50_ms=0.4, c8_rps=2000, batch_p50_ms=10.0, cold_start_s=0.9)
    ours.explained = [load(1, 1000, c1_p50_ms), load(8, c8_rps, 4.0)]
    ours.explained_batch = load(1, 1000 / batch_p50_ms, batch_p50_ms)
    return ours


def test_decision_targets_pass_at_their_thresholds_and_fail_just_past_them() -> None:
    assert [t.passed for t in decision_targets(explained(1.2, 2000 / 3, 50.0), 1000)] == [True, True, True]
    assert [t.passed for t in decision_targets(explained(1.201, 666, 50.01), 1000)] == [False, False, False]


def test_decision_section_compares_answers_with_reasons_to_score_only_ones() -> None:
    section = decision_section(explained(0.6, 1500, 25.0), 1000)
    assert section.lines == [
        "| measure | score only | with reasons | ratio |",
        "| --- | ---: | ---: | ---: |",
        "| /predict, c=1: requests/s | 1,000 | 1,000 | 1.00x |",
        "| /predict, c=1: p50 / p99 ms | 0.40 / 0.80 | 0.60 / 1.20 | 1.50x |",
        "| /predict, c=8: requests/s | 2,000 | 1,500 | 0.75x |",
        "| /predict, c=8: p50 / p99 ms | 1.00 / 2.00 | 4.00 / 8.00 | 4.00x |",
        "| 1000-row batch, c=1: p50 / p99 ms | 10.00 / 20.00 | 25.00 / 50.00 | 2.50x |",
    ]
    assert [t.line() for t in section.targets] == [
        "PASS  /predict with reasons at c=1: p50 <= 3x explain=false's: 0.60 vs 3 x 0.40 ms = 1.20 ms",
        "PASS  /predict with reasons at c=8: throughput >= 1/3 of explain=false's: 0.75 (1,500 vs 2,000 requests/s)",
        "PASS  1,000-row batch with reasons <= 5x the batch without (p50 at c=1): 2.5x (25.00 vs 10.00 ms)",
    ]
    assert list(section.results) == ["decisions"] and section.results["decisions"]["batch"]["p50_ms"] == 25.0


def two_sections() -> list[Section]:
    return [
        Section(["| direct |"], [Target("fast", True, "2x")], {"servers": []}),
        Section(["| proxy |"], [Target("through nginx", False, "1.1x")], {"proxy": {"p50_ms": 1.0}}),
    ]


def test_added_section_prints_after_the_others_and_its_targets_join_the_list() -> None:
    lines = report_lines(two_sections(), "test conditions")
    assert lines[:4] == ["", "| direct |", "", "| proxy |"]
    assert lines[4].startswith("machine: ") and lines[5] == "measured with test conditions"
    assert lines[6:] == ["PASS  fast: 2x", "FAIL  through nginx: 1.1x"]


def test_results_json_keeps_its_keys_in_order_and_adds_each_sections_entries(tmp_path: Path) -> None:
    args = argparse.Namespace(bundle=tmp_path, duration=1)
    metadata = {"version": 3, "algorithm": "catboost"}
    payload = results_json(two_sections(), "test conditions", tmp_path, metadata, args)
    assert list(payload) == ["date", "machine", "cpu_idle", "bundle", "settings", "servers", "proxy", "targets"]
    assert payload["settings"] == {"bundle": str(tmp_path), "duration": 1}
    assert payload["targets"] == [
        {"target": "fast", "passed": True, "detail": "2x"},
        {"target": "through nginx", "passed": False, "detail": "1.1x"},
    ]

    path = write_results(payload, tmp_path / "results")
    assert json.loads(path.read_text()) == payload
    assert [p.name for p in (tmp_path / "results").iterdir()] == [path.name]  # no temporary file left
    assert path.name.startswith("serving-") and path.suffix == ".json"


@pytest.mark.parametrize("passed", [True, False])
def test_target_as_json_uses_the_results_keys(passed: bool) -> None:
    assert Target("t", passed, "d").as_json() == {"target": "t", "passed": passed, "detail": "d"}
