"""The CLI's canary: `canary COLOR --steps 10,50,100` gates the idle color, records the canary and sets its first
weight, then follows the controller, which judges each step and moves to the next weight, aborts or promotes by
itself (deploy/controller/canary.py); `promote` and `abort` end it by hand. `status` shows it.

Nothing changes unless every check passes: the color idle, running on a pinned release, ready and sane on the
preview port, no other operation or canary or watch running, the controller running and Prometheus answering.
"""

from __future__ import annotations

import time

from deploy import shadow
from deploy.canary_moves import CanaryMoves
from deploy.canary_record import RUNNING, CanaryRecord, parse_steps
from deploy.compose import stack_services
from deploy.context import Context
from deploy.controller.canary import UNJUDGED_AFTER
from deploy.errors import UsageError
from deploy.model_registry import LIVE_ALIAS
from deploy.probe import Expected, GateError
from deploy.prometheus import Prometheus
from deploy.settings import other
from deploy.state import WATCHING, now, operator
from deploy.watching import controller_running, describe

PROGRESS_EVERY_S = 10.0
VERDICT_GRACE_S = 30.0


def describe_figures(figures: dict) -> str:
    """A step's analysis as an operator reads it: the watch's figures, the stable color's p99 and the score PSI."""
    parts = [describe(figures)]
    if figures.get("stable_p99_s") is not None:
        parts.append(f"stable p99 {figures['stable_p99_s'] * 1000:.0f} ms")
    if figures.get("score_psi") is not None:
        parts.append(f"score PSI {figures['score_psi']:.3f}")
    return ", ".join(parts)


def moves(ctx: Context) -> CanaryMoves:
    return CanaryMoves(ctx.settings.DEPLOY_STATE_DIR)


def refuse_while_running(ctx: Context, operation: str) -> None:
    """A deploy or switch while a canary runs would re-create the color taking its share, or flip the split onto
    the stable color; shadow copies would go to a color taking live traffic: UsageError until it is promoted or
    aborted."""
    moves(ctx).refuse_while_running(operation)


def check_start(ctx: Context, color: str) -> None:
    """Why a canary of `color` cannot start now (UsageError), before anything changes."""
    active = ctx.active_file.active()
    if color == active:
        raise UsageError(
            f"{color} receives the traffic: a canary runs on the idle color {other(color)}; nothing changed"
        )
    refuse_while_running(ctx, "canary")
    state = ctx.state.load()
    if state.watch is not None and state.watch.status == WATCHING:
        raise UsageError(f"the controller still watches the switch to {state.watch.color}; nothing was changed")
    if color not in state.colors:
        raise UsageError(f"nothing is deployed on {color}: `make deploy` first; nothing was changed")
    if not ctx.compose().running(stack_services(color)):
        raise UsageError(f"{color} is not running: `make deploy` starts it; nothing was changed")
    if not controller_running(ctx):
        raise UsageError("the controller is not running (nobody would judge the steps): `make up`; nothing changed")
    if not Prometheus(ctx.settings.prometheus_url).ready():
        raise UsageError(
            f"Prometheus at {ctx.settings.prometheus_url} is unreachable: a canary is judged on its metrics; "
            "nothing was changed"
        )


def start(ctx: Context, color: str, steps_text: str, force: bool = False) -> int:
    """Start a canary of the idle `color` through `steps` and follow it: 0 promoted, 1 aborted or refused."""
    steps = parse_steps(steps_text)
    started = time.monotonic()
    with ctx.locked(f"canary {color}"):
        ctx.require_docker()
        ctx.require_proxy()
        check_start(ctx, color)
        stable = ctx.active_file.active()
        release = ctx.state.load().colors[color]
        ctx.say(f"canary: {color} ({release.describe()}) against {stable}, steps {', '.join(f'{w}%' for w in steps)}")
        ctx.say(f"  [1/2] gates on the preview port: ready, smoke test, decision sanity of {color}")
        try:
            ctx.checks.wait_ready(
                color, ctx.settings.DEPLOY_READY_TIMEOUT, Expected(release.model_version, release.tag)
            )
            ctx.checks.smoke(color, Expected(release.model_version, release.tag))
            figures = ctx.sanity_gate(color, release, force)
        except GateError as exc:
            reason = f"{exc}; traffic stays on {stable}, nginx untouched"
            ctx.record("canary", color, "refused", reason, time.monotonic() - started, release, stable)
            ctx.say(f"canary {color}: REFUSED: {reason}")
            return 1
        shadow.stop(ctx, f"canary {color}")  # the copies would go to the color that takes a share
        bounds = ctx.controller_config.canary
        record = CanaryRecord(
            color=color,
            stable=stable,
            steps=steps,
            started=now(),
            started_ts=time.time(),
            step_window_s=bounds.step_window_s,
            release=release.to_json(),
            step_started_ts=time.time(),
        )
        ctx.say(f"  [2/2] {steps[0]}% of the public traffic to {color} (bucket files, renamed over; no reload)")
        moves(ctx).begin(record, f"{steps[0]}% of the public traffic on {color}", {**figures, "steps": steps})
    return follow(ctx, record)


