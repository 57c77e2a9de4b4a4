"""The CLI's side of the watch: a switch records it, `switch`/`release` follow the controller's verdict (exit 1
on a rollback), say when nobody watches, and `status` shows the controller and the watch."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from deploy.context import Context
from deploy.monitoring import controller_lines
from deploy.release import Release
from deploy.settings import DeploySettings
from deploy.watching import follow, follow_new_watch, start_watch

GREEN = Release("g" * 40, {"backend": "credit-risk/backend:g", "frontend": "credit-risk/frontend:g"}, "7")


@pytest.fixture
def ctx(tmp_path: Path) -> tuple[Context, list[str]]:
    lines: list[str] = []
    settings = DeploySettings(COMPOSE_PROJECT_NAME="unit", DEPLOY_STATE_DIR=tmp_path / "state", BUNDLES_DIR=tmp_path)
    return Context(settings, say=lines.append), lines


def controller_alive(ctx: Context, **extra: object) -> None:
    status = {
        "time_ts": time.time(),
        "active": "green",
        "colors": {"blue": {"ready": True, "detail": "ready"}, "green": {"ready": False, "detail": "ConnectTimeout"}},
        "prometheus": {"reachable": False, "error": "Prometheus at http://prometheus:9090 is unreachable"},
        **extra,
    }
    path = ctx.settings.controller_dir / "status.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(status))


def conclude_later(ctx: Context, status: str, verdict: str, after_s: float = 0.3) -> None:
    """What the controller does: judge the watch, a little later."""

    def conclude() -> None:
        time.sleep(after_s)
        watch = ctx.state.load().watch
        figures = {"requests": 120, "errors_5xx": 60, "p99_s": 0.012}
        ctx.state.set_watch(replace(watch, status=status, verdict=verdict, figures=figures))

    threading.Thread(target=conclude, daemon=True).start()


def test_a_switch_records_a_watch_with_the_window_and_trainings_flagged_share(ctx) -> None:
    context, _ = ctx
    watch = start_watch(context, "green", "blue", GREEN, {"sanity": {"training_flagged_share": 0.31}})
    stored = context.state.load().watch
    assert stored == watch and stored.status == "watching" and stored.training_flagged_share == 0.31
    assert stored.window_s == context.controller_config.watch.window_s and stored.release == GREEN.to_json()


def test_the_cli_follows_the_watch_to_a_rollback_and_fails(ctx) -> None:
    context, lines = ctx
    controller_alive(context)
    watch = start_watch(context, "green", "blue", GREEN, {})
    conclude_later(context, "rolled back", "rolled back to blue: 50% of its 120 scoring requests failed with 5xx")
    assert follow(context, watch, sleep=lambda s: time.sleep(0.05)) == 1
    assert "watching green for 60s" in lines[0]
    assert lines[-1].startswith("  watch of green: ROLLED BACK: rolled back to blue: 50% of its 120")
    assert "120 scoring requests, 60 5xx, p99 12 ms" in lines[-1]


def test_a_passed_watch_ends_the_switch_with_success(ctx) -> None:
    context, lines = ctx
    controller_alive(context)
    watch = start_watch(context, "green", "blue", GREEN, {})
    conclude_later(context, "passed", "green passed its 60s watch")
    assert follow(context, watch, sleep=lambda s: time.sleep(0.05)) == 0
    assert "PASSED" in lines[-1]


def test_without_a_running_controller_the_cli_says_nobody_watches(ctx) -> None:
    context, lines = ctx
    watch = start_watch(context, "green", "blue", GREEN, {})
    assert follow(context, watch) == 0
    assert lines == ["  nobody watches green: the controller is not running (`make up` starts it)"]


def test_not_waiting_is_a_setting_and_only_a_new_watch_is_followed(ctx, tmp_path: Path) -> None:
    context, lines = ctx
    since = time.time()
    assert follow_new_watch(context, since) == 0 and lines == []  # no watch at all
    start_watch(context, "green", "blue", GREEN, {})
    quiet = Context(DeploySettings(**{**context.settings.model_dump(), "DEPLOY_WATCH_WAIT": False}), say=lines.append)
    assert follow_new_watch(quiet, since) == 0
    assert lines == ["  the controller watches green for 60s: `make status` shows the verdict"]
    assert follow_new_watch(context, time.time() + 1) == 0 and len(lines) == 1, "an older watch is not followed"


def test_status_shows_the_controller_and_the_watch(ctx) -> None:
    context, _ = ctx
    assert controller_lines(context.settings, None) == [
        "  controller: never ran (`make up` starts it): no failover, no watch"
    ]
    controller_alive(context, blocked="green fails (3 failed readiness probes) but traffic stays: blue is not healthy")
    watch = start_watch(context, "green", "blue", GREEN, {})
    text = "\n".join(controller_lines(context.settings, replace(watch, figures={"requests": 12})))
    assert "controller: running; probes: blue ready, green FAILING (ConnectTimeout)" in text
    assert "Prometheus UNREACHABLE: Prometheus at http://prometheus:9090 is unreachable" in text
    assert "but traffic stays: blue is not healthy" in text
    assert "watch: green (from blue) since" in text and "for 60s: WATCHING" in text and "requests=12" in text
    old = {"time_ts": time.time() - 100, "colors": {}, "prometheus": {"reachable": True}}
    (context.settings.controller_dir / "status.json").write_text(json.dumps(old))
    assert "NOT RUNNING (last seen 100s ago)" in controller_lines(context.settings, None)[0]
