"""The watch's analysis of a switched-to color, on Prometheus's answers since the switch: 5xx ratio, p99 against
the previous color's, flagged share against training's; nothing judged on too little traffic; an unreachable
Prometheus is said, never guessed."""

from __future__ import annotations

import time

import pytest

from deploy.controller.watch import analyse
from deploy.controller_config import Watch
from deploy.prometheus import MetricsUnavailable, Prometheus
from deploy.state import WatchRecord, now
from deploy.tests.prometheus_server import Answers, serve_prometheus

BOUNDS = Watch(
    window_s=60,
    analysis_interval_s=5,
    max_5xx_ratio=0.05,
    min_requests=20,
    max_p99_ratio=3.0,
    min_p99_floor_s=0.05,
    max_flagged_share_delta=0.25,
    min_predictions=30,
)


def healthy(**changes: float | None) -> Answers:
    """Green since the switch: 200 scoring requests, none failed, p99 20 ms (blue's was 15 ms), 30 % flagged."""
    values = {
        'color="green",route=~"/predict|/predict/batch",status=~"5.."': 0.0,
        'http_requests_total{color="green"': 200.0,
        'duration_seconds_bucket{color="green"': 0.02,
        'duration_seconds_bucket{color="blue"': 0.015,
        'predictions_total{color="green",source!~"probe|shadow",label="1"}': 60.0,
        'predictions_total{color="green",source!~"probe|shadow"}': 200.0,
    }
    keys = {
        "errors": 'color="green",route=~"/predict|/predict/batch",status=~"5.."',
        "requests": 'http_requests_total{color="green"',
        "p99": 'duration_seconds_bucket{color="green"',
        "p99_before": 'duration_seconds_bucket{color="blue"',
        "flagged": 'predictions_total{color="green",source!~"probe|shadow",label="1"}',
        "predictions": 'predictions_total{color="green",source!~"probe|shadow"}',
    }
    for name, value in changes.items():
        values[keys[name]] = value
    return Answers(values)


def watch(started_ago_s: float = 20.0) -> WatchRecord:
    return WatchRecord("green", "blue", now(), time.time() - started_ago_s, 60.0, None, training_flagged_share=0.3)


def judged(answers: Answers):
    with serve_prometheus(answers) as url:
        return analyse(Prometheus(url), watch(), BOUNDS, time.time())


def test_a_healthy_color_passes_with_its_figures() -> None:
    answers = healthy()
    result = judged(answers)
    assert result.problems == []
    assert result.figures["requests"] == 200 and result.figures["error_ratio"] == 0.0
    assert result.figures["p99_s"] == 0.02 and result.figures["previous_p99_s"] == 0.015
    assert result.figures["flagged_share"] == 0.3 and result.figures["training_flagged_share"] == 0.3


def test_the_window_is_the_time_since_the_switch_and_the_previous_latency_is_read_before_it() -> None:
    answers = healthy()
    with serve_prometheus(answers) as url:
        started = watch(started_ago_s=20.0)
        analyse(Prometheus(url), started, BOUNDS, started.started_ts + 20.0)
    windows = {query.rsplit("[", 1)[1].split("]")[0] for query, _ in answers.queries}
    assert windows == {"20s", "5m"}
    before = [at for query, at in answers.queries if 'color="blue"' in query]
    assert before == [f"{started.started_ts:.3f}"]


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"errors": 20.0}, "10% of its 200 scoring requests failed with 5xx (bound 5%)"),
        ({"p99": 0.5}, "its p99 latency is 500 ms, blue's was 15 ms before the switch (bound ×3)"),
        ({"flagged": 190.0}, "it flags 95% of 200 live applicants, training flagged 30% (bound ±25%)"),
    ],
)
def test_a_failing_figure_is_a_problem_named_with_its_bound(changes: dict, problem: str) -> None:
    assert judged(healthy(**changes)).problems == [problem]


def test_latencies_under_the_floor_are_never_slow() -> None:
    assert judged(healthy(p99=0.04, p99_before=0.002)).problems == []


def test_too_little_traffic_is_not_judged() -> None:
    result = judged(healthy(requests=10.0, errors=10.0, p99=5.0, predictions=10.0, flagged=10.0))
    assert result.problems == []
    assert "error_ratio" not in result.figures


def test_no_previous_latency_means_latency_is_not_judged() -> None:
    assert judged(healthy(p99=5.0, p99_before=None)).problems == []


def test_an_unreachable_prometheus_is_an_error_that_says_so() -> None:
    with pytest.raises(MetricsUnavailable, match="unreachable"):
        analyse(Prometheus("http://127.0.0.1:9", timeout_s=0.5), watch(), BOUNDS, time.time())
    with serve_prometheus(Answers(down=True)) as url, pytest.raises(MetricsUnavailable, match="refused the query"):
        analyse(Prometheus(url), watch(), BOUNDS, time.time())