def follow(ctx: Context, record: CanaryRecord, sleep=time.sleep) -> int:
    """Print the controller's progress on the canary until it ends: 0 promoted, 1 otherwise."""
    ctx.say(
        f"  the controller judges each step over {record.step_window_s:.0f}s (every analysis: 5xx ratio, p99 vs "
        f"{record.stable}, score PSI) and steps, aborts or promotes by itself; Ctrl-C stops only this display"
    )
    deadline = time.time() + len(record.steps) * (UNJUDGED_AFTER * record.step_window_s) + VERDICT_GRACE_S
    step, shown = -1, time.time()
    while time.time() < deadline:
        current = moves(ctx).record_file.load()
        if current is None or current.started_ts != record.started_ts:
            ctx.say("  another canary replaced this one: see `make status`")
            return 1
        if current.status != RUNNING:
            return summary(ctx, current)
        if current.step != step:
            step, shown = current.step, time.time()
            ctx.say(f"  {current.describe()}: {current.steps[current.step]}% of the public traffic on {current.color}")
        elif time.time() - shown >= PROGRESS_EVERY_S and current.figures:
            shown = time.time()
            elapsed = time.time() - current.step_started_ts
            ctx.say(f"        {elapsed:.0f}s into the step: {describe_figures(current.figures)}")
        sleep(1.0)
    ctx.say("  no verdict from the controller in time: the canary may still run; see `make status`")
    return 1


def summary(ctx: Context, record: CanaryRecord) -> int:
    events = [e for e in ctx.state.load().history if e.operation == "canary" and e.result == "stepped"]
    passed = [e for e in events if e.time >= record.started]
    ctx.say(f"canary {record.color}: {record.status.upper()} after {len(passed)} passed step(s): {record.verdict}")
    if record.figures:
        ctx.say(f"  last analysis: {describe_figures(record.figures)}")
    if record.status != "promoted":
        return 1
    mark_live(ctx, record)
    return 0


def mark_live(ctx: Context, record: CanaryRecord) -> None:
    """The registry's `live` alias on the promoted model, as a switch sets it (a failing registry only warns)."""
    release = ctx.state.load().colors.get(record.color)
    if release is not None:
        tags = {"live_since": now(), "promoted_by": operator(), "promoted_to": record.color}
        ctx.model_registry().mark(LIVE_ALIAS, release.model_version, tags, ctx.say)


def end_by_hand(ctx: Context, how: str) -> int:
    """`promote` (the canary color becomes active) or `abort` (all traffic on the stable color), by an operator."""
    with ctx.locked(how):
        record = moves(ctx).record_file.running()
        if record is None:
            raise UsageError(f"no canary is running: nothing to {how}; nothing was changed")
        reason = f"{'promoted' if how == 'promote' else 'aborted'} by hand by {operator()}"
        if how == "promote":
            release = ctx.state.load().colors[record.color]
            ctx.checks.wait_ready(
                record.color, ctx.settings.DEPLOY_VERIFY_TIMEOUT, Expected(release.model_version, release.tag)
            )
            ended = moves(ctx).promote(record, reason, record.figures)
            mark_live(ctx, ended)
        else:
            ended = moves(ctx).abort(record, reason, record.figures)
    ctx.say(f"{how}: {ended.verdict}")
    return 0


def status_lines(ctx: Context) -> list[str]:
    """The running (or last) canary for `make status`."""
    record = moves(ctx).record_file.load()
    if record is None:
        return []
    if record.status != RUNNING:
        return [f"  last canary ({record.color}, {record.started}): {record.status}: {record.verdict}"]
    figures = f"; last analysis {record.checked}: {describe_figures(record.figures)}" if record.figures else ""
    return [
        f"  canary RUNNING: {record.describe()} (steps {record.steps}, {split_weight(ctx)}% in nginx), "
        f"{record.stable} stable{figures}"
    ]


def split_weight(ctx: Context) -> int:
    return moves(ctx).split.weight()
