"""The canary without Docker: steps parsing, nginx's bucket files, the step analysis against a Prometheus query API
(a real HTTP server answering from a table), the bounds, and the controller's step transitions on a fake clock
(real files, the real operation lock, a real alert receiver)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.alerts import AlertSender
from deploy.canary import check_start, end_by_hand, refuse_while_running, status_lines
from deploy.canary_moves import CanaryMoves
from deploy.canary_record import CanaryRecord, parse_steps
from deploy.canary_split import CanarySplit
from deploy.context import Context
from deploy.controller.canary import UNJUDGED_AFTER, CanaryDriver
from deploy.controller.canary_analysis import analyse_step, bin_counts, counts_psi
from deploy.controller.probes import ProbeResult, ProbeTrack
from deploy.controller_config import DEFAULT_CONFIG, Canary, load_controller_config
from deploy.errors import UsageError
from deploy.lock import operation_lock
from deploy.prometheus import Prometheus
from deploy.release import Release
from deploy.settings import DeploySettings
from deploy.state import StateFile
from deploy.tests.prometheus_server import Answers, Received, serve_prometheus, serve_receiver

BLUE = Release("b" * 40, {"backend": "credit-risk/backend:b", "frontend": "credit-risk/frontend:b"}, "6")
GREEN = Release("g" * 40, {"backend": "credit-risk/backend:g", "frontend": "credit-risk/frontend:g"}, "7")
CONFIG = load_controller_config(DEFAULT_CONFIG)
BOUNDS = CONFIG.canary
T0 = 1_000_000.0


# -- steps -------------------------------------------------------------------------------------------------------
def test_steps_are_increasing_whole_percentages_ending_at_100() -> None:
    assert parse_steps("10,50,100") == [10, 50, 100]
    assert parse_steps(" 1, 100") == [1, 100]
    assert parse_steps("100") == [100]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("50,10,100", "strictly increasing"),
        ("10,10,100", "strictly increasing"),
        ("10,50", "end at 100"),
        ("10,150", "from 0 to 100"),
        ("-5,100", "whole numbers"),
        ("10.5,100", "whole numbers"),
        ("ten,100", "whole numbers"),
        ("", "whole numbers"),
        ("0,100", "start above 0"),
    ],
)
def test_bad_steps_are_one_line_naming_the_rule(text: str, named: str) -> None:
    with pytest.raises(UsageError) as error:
        parse_steps(text)
    assert named in str(error.value) and "\n" not in str(error.value)


# -- nginx's bucket files -----------------------------------------------------------------------------------------
def test_a_weight_is_that_many_bucket_files_behind_one_link_and_zero_removes_everything(tmp_path: Path) -> None:
    split = CanarySplit(tmp_path)
    assert split.weight() == 0
    split.write(10)
    assert split.link.is_symlink() and not os.readlink(split.link).startswith("/"), "relative: valid inside nginx"
    assert sorted(int(p.name) for p in split.link.iterdir()) == list(range(10))
    split.write(50)
    assert split.weight() == 50 and (split.link / "49").exists() and not (split.link / "50").exists()
    split.write(0)
    assert split.weight() == 0 and not split.link.exists()
    assert len(list(tmp_path.iterdir())) == 1, "only the weight just replaced is kept (a request may be reading it)"
    split.write(20)
    split.write(30)
    assert len(list(tmp_path.iterdir())) == 3, "the link, the weight and the one it replaced"
    with pytest.raises(UsageError):
        split.write(101)
    with pytest.raises(UsageError):
        split.write(True)


def test_a_reader_never_sees_half_a_weight(tmp_path: Path) -> None:
    """While weights 10 and 90 are written over and over, nginx's check of a bucket both weights hold (a stat through
    the link, as `if (-f .../canary/$canary_bucket)`) always finds it, and one neither holds never."""
    split = CanarySplit(tmp_path)
    split.write(10)
    stop, seen = threading.Event(), []

    def writer() -> None:
        while not stop.is_set():
            for weight in (90, 10):
                split.write(weight)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            seen.append(((split.link / "5").exists(), (split.link / "95").exists()))
    finally:
        stop.set()
        thread.join()
    assert len(seen) > 1000 and set(seen) == {(True, False)}


# -- the analysis -------------------------------------------------------------------------------------------------
def buckets(*counts: float) -> list[tuple[dict[str, str], float]]:
    """A histogram's cumulative buckets from per-bin counts (ten bins and +Inf), as Prometheus answers them."""
    series, total = [], 0.0
    padded = [*counts, *[0.0] * (11 - len(counts))]
    for bound, count in zip([*(f"{i / 10:g}" for i in range(1, 11)), "+Inf"], padded):
        total += count
        series.append(({"le": bound}, total))
    return series


