"""The CLI's context and its housekeeping commands: up, down, train, status, logs, prune.

Rolling releases out (deploy, switch, rollback, release) is in deploy/rollout.py.
"""

from __future__ import annotations

import time

from deploy import bundles, canary, monitoring, shadow, tls
from deploy.compose import ServiceStatus, docker_available, stack_services
from deploy.context import Context, git_commit
from deploy.errors import UsageError
from deploy.images import ensure_release_images
from deploy.mlflow_credentials import CLIENT_FILE
from deploy.networks import clash, free_stack_net, used_subnets
from deploy.nginx_config import EdgeLimits
from deploy.plan import plan_release
from deploy.probe import Expected, serving
from deploy.release import checkout_tag, release_images, short
from deploy.settings import COLORS, MODEL_NAME, other

SHARED_SERVICES = ["mlflow", "nginx", "trainer", "prometheus", "controller"]  # built by `up`; not in a release
MONITORING_SERVICES = ["prometheus", "alertmanager", "controller", "guard"]
HISTORY_SHOWN = 5


def train(ctx: Context) -> int:
    """A new model version, trained in the trainer container against the mlflow service."""
    ctx.require_docker()
    compose = ctx.compose()
    ctx.say(f"train: starting mlflow ({ctx.settings.mlflow_url}), then the trainer job")
    ctx.ensure_credentials()
    compose.up(["mlflow"])
    compose.train(git_commit(ctx))
    ctx.say(f"train: newest model is v{bundles.newest(ctx.settings.BUNDLES_DIR, MODEL_NAME)}")
    return 0


def build(ctx: Context) -> int:
    """Build this checkout's release images (no deploy): for a registry push, or to deploy later."""
    ctx.require_docker()
    tag, dirty = checkout_tag(ctx.settings.root)
    refs = release_images(tag, None)
    how = ensure_release_images(ctx.images, ctx.compose(), refs, tag, tag, None, ctx.say)
    ctx.say(f"build: {how}: {' '.join(refs.values())}{' (uncommitted changes)' if dirty else ''}")
    return 0


def reload_nginx(ctx: Context, limits: EdgeLimits) -> None:
    """nginx re-reads its configuration (new per-client limits): a graceful reload, no connection is closed."""
    done = ctx.compose().exec("nginx", "nginx", "-s", "reload")
    if done.returncode == 0:
        ctx.say(
            f"up: nginx limits each client on /api/ to {limits.rate} requests/s (burst {limits.burst}) and "
            f"{limits.connections} requests at once"
        )
    else:
        ctx.say(f"up: WARNING: nginx did not re-read its limits ({done.stderr.strip()[-200:]}): `make up` again")


