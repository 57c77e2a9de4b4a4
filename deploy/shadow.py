"""Shadow traffic: nginx copies the live /api/predict and /api/predict/batch requests of the public port to the idle
color (its answers are discarded) while the marker `shadow-on` exists in nginx's state directory; the backends log
the copies as source `shadow` and GET /api/monitoring/shadow compares them with what the active color served.

    python -m deploy.cli shadow green|blue   copies to that color (it must be idle, pinned, running and ready)
    python -m deploy.cli shadow off

Both hold the operation lock and go to the history. A deploy, switch, rollback or release turns shadow off first
(stop_before): the copies must never go to the color being replaced or to the one that just served. A move of the
traffic by the controller removes the marker too (ActiveFile.write).
"""

from __future__ import annotations

import time
from typing import Any

from deploy.access import api_get
from deploy.canary_moves import CanaryMoves
from deploy.compose import stack_services
from deploy.context import Context
from deploy.errors import DeployError, UsageError
from deploy.probe import serving
from deploy.settings import COLORS, other

ROUTES = "/api/predict and /api/predict/batch"
STATUS_WINDOW = "1h"


def on(ctx: Context, color: str) -> int:
    """Copy the public port's live scoring requests to `color`, the idle color."""
    started = time.monotonic()
    if color not in COLORS:
        raise UsageError(f"unknown color {color!r} (blue or green); nothing was changed")
    with ctx.locked(f"shadow {color}"):
        ctx.require_docker()
        ctx.require_proxy()
        active = ctx.active_file.active()
        if color == active:
            raise UsageError(
                f"{color} serves the public traffic: shadow copies go to the idle color ({other(color)}); "
                "nothing was changed"
            )
        CanaryMoves(ctx.settings.DEPLOY_STATE_DIR).refuse_while_running("shadow")
        release = ctx.state.load().colors.get(color)
        if release is None:
            raise UsageError(f"nothing is deployed on {color}: `make deploy` first; nothing was changed")
        ctx.say(f"shadow: [1/2] checking that {color} runs {release.describe()} and answers ready on the preview port")
        if not ctx.compose().running(stack_services(color)):
            raise UsageError(f"{color} is not running: `make up` starts it on its pinned release; nothing was changed")
        answer = serving(ctx.settings.preview_url, ctx.api_key())
        if answer.color != color or not answer.ready:
            raise UsageError(f"{color} does not answer ready ({answer.detail or 'no answer'}); nothing was changed")
        ctx.say(f"shadow: [2/2] nginx copies the live {ROUTES} requests of :{ctx.settings.PUBLIC_PORT} to {color}")
        was_on = ctx.active_file.shadow()
        ctx.active_file.set_shadow(color)
        reason = f"{color} ({release.describe()}) gets copies of {active}'s live scoring requests"
        releases = {"target_release": release, "source_release": ctx.state.load().colors.get(active)}
        ctx.record("shadow", color, "on", reason, time.monotonic() - started, source=active, **releases)
    ctx.say(
        f"shadow {color}: ON{' (it was already)' if was_on else ''} in {time.monotonic() - started:.1f}s: {reason}; "
        f"answers discarded; the comparison: `make status` or GET /api/monitoring/shadow?window=1h; `make shadow-off`"
    )
    return 0


def off(ctx: Context) -> int:
    """Stop copying."""
    started = time.monotonic()
    with ctx.locked("shadow off"):
        was_on = ctx.active_file.shadow()
        stop(ctx, "shadow off", started)
    ctx.say(f"shadow: OFF in {time.monotonic() - started:.1f}s{'' if was_on else ' (it was not on)'}")
    return 0


def stop(ctx: Context, operation: str, started: float | None = None) -> None:
    """Under the lock: shadow off (recorded) if it is on; `operation` is what turns it off."""
    if not ctx.active_file.shadow():
        return
    idle = other(ctx.active_file.active())
    ctx.active_file.set_shadow(None)
    reason = "stopped by hand" if operation == "shadow off" else f"stopped before the {operation}"
    ctx.say(f"  shadow copies to {idle}: {reason}")
    ctx.record("shadow", idle, "off", reason, time.monotonic() - started if started else 0.0)


def report(ctx: Context, window: str = STATUS_WINDOW) -> dict[str, Any] | None:
    """The public port's champion vs challenger report (None when it does not answer)."""
    try:
        return api_get(ctx, "/monitoring/shadow", {"window": window})
    except DeployError:
        return None


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def status_lines(ctx: Context, proxy_up: bool) -> list[str]:
    """`make status`'s shadow block: when shadow is on or the last hour has compared applicants."""
    shadowing = ctx.active_file.shadow()
    figures = report(ctx) if proxy_up else None
    if not shadowing and not (figures and figures["rows_compared"]):
        return []
    idle = other(ctx.active_file.active())
    lines = [f"shadow: ON, live scoring copied to {idle} (`make shadow-off`)" if shadowing else "shadow: off"]
    if figures is None:
        return [*lines, "  the report does not answer (GET /api/monitoring/shadow)"]
    champion, challenger = figures["champion"], figures["challenger"]
    if not figures["rows_compared"]:
        return [*lines, f"  no applicant compared in the last {STATUS_WINDOW} yet"]
    lines.append(
        f"  last {STATUS_WINDOW}: {figures['rows_compared']} applicants in {figures['requests_compared']} requests, "
        f"{champion['color']} (served) vs {challenger['color']} (shadow): labels agree "
        f"{_percent(figures['label_agreement'])}, decisions {_percent(figures['decision_agreement'])}, "
        f"|Δ probability| mean {figures['mean_abs_delta']:.4f} p95 {figures['p95_abs_delta']:.4f}"
    )
    for name, side in (("champion", champion), ("challenger", challenger)):
        p95 = "-" if side["p95_seconds"] is None else f"{side['p95_seconds'] * 1000:.1f} ms"
        lines.append(
            f"  {name:<10} {side['color']}: flags {_percent(side['flagged_share'])}, serving p95 {p95}, "
            f"unanswered {side['unanswered']}"
        )
    return lines
