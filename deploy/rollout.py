"""Rolling releases out: deploy to the idle color, the gated switch, rollback, and release (deploy + switch).

Every step that could refuse (a bad tag, an unreachable registry, a model version that does not exist or
does not match what training exported, the active color as target) is checked before anything changes.
A deploy that fails its gates puts the idle color back on its previous release. Each operation holds the
operation lock and is recorded in the history with its operator and the releases on both sides.
"""

from __future__ import annotations

import time

from deploy.canary import refuse_while_running
from deploy.compose import stack_services
from deploy import shadow
from deploy.context import Context
from deploy.errors import DeployError, UsageError
from deploy.images import ensure_release_images
from deploy.model_registry import LIVE_ALIAS
from deploy.plan import plan_release
from deploy.probe import Expected, GateError
from deploy.release import Release, short
from deploy.settings import other
from deploy.state import now, operator
from deploy.switch import Switch, SwitchOutcome
from deploy.watching import follow_new_watch, start_watch


def start_color(ctx: Context, color: str) -> None:
    """(Re)create a color's containers on its pinned release; never touches nginx."""
    ctx.ensure_credentials()
    ctx.compose().up(stack_services(color), wait=False, no_deps=True, recreate=True)


def gate(ctx: Context, color: str, release: Release, force: bool) -> dict:
    """The deploy gates on the preview port: ready with the pinned model and code, the smoke test, and the
    decision-sanity gate; the figures that decided."""
    expected = Expected(release.model_version, release.tag)
    ctx.checks.wait_ready(color, ctx.settings.DEPLOY_READY_TIMEOUT, expected)
    ctx.checks.smoke(color, expected)
    return ctx.sanity_gate(color, release, force)


def restore(ctx: Context, color: str, previous: Release | None) -> str:
    """After a failed deploy: the color back on the release it had (or stopped if it had none)."""
    ctx.state.pin(color, previous)
    if previous is None:
        ctx.compose().stop(stack_services(color))
        return f"{color} stopped (it had no release before)"
    start_color(ctx, color)
    try:
        ctx.checks.wait_ready(color, ctx.settings.DEPLOY_READY_TIMEOUT, Expected(previous.model_version, previous.tag))
    except GateError as exc:
        return f"{color} is back on {previous.describe()} but not ready: {exc}"
    return f"{color} is back on its previous release {previous.describe()}"


def deploy_locked(
    ctx: Context, tag: str | None, model: str | None, color: str | None, operation: str, force: bool = False
) -> int:
    started = time.monotonic()
    ctx.require_docker()
    ctx.require_proxy()
    refuse_while_running(ctx, operation)
    active = ctx.active_file.active()
    target = color or other(active)
    if target == active:
        raise UsageError(
            f"{target} receives the traffic: deploy to {other(target)} and switch to it (re-creating the active "
            "color would interrupt it); nothing was changed"
        )
    ctx.say(f"{operation}: to the idle color {target} (traffic stays on {active})")
    release = plan_release(ctx, tag, model)
    previous = ctx.state.load().colors.get(target)
    shadow.stop(ctx, operation)  # the idle color is about to be re-created
    ctx.say(f"  [3/4] starting {target} on {release.describe()} (no traffic change)")
    ctx.state.pin(target, release)
    try:
        start_color(ctx, target)
        ctx.say(
            f"  [4/4] gates on the preview port: ready (model v{release.model_version}, code "
            f"{short(release.tag)}), smoke test, decision sanity"
        )
        figures = gate(ctx, target, release, force)
    except DeployError as exc:
        ctx.say(f"        FAILED: {exc}")
        restored = restore(ctx, target, previous)
        reason = f"{exc}; {restored}"
        ctx.record(
            operation,
            target,
            "refused",
            reason,
            time.monotonic() - started,
            release,
            active,
            ctx.state.load().colors.get(active),
        )
        ctx.say(f"{operation} {target}: REFUSED in {time.monotonic() - started:.1f}s: {reason}")
        return 1
    ctx.record(
        operation,
        target,
        "deployed",
        f"{target} runs {release.describe()}",
        time.monotonic() - started,
        release,
        active,
        ctx.state.load().colors.get(active),
        figures,
    )
    ctx.model_registry().mark(target, release.model_version, {f"{target}_since": now()}, ctx.say)
    ctx.say(
        f"{operation} {target}: DEPLOYED in {time.monotonic() - started:.1f}s: {release.describe()}; try it on "
        f"{ctx.settings.preview_url}/ then `make switch-{target}`"
    )
    return 0