def up(ctx: Context) -> int:
    """Shared services built and started, each color on its pinned release (never re-created), nginx in front."""
    started = time.monotonic()
    with ctx.locked("up"):
        tls_changed = tls.install_for(ctx.settings, ctx.say)  # a bad certificate or key: exit 2 before any change
        ctx.require_docker()
        other_network = clash(
            ctx.settings.STACK_NET, used_subnets(ctx.runner), f"{ctx.settings.COMPOSE_PROJECT_NAME}_default"
        )
        if other_network:
            raise UsageError(
                f"the stack network {ctx.settings.STACK_NET}.0/24 overlaps Docker network {other_network!r}: set "
                f"STACK_NET to a free one, e.g. STACK_NET={free_stack_net(used_subnets(ctx.runner))}"
            )
        bounds = ctx.controller_config  # a bad bounds file stops here, before anything changes
        ctx.say(f"up: [1/5] building the shared images ({', '.join(SHARED_SERVICES)}; cached layers are reused)")
        ctx.compose().build(SHARED_SERVICES)
        active = ctx.active_file.ensure(ctx.settings.STACK_NET)
        limits = EdgeLimits.from_settings(ctx.settings)
        limits_changed = ctx.active_file.write_limits(limits)
        alerting_changed = monitoring.write_configs(ctx.settings, bounds)
        ctx.ensure_credentials()
        ctx.compose().up(["mlflow"])
        if not bundles.versions(ctx.settings.BUNDLES_DIR, MODEL_NAME):
            ctx.say(f"up: [2/5] no model in {ctx.settings.BUNDLES_DIR}: training one in the trainer container")
            train(ctx)
        else:
            ctx.say(f"up: [2/5] models found in {ctx.settings.BUNDLES_DIR}: no training needed")
        pins = ctx.state.load().colors
        if not pins:
            ctx.say("up: [3/5] first start: blue gets this checkout's release and the newest model")
            ctx.state.pin("blue", plan_release(ctx, None, None))
            pins = ctx.state.load().colors
        else:
            ctx.say(f"up: [3/5] pinned: {'; '.join(f'{c} {r.describe()}' for c, r in sorted(pins.items()))}")
            for color, release in sorted(pins.items()):
                ensure_release_images(
                    ctx.images, ctx.compose(), release.images, release.tag, None, ctx.settings.REGISTRY, ctx.say
                )
        colors = sorted(pins)
        services = [s for color in colors for s in stack_services(color)]
        ctx.say(
            f"up: [4/5] starting {', '.join(services)} (running containers are left as they are), then nginx, "
            f"{', '.join(MONITORING_SERVICES)}"
        )
        ctx.compose().up(services, keep_existing=True, no_deps=True)
        ctx.compose().up(["nginx"], no_deps=True)
        if limits_changed or tls_changed:
            reload_nginx(ctx, limits)
        ctx.compose().up(MONITORING_SERVICES, no_deps=True)
        if alerting_changed:
            monitoring.reload_alertmanager(ctx.settings, ctx.say)
        ctx.say(f"up: [5/5] checking that {active} answers on the public port")
        release = pins.get(active)
        expected = Expected(release.model_version, release.tag) if release else Expected()
        version = ctx.checks.wait_public(active, ctx.settings.DEPLOY_READY_TIMEOUT, expected)
        ctx.record("up", active, "started", f"{active} serves the public traffic", time.monotonic() - started, release)
    checkout, _ = checkout_tag(ctx.settings.root)
    hint = (
        ""
        if release is None or checkout == release.tag
        else (f"\n  this checkout is {short(checkout)}; `make deploy` builds it and starts it on {other(active)}")
    )
    ctx.say(
        f"up: done in {time.monotonic() - started:.0f}s: {active} serves model v{version}\n"
        f"  analyst UI   https://localhost:{ctx.settings.PUBLIC_PORT}/\n"
        f"  API docs     https://localhost:{ctx.settings.PUBLIC_PORT}/api/docs\n"
        f"  certificate  {tls.describe(ctx.settings)}\n"
        f"  preview      {ctx.settings.preview_url}/  (the idle stack, {other(active)}; plain HTTP)\n"
        f"  MLflow UI    {ctx.settings.mlflow_url}  (user and password: "
        f"{ctx.settings.DEPLOY_STATE_DIR / CLIENT_FILE})\n"
        f"  Prometheus   {ctx.settings.prometheus_url}   Alertmanager {ctx.settings.alertmanager_url}"
        f"{'' if ctx.settings.ALERT_WEBHOOK_URL else '  (no ALERT_WEBHOOK_URL: alerts go nowhere)'}\n"
        f"  controller   probes both colors, fails over and watches switches (`make status`){hint}"
    )
    return 0


def down(ctx: Context) -> int:
    with ctx.locked("down"):
        ctx.require_docker()
        ctx.compose().down()
    ctx.say(
        "down: every container stopped and removed; kept: the MLflow volumes (runs, registry), "
        f"{ctx.settings.BUNDLES_DIR}, the pinned releases and the history in {ctx.settings.DEPLOY_STATE_DIR}"
    )
    return 0


def _container(statuses: dict[str, ServiceStatus], service: str) -> str:
    status = statuses.get(service)
    if status is None:
        return "absent"
    return f"{status.state}{f' ({status.health})' if status.health else ''}"