def test_bin_counts_undo_the_cumulative_buckets_and_psi_compares_shares() -> None:
    series = buckets(5, 0, 3, 0, 0, 0, 0, 0, 0, 2)
    assert bin_counts(list(reversed(series))) == [5, 0, 3, 0, 0, 0, 0, 0, 0, 2, 0]
    same = bin_counts(buckets(50, 0, 30, 0, 0, 0, 0, 0, 0, 20))
    assert counts_psi(bin_counts(series), same) == pytest.approx(0.0)
    shifted = bin_counts(buckets(0, 0, 0, 0, 0, 0, 0, 5, 3, 2))
    assert counts_psi(bin_counts(series), shifted) > 5
    assert counts_psi([0.0] * 11, same) is None


def queries(green: dict, blue: dict) -> dict:
    """The answers of Prometheus to the canary's queries (green the canary, blue stable), most specific first."""
    return {
        'http_requests_total{color="green",route=~"/predict|/predict/batch",status=~"5.."}': green.get("errors", 0.0),
        'http_requests_total{color="green"': green.get("requests", 0.0),
        'http_requests_total{color="blue"': blue.get("requests", 0.0),
        'http_request_duration_seconds_bucket{color="green"': green.get("p99"),
        'http_request_duration_seconds_bucket{color="blue"': blue.get("p99"),
        'prediction_probability_bucket{color="green"': green.get("scores", []),
        'prediction_probability_bucket{color="blue"': blue.get("scores", []),
    }


GOOD = {"requests": 100.0, "p99": 0.02, "scores": buckets(60, 30, 10)}
STABLE = {"requests": 900.0, "p99": 0.02, "scores": buckets(600, 300, 100)}


@pytest.fixture
def answers() -> Iterator[tuple[Answers, Prometheus]]:
    table = Answers(queries(GOOD, STABLE))
    with serve_prometheus(table) as url:
        yield table, Prometheus(url)


def record(**changes: object) -> CanaryRecord:
    fields = dict(
        color="green",
        stable="blue",
        steps=[10, 50, 100],
        started="2026-12-06T00:00:00+00:00",
        started_ts=T0,
        step_window_s=BOUNDS.step_window_s,
        step_started_ts=T0,
    )
    return CanaryRecord(**{**fields, **changes})


def test_a_good_step_has_no_problem_and_its_figures(answers) -> None:
    table, prometheus = answers
    result = analyse_step(prometheus, record(), BOUNDS, T0 + 30)
    assert result.problems == []
    figures = result.figures
    assert (figures["requests"], figures["errors_5xx"], figures["judged"], figures["score_psi"]) == (100, 0, True, 0.0)
    assert figures["baseline"] == "same window" and figures["predictions"] == 100
    assert all("[30s]" in query for query, _ in table.queries), "the window is the step so far"
    assert all('source!~"probe|shadow"' in q for q, _ in table.queries if "prediction_probability" in q)


@pytest.mark.parametrize(
    ("green", "named"),
    [
        ({**GOOD, "errors": 5.0}, "5% of its 100 scoring requests failed with 5xx"),
        ({**GOOD, "p99": 0.9}, "p99 latency is 900 ms, blue's 20 ms"),
        ({**GOOD, "scores": buckets(0, 0, 0, 0, 0, 0, 0, 10, 30, 60)}, "scores differ from blue's"),
    ],
)
def test_a_failing_step_names_its_problem(answers, green: dict, named: str) -> None:
    table, prometheus = answers
    table.values = queries(green, STABLE)
    result = analyse_step(prometheus, record(), BOUNDS, T0 + 30)
    assert len(result.problems) == 1 and named in result.problems[0], result.problems


def test_a_slow_canary_under_the_floor_and_a_quiet_step_are_not_failed(answers) -> None:
    table, prometheus = answers
    table.values = queries({**GOOD, "p99": 0.2}, STABLE)  # ×10 but under the 250 ms floor
    assert analyse_step(prometheus, record(), BOUNDS, T0 + 30).problems == []
    table.values = queries({"requests": 5.0, "errors": 5.0}, STABLE)
    quiet = analyse_step(prometheus, record(), BOUNDS, T0 + 30)
    assert quiet.problems == [] and quiet.figures["judged"] is False


