"""What each CLI subcommand does: up, down, train, deploy, switch, status, logs."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from deploy import bundles
from deploy.compose import Compose, Runner, ServiceStatus, docker_available, stack_services
from deploy.errors import DeployError, UsageError
from deploy.nginx_config import ActiveFile
from deploy.probe import GateError, HttpChecks, serving
from deploy.proxy import ComposeNginx
from deploy.settings import COLORS, MODEL_NAME, DeploySettings, other
from deploy.state import StateFile
from deploy.switch import Switch

BASE_SERVICES = ["mlflow", "nginx"]
HISTORY_SHOWN = 5


@dataclass
class Context:
    """Everything a command works with; built from the settings (tests replace parts)."""

    settings: DeploySettings
    say: Callable[[str], None] = print
    runner: Runner = subprocess.run  # runs docker (injectable for tests)
    state: StateFile = field(init=False)
    active_file: ActiveFile = field(init=False)
    checks: HttpChecks = field(init=False)

    def __post_init__(self) -> None:
        self.state = StateFile(self.settings.state_file)
        self.active_file = ActiveFile(self.settings.nginx_dir)
        self.checks = HttpChecks(self.settings.preview_url, self.settings.public_url)

    def compose(self) -> Compose:
        """A compose runner with every stack's pinned version (read fresh from the state file)."""
        return Compose(self.settings, self.state.load().versions, self.runner)

    def docker_up(self) -> bool:
        return docker_available(self.runner)

    def require_docker(self) -> None:
        if not self.docker_up():
            raise DeployError(
                "the Docker engine is not reachable (`docker info` fails): start it, e.g. "
                "`bash ../shared/tools/docker-engine.sh` on a machine without a registry"
            )

    def require_proxy(self) -> None:
        if not self.compose().running(["nginx"]):
            raise UsageError("the stacks are not up (no nginx container running): run `make up` first")


def git_commit(ctx: Context) -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ctx.settings.root, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() if done.returncode == 0 else "unknown"


def train(ctx: Context) -> int:
    """A new model version, trained in the trainer container against the mlflow service."""
    ctx.require_docker()
    compose = ctx.compose()
    ctx.say(f"train: starting mlflow ({ctx.settings.mlflow_url}), then the trainer job")
    compose.up(["mlflow"])
    compose.train(git_commit(ctx))
    ctx.say(f"train: newest model is v{bundles.newest(ctx.settings.BUNDLES_DIR, MODEL_NAME)}")
    return 0


def up(ctx: Context) -> int:
    """Build images, train if no model exists, start mlflow + the active stack (+ blue) + nginx."""
    started = time.monotonic()
    ctx.require_docker()
    ctx.say("up: [1/4] building images (docker compose build; cached layers are reused)")
    ctx.compose().build()
    active = ctx.active_file.ensure()
    if not bundles.versions(ctx.settings.BUNDLES_DIR, MODEL_NAME):
        ctx.say(f"up: [2/4] no model in {ctx.settings.BUNDLES_DIR}: training one in the trainer container")
        train(ctx)
    else:
        ctx.say(f"up: [2/4] models found in {ctx.settings.BUNDLES_DIR}: no training needed")
    colors = sorted({"blue", active})
    pins = ctx.state.load().versions
    for color in colors:
        version = pins.get(color) or bundles.newest(ctx.settings.BUNDLES_DIR, MODEL_NAME)
        bundles.require(ctx.settings.BUNDLES_DIR, MODEL_NAME, version)
        ctx.state.pin(color, version)
    services = ["mlflow", *[s for color in colors for s in stack_services(color)], "nginx"]
    ctx.say(f"up: [3/4] starting {', '.join(services)} and waiting until healthy")
    ctx.compose().up(services)
    ctx.say(f"up: [4/4] checking that {active} answers on the public port")
    version = ctx.checks.wait_public(active, ctx.settings.DEPLOY_READY_TIMEOUT)
    ctx.say(
        f"up: done in {time.monotonic() - started:.0f}s: {active} serves model v{version}\n"
        f"  analyst UI   http://localhost:{ctx.settings.PUBLIC_PORT}/\n"
        f"  API docs     http://localhost:{ctx.settings.PUBLIC_PORT}/api/docs\n"
        f"  preview      http://localhost:{ctx.settings.PREVIEW_PORT}/  (the idle stack, {other(active)})\n"
        f"  MLflow UI    {ctx.settings.mlflow_url}"
    )
    return 0


def down(ctx: Context) -> int:
    ctx.require_docker()
    ctx.compose().down()
    ctx.say(
        "down: every container stopped and removed; kept: the MLflow volumes (runs, registry), "
        f"{ctx.settings.BUNDLES_DIR} and the state in {ctx.settings.DEPLOY_STATE_DIR}"
    )
    return 0


def require_idle(ctx: Context, color: str) -> None:
    if color == ctx.active_file.active():
        raise UsageError(
            f"{color} receives the traffic: deploy to {other(color)} and switch to it "
            f"(re-creating the active stack would interrupt it)"
        )