def switch_locked(ctx: Context, color: str, operation: str, force: bool = False) -> int:
    ctx.require_docker()
    ctx.require_proxy()
    refuse_while_running(ctx, operation)
    release = ctx.state.load().colors.get(color)
    if release is None:
        raise UsageError(f"nothing is deployed on {color}: `make deploy` first; nothing was changed")
    active = ctx.active_file.active()
    ctx.say(f"{operation}: {active} -> {color} ({release.describe()})")
    if color != active:  # copies must not go to the color that served until now
        shadow.stop(ctx, operation)
    if color != active and not ctx.compose().running(stack_services(color)):
        ctx.say(f"  {color} is not running: starting it on its pinned release")
        ensure_release_images(
            ctx.images, ctx.compose(), release.images, release.tag, None, ctx.settings.REGISTRY, ctx.say
        )
        start_color(ctx, color)
    runner = Switch(
        active_file=ctx.active_file,
        gates=ctx.checks,
        state=ctx.state,
        ready_timeout=ctx.settings.DEPLOY_READY_TIMEOUT,
        verify_timeout=ctx.settings.DEPLOY_VERIFY_TIMEOUT,
        say=ctx.say,
        operation=operation,
        sanity=lambda target: ctx.sanity_gate(target, release, force),
    )
    outcome: SwitchOutcome = runner.run(color)
    if outcome.result == "switched":
        if operation != "rollback":  # a rollback goes back to what served before: not watched
            start_watch(ctx, color, active, release, runner.figures)
        tags = {"live_since": now(), "promoted_by": operator(), "promoted_to": color}
        ctx.model_registry().mark(LIVE_ALIAS, release.model_version, tags, ctx.say)
    ctx.say(f"{operation} {active} -> {color}: {outcome.result.upper()} in {outcome.seconds:.1f}s: {outcome.reason}")
    return outcome.exit_code


def deploy(ctx: Context, tag: str | None, model: str | None, color: str | None = None, force: bool = False) -> int:
    """Build or pull a release and start it on the idle color, gated; no traffic change."""
    with ctx.locked("deploy"):
        return deploy_locked(ctx, tag, model, color, "deploy", force)


def switch(ctx: Context, color: str, force: bool = False) -> int:
    """The gated switch of the public traffic to `color`, which must hold a release; then its watch."""
    since = time.time()
    with ctx.locked(f"switch {color}"):
        code = switch_locked(ctx, color, "switch", force)
    return code or follow_new_watch(ctx, since)


def rollback(ctx: Context) -> int:
    """Switch back to the other color, which still holds the previous release."""
    with ctx.locked("rollback"):
        previous = other(ctx.active_file.active())
        if previous not in ctx.state.load().colors:
            raise UsageError(f"nothing to roll back to: {previous} holds no release; nothing was changed")
        return switch_locked(ctx, previous, "rollback")


def release(ctx: Context, tag: str | None, model: str | None, force: bool = False) -> int:
    """Deploy a release to the idle color and, if its gates pass, switch the traffic to it (the release
    workflow's deploy job): every release goes to whichever color is idle, so each one takes traffic."""
    since = time.time()
    with ctx.locked("release"):
        target = other(ctx.active_file.active())
        code = deploy_locked(ctx, tag, model, target, "release", force)
        if code != 0:
            return code
        code = switch_locked(ctx, target, "release", force)
    return code or follow_new_watch(ctx, since)