def test_at_100_percent_the_stable_color_is_compared_before_the_canary(answers) -> None:
    table, prometheus = answers
    table.values = queries(GOOD, {"requests": 0.0, "p99": 0.02, "scores": buckets(600, 300, 100)})
    result = analyse_step(prometheus, record(step=2, step_started_ts=T0 + 120), BOUNDS, T0 + 150)
    assert result.problems == [] and result.figures["baseline"].endswith("before the canary")
    assert any(at == f"{T0:.3f}" and "[5m]" in query for query, at in table.queries), "at the canary's start"


# -- the bounds ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "named"),
    [
        ("max_5xx_ratio: 0.02", "canary.max_5xx_ratio"),
        ("step_window_s: 60", "canary.step_window_s"),
        ("max_p99_ratio: 2.0", "canary.max_p99_ratio"),
    ],
)
def test_bad_canary_bounds_are_one_line_naming_the_field(tmp_path: Path, change: str, named: str) -> None:
    key = change.split(":")[0]
    path = tmp_path / "controller.yaml"
    path.write_text(DEFAULT_CONFIG.read_text().replace(change, f"{key}: -1"))
    with pytest.raises(UsageError) as error:
        load_controller_config(path)
    assert named in str(error.value) and "\n" not in str(error.value)


def test_the_analysis_interval_must_fit_in_a_step(tmp_path: Path) -> None:
    path = tmp_path / "controller.yaml"
    path.write_text(
        DEFAULT_CONFIG.read_text().replace(
            "analysis_interval_s: 5    # the canary", "analysis_interval_s: 90  # the canary"
        )
    )
    with pytest.raises(UsageError, match="canary.analysis_interval_s must not exceed canary.step_window_s"):
        load_controller_config(path)


def test_a_bounds_file_without_a_canary_section_gets_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "controller.yaml"
    path.write_text(DEFAULT_CONFIG.read_text().split("\ncanary:")[0])
    assert load_controller_config(path).canary == Canary()


# -- the controller's steps ---------------------------------------------------------------------------------------
class Rig:
    def __init__(self, state_dir: Path, prometheus: Prometheus, received: Received, alerts: AlertSender) -> None:
        self.state_dir, self.received = state_dir, received
        self.moves = CanaryMoves(state_dir)
        self.driver = CanaryDriver(state_dir, prometheus, alerts)
        self.tracks = {color: ProbeTrack(successes=5, last=ProbeResult(True, "ready")) for color in ("blue", "green")}

    def at(self, seconds: float, active: str = "blue") -> None:
        self.driver.tick(active, self.tracks, CONFIG, T0 + seconds)

    def canary(self) -> CanaryRecord:
        record = self.moves.record_file.load()
        assert record is not None
        return record

    def events(self) -> list[tuple[str, str, str]]:
        return [(e.operation, e.target, e.result) for e in self.moves.state.load().history]

    def alert_names(self, timeout_s: float = 5.0) -> list[str]:
        deadline = time.time() + timeout_s
        while time.time() < deadline and not self.received.posts:
            time.sleep(0.05)
        return self.received.alert_names()