def start_stack(ctx: Context, color: str, version: str) -> None:
    """(Re)create the stack `color` serving `version`; never touches nginx. The callers made sure `color`
    is idle (the active stack is never re-created)."""
    bundles.require(ctx.settings.BUNDLES_DIR, MODEL_NAME, version)
    ctx.state.pin(color, version)
    ctx.say(f"deploy: starting {color} with model v{version} (no traffic change)")
    ctx.compose().up(stack_services(color), wait=False, no_deps=True, recreate=True)


def deploy(ctx: Context, color: str, version: str | None) -> int:
    """Start or refresh the idle stack with the newest (or the given) model version; no traffic change."""
    require_idle(ctx, color)
    ctx.require_docker()
    ctx.require_proxy()
    start_stack(ctx, color, version or bundles.newest(ctx.settings.BUNDLES_DIR, MODEL_NAME))
    try:
        served = ctx.checks.wait_ready(color, ctx.settings.DEPLOY_READY_TIMEOUT)
    except GateError as exc:
        ctx.say(f"deploy: {color} is running but NOT ready: {exc}")
        return 1
    ctx.say(
        f"deploy: {color} is ready with model v{served}; try it on http://localhost:{ctx.settings.PREVIEW_PORT}/ "
        f"then `make switch-{color}`"
    )
    return 0


def switch(ctx: Context, color: str) -> int:
    """Deploy `color` if it is not running, then the gated switch (see deploy/switch.py)."""
    ctx.require_docker()
    ctx.require_proxy()
    active = ctx.active_file.active()
    ctx.say(f"switch: {active} -> {color}")
    if color != active:
        newest = bundles.newest(ctx.settings.BUNDLES_DIR, MODEL_NAME)
        pinned = ctx.state.load().versions.get(color)
        if not ctx.compose().running(stack_services(color)):
            start_stack(ctx, color, pinned or newest)
        elif pinned and pinned != newest:
            ctx.say(f"  note: {color} serves v{pinned}; v{newest} is newer (`make deploy-{color}` refreshes it)")
    runner = Switch(
        active_file=ctx.active_file,
        proxy=ComposeNginx(ctx.compose()),
        gates=ctx.checks,
        state=ctx.state,
        ready_timeout=ctx.settings.DEPLOY_READY_TIMEOUT,
        verify_timeout=ctx.settings.DEPLOY_VERIFY_TIMEOUT,
        say=ctx.say,
    )
    outcome = runner.run(color)
    ctx.say(f"switch {active} -> {color}: {outcome.result.upper()} in {outcome.seconds:.1f}s: {outcome.reason}")
    return outcome.exit_code


def _container(statuses: dict[str, ServiceStatus], service: str) -> str:
    status = statuses.get(service)
    if status is None:
        return "absent"
    return f"{status.state}{f' ({status.health})' if status.health else ''}"


def status(ctx: Context) -> int:
    """Active color, each stack's containers, pinned and served model versions, the last switches."""
    settings = ctx.settings
    active = ctx.active_file.active()
    state = ctx.state.load()
    docker_up = ctx.docker_up()
    statuses = ctx.compose().ps() if docker_up else {}
    proxy_up = "nginx" in statuses and statuses["nginx"].state == "running"
    ctx.say(f"project {settings.COMPOSE_PROJECT_NAME}: traffic -> {active}   (state: {settings.DEPLOY_STATE_DIR})")
    if not docker_up:
        ctx.say("  docker: the engine is not reachable; container states unknown")
    for name in BASE_SERVICES:
        ctx.say(f"  {name:<8} {_container(statuses, name)}")
    for color in COLORS:
        role = (
            f"ACTIVE, public :{settings.PUBLIC_PORT}" if color == active else f"idle, preview :{settings.PREVIEW_PORT}"
        )
        answer = serving(settings.public_url if color == active else settings.preview_url) if proxy_up else None
        served = (
            f"serves v{answer.version} ({'ready' if answer.ready else 'NOT ready: ' + answer.detail})"
            if answer and answer.color == color
            else "not answering"
        )
        ctx.say(
            f"  {color:<6} [{role}] pinned model v{state.versions.get(color, '-')}; {served}; backend "
            f"{_container(statuses, f'backend-{color}')}, frontend {_container(statuses, f'frontend-{color}')}"
        )
    try:
        ctx.say(f"  newest model in {settings.BUNDLES_DIR}: v{bundles.newest(settings.BUNDLES_DIR, MODEL_NAME)}")
    except UsageError as exc:
        ctx.say(f"  {exc}")
    history = state.history[-HISTORY_SHOWN:]
    ctx.say(f"last switches ({len(history)} shown, newest last):" if history else "no switch attempted yet")
    for attempt in history:
        ctx.say(
            f"  {attempt.time}  {attempt.source}(v{attempt.source_version or '-'}) -> "
            f"{attempt.target}(v{attempt.target_version or '-'})  {attempt.result:<14} {attempt.seconds:5.1f}s  "
            f"{attempt.reason}"
        )
    return 0


def logs(ctx: Context, services: list[str]) -> int:
    ctx.require_docker()
    return ctx.compose().logs(services)