def status(ctx: Context) -> int:
    """Per color: role, pinned release, what answers (version, revision, readiness), containers; the history."""
    settings = ctx.settings
    active = ctx.active_file.active()
    state = ctx.state.load()
    docker_up = docker_available(ctx.runner)
    statuses = ctx.compose().ps() if docker_up else {}
    proxy_up = "nginx" in statuses and statuses["nginx"].state == "running"
    ctx.say(f"project {settings.COMPOSE_PROJECT_NAME}: traffic -> {active}   (state: {settings.DEPLOY_STATE_DIR})")
    if not docker_up:
        ctx.say("  docker: the engine is not reachable; container states unknown")
    for name in ("mlflow", "nginx", "prometheus", "alertmanager", "controller", "guard"):
        ctx.say(f"  {name:<12} {_container(statuses, name)}")
    for color in COLORS:
        role = (
            f"ACTIVE, public :{settings.PUBLIC_PORT}" if color == active else f"idle, preview :{settings.PREVIEW_PORT}"
        )
        release = state.colors.get(color)
        pinned = f"release {release.describe()}" if release else "nothing deployed"
        url = settings.public_url if color == active else settings.preview_url
        answer = serving(url, ctx.api_key(), settings.public_verify) if proxy_up else None
        if answer and answer.color == color:
            served = f"serves v{answer.version} rev {short(answer.revision or '?')} " + (
                "(ready)" if answer.ready else f"(NOT ready: {answer.detail})"
            )
        else:
            served = "not answering"
        ctx.say(
            f"  {color:<6} [{role}] {pinned}; {served}; backend {_container(statuses, f'backend-{color}')}, "
            f"frontend {_container(statuses, f'frontend-{color}')}"
        )
    try:
        checkout, dirty = checkout_tag(settings.root)
        ctx.say(f"  this checkout: {short(checkout)}{' (uncommitted changes)' if dirty else ''}")
        ctx.say(f"  newest model in {settings.BUNDLES_DIR}: v{bundles.newest(settings.BUNDLES_DIR, MODEL_NAME)}")
    except UsageError as exc:
        ctx.say(f"  {exc}")
    for line in monitoring.controller_lines(settings, state.watch):
        ctx.say(line)
    for line in shadow.status_lines(ctx, proxy_up):
        ctx.say(line)
    for line in canary.status_lines(ctx):
        ctx.say(line)
    history = state.history[-HISTORY_SHOWN:]
    ctx.say(f"last operations ({len(history)} shown, newest last):" if history else "no operation recorded yet")
    for event in history:
        target = event.release("target")
        source = event.release("source")
        sides = f"{event.source or '-'}({source.describe() if source else '-'}) -> {event.target}" + (
            f"({target.describe()})" if target else ""
        )
        ctx.say(
            f"  {event.time}  {event.operation:<8} {sides}  {event.result:<14} {event.seconds:5.1f}s  "
            f"by {event.operator}: {event.reason}"
        )
    return 0


def logs(ctx: Context, services: list[str]) -> int:
    ctx.require_docker()
    return ctx.compose().logs(services)


def prune(ctx: Context, keep: int | None) -> int:
    """Remove the images of releases older than the last `keep` deployed ones; pinned releases always stay."""
    keep = keep or ctx.settings.DEPLOY_KEEP_RELEASES
    with ctx.locked("prune"):
        ctx.require_docker()
        state = ctx.state.load()
        recent: list[str] = []  # deployed release tags, newest first
        for event in reversed(state.history):
            tag = (event.target_release or {}).get("tag")
            if event.operation in ("deploy", "release", "up") and tag and tag not in recent:
                recent.append(tag)
        keep_tags = set(recent[:keep]) | {release.tag for release in state.colors.values()}
        prefix = (ctx.settings.REGISTRY or "credit-risk").rstrip("/")
        stale = sorted(ctx.images.tags_on_disk(prefix) - keep_tags)
        removed = ctx.images.remove(ref for tag in stale for ref in release_images(tag, ctx.settings.REGISTRY).values())
    ctx.say(
        f"prune: kept {len(keep_tags)} release(s) ({', '.join(sorted(short(t) for t in keep_tags)) or 'none'}); "
        f"removed {len(removed)} image(s) of {len(stale)} older release(s)"
    )
    return 0