@pytest.fixture
def rig(tmp_path: Path, answers, monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    monkeypatch.setenv("DEPLOY_OPERATOR", "controller")
    state = StateFile(tmp_path / "state.json")
    state.pin("blue", BLUE)
    state.pin("green", GREEN)
    received = Received()
    with serve_receiver(received) as url:
        test_rig = Rig(tmp_path, answers[1], received, AlertSender(url))
        test_rig.moves.begin(record(), "10% on green", {"steps": [10, 50, 100]})
        yield test_rig


def test_good_steps_advance_on_their_windows_and_the_last_one_promotes(rig: Rig) -> None:
    window = BOUNDS.step_window_s
    rig.at(window / 2)
    assert (rig.canary().step, rig.moves.split.weight()) == (0, 10), "half a window: the step goes on"
    assert rig.canary().figures["requests"] == 100
    rig.at(window + 1)
    assert (rig.canary().step, rig.moves.split.weight()) == (1, 50)
    rig.at(window + 2)
    assert rig.canary().step == 1, "within the analysis interval: nothing is asked"
    rig.at(2 * window + 1 + BOUNDS.analysis_interval_s)
    assert (rig.canary().step, rig.moves.split.weight()) == (2, 100)
    rig.at(3 * window + 2 + 2 * BOUNDS.analysis_interval_s)
    assert rig.canary().status == "promoted" and rig.moves.active_file.active() == "green"
    assert rig.moves.split.weight() == 0 and not rig.moves.split.link.exists()
    assert rig.events() == [
        ("canary", "green", "started"),
        ("canary", "green", "stepped"),
        ("canary", "green", "stepped"),
        ("canary", "green", "promoted"),
    ]
    stepped = rig.moves.state.load().history[1]
    assert (stepped.figures["weight"], stepped.figures["next_weight"], stepped.figures["requests"]) == (10, 50, 100)
    assert stepped.operator == "controller" and stepped.target_release == GREEN.to_json()


def test_a_failing_analysis_aborts_at_once_with_an_alert_and_its_figures(rig: Rig, answers) -> None:
    answers[0].values = queries({**GOOD, "errors": 40.0}, STABLE)
    rig.at(3)
    ended = rig.canary()
    assert ended.status == "aborted" and "40% of its 100 scoring requests failed with 5xx" in ended.verdict
    assert rig.moves.split.weight() == 0 and rig.moves.active_file.active() == "blue"
    (event,) = [e for e in rig.moves.state.load().history if e.result == "aborted"]
    assert (event.target, event.source, event.figures["errors_5xx"], event.figures["weight"]) == (
        "blue",
        "green",
        40,
        10,
    )
    assert rig.alert_names() == ["CanaryAborted"]


def test_a_canary_failing_its_probes_aborts_without_prometheus(rig: Rig, answers) -> None:
    answers[0].down = True
    rig.tracks["green"] = ProbeTrack(failures=3, last=ProbeResult(False, "ConnectTimeout"))
    rig.at(1)
    assert rig.canary().status == "aborted" and "3 failed readiness probes" in rig.canary().verdict


def test_an_unjudged_step_waits_then_aborts_and_never_promotes(rig: Rig, answers) -> None:
    answers[0].down = True
    window = BOUNDS.step_window_s
    rig.at(window + 1)
    assert rig.canary().status == "running" and rig.canary().step == 0, "no data: no step forward"
    rig.at(UNJUDGED_AFTER * window + 1)
    assert rig.canary().status == "aborted" and "not judged" in rig.canary().verdict
    assert "unreachable" in rig.canary().verdict or "refused" in rig.canary().verdict


def test_a_running_operation_defers_the_step_and_a_moved_traffic_supersedes(rig: Rig) -> None:
    with operation_lock(rig.state_dir, "deploy", 0.0):
        rig.at(BOUNDS.step_window_s + 1)
        assert rig.canary().step == 0
    rig.at(BOUNDS.step_window_s + 1 + BOUNDS.analysis_interval_s)
    assert rig.canary().step == 1
    rig.moves.active_file.write("green")  # a failover or a switch
    rig.at(BOUNDS.step_window_s + 2 + BOUNDS.analysis_interval_s, active="green")
    assert rig.canary().status == "superseded" and rig.moves.split.weight() == 0


# -- the CLI's checks ---------------------------------------------------------------------------------------------
def test_a_canary_of_the_active_color_or_a_second_canary_is_refused_and_status_shows_it(rig: Rig) -> None:
    ctx = Context(DeploySettings(DEPLOY_STATE_DIR=rig.state_dir), say=lambda line: None)
    with pytest.raises(UsageError, match="blue receives the traffic"):
        check_start(ctx, "blue")
    with pytest.raises(UsageError, match="a canary of green is running .* before a canary"):
        check_start(ctx, "green")
    with pytest.raises(UsageError, match="a canary of green is running .* before a switch"):
        refuse_while_running(ctx, "switch")
    (line,) = status_lines(ctx)
    assert "canary RUNNING: step 1/3 at 10% on green" in line and "10% in nginx" in line


def test_an_abort_by_hand_puts_every_request_on_the_stable_color_and_names_the_operator(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEPLOY_OPERATOR", "ana@host")
    lines: list[str] = []
    ctx = Context(DeploySettings(DEPLOY_STATE_DIR=rig.state_dir), say=lines.append)
    assert end_by_hand(ctx, "abort") == 0
    ended = rig.canary()
    assert (
        ended.status == "aborted" and "aborted by hand by ana@host" in ended.verdict and rig.moves.split.weight() == 0
    )
    last = rig.moves.state.load().history[-1]
    assert (last.operation, last.operator, last.target, last.result) == ("canary", "ana@host", "blue", "aborted")
    with pytest.raises(UsageError, match="no canary is running"):
        end_by_hand(ctx, "promote")
