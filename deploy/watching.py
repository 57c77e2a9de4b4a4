"""The CLI's side of the watched switch: a successful switch starts a watch (recorded in the state file, judged
by the controller), and `switch`/`release` follow it to its verdict, showing the figures as they come.

The controller does the judging and the rollback, so a watch goes on when the CLI is interrupted; the CLI
only reports. Without a running controller nobody watches, and the CLI says so.
"""

from __future__ import annotations

import time
from typing import Any

from deploy.context import Context
from deploy.monitoring import STATUS_FRESH_S, controller_status
from deploy.release import Release
from deploy.state import WATCHING, WatchRecord, now

PROGRESS_EVERY_S = 10.0
VERDICT_GRACE_S = 30.0  # beyond the window: the controller's last analysis and its write


def controller_running(ctx: Context) -> bool:
    """Whether the controller wrote its status within the last STATUS_FRESH_S seconds."""
    status = controller_status(ctx.settings)
    return status is not None and time.time() - float(status.get("time_ts", 0)) < STATUS_FRESH_S


def start_watch(ctx: Context, color: str, previous: str, release: Release, figures: dict[str, Any]) -> WatchRecord:
    """Record the watch of `color` (under the caller's operation lock): the controller judges it from now on."""
    sanity = figures.get("sanity") if isinstance(figures.get("sanity"), dict) else {}
    watch = WatchRecord(
        color=color,
        previous=previous,
        started=now(),
        started_ts=time.time(),
        window_s=ctx.controller_config.watch.window_s,
        release=release.to_json(),
        training_flagged_share=sanity.get("training_flagged_share"),
    )
    ctx.state.set_watch(watch)
    return watch


def describe(figures: dict[str, Any]) -> str:
    """The watch's figures as an operator reads them."""
    parts = [f"{figures.get('requests', 0)} scoring requests", f"{figures.get('errors_5xx', 0)} 5xx"]
    if figures.get("p99_s") is not None:
        parts.append(f"p99 {figures['p99_s'] * 1000:.0f} ms")
    if figures.get("previous_p99_s") is not None:
        parts.append(f"before {figures['previous_p99_s'] * 1000:.0f} ms")
    if figures.get("flagged_share") is not None:
        parts.append(f"flags {figures['flagged_share']:.0%} of {figures.get('predictions', 0)}")
    return ", ".join(parts)


def follow(ctx: Context, watch: WatchRecord, sleep=time.sleep) -> int:
    """Wait for the controller's verdict on `watch`: 0 when it passed (or could not be judged), 1 when it was
    rolled back or failed."""
    if not controller_running(ctx):
        ctx.say(f"  nobody watches {watch.color}: the controller is not running (`make up` starts it)")
        return 0
    ctx.say(
        f"  [5/5] watching {watch.color} for {watch.window_s:.0f}s on live traffic (the controller rolls back by "
        "itself; Ctrl-C stops only this display, `make status` shows the verdict)"
    )
    deadline = watch.ends_ts + VERDICT_GRACE_S
    shown = time.time()
    while time.time() < deadline:
        current = ctx.state.load().watch
        if current is None or current.started_ts != watch.started_ts:
            ctx.say("        another switch replaced this watch")
            return 0
        if current.status != WATCHING:
            return verdict(ctx, current)
        if time.time() - shown >= PROGRESS_EVERY_S and current.figures:
            shown = time.time()
            ctx.say(f"        {time.time() - watch.started_ts:.0f}s: {describe(current.figures)}")
        sleep(1.0)
    ctx.say(f"  no verdict from the controller within {watch.window_s + VERDICT_GRACE_S:.0f}s: see `make status`")
    return 0


def follow_new_watch(ctx: Context, since: float) -> int:
    """Follow the watch a switch started after `since` (epoch), when DEPLOY_WATCH_WAIT is on."""
    watch = ctx.state.load().watch
    if watch is None or watch.started_ts < since or watch.status != WATCHING:
        return 0
    if not ctx.settings.DEPLOY_WATCH_WAIT:
        ctx.say(f"  the controller watches {watch.color} for {watch.window_s:.0f}s: `make status` shows the verdict")
        return 0
    return follow(ctx, watch)


def verdict(ctx: Context, watch: WatchRecord) -> int:
    ctx.say(f"  watch of {watch.color}: {watch.status.upper()}: {watch.verdict} ({describe(watch.figures)})")
    return 1 if watch.status in ("rolled back", "failed") else 0
