"""`docker compose` for one project: both compose files, the settings' ports and paths, each color's pinned release."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from datetime import datetime, timezone

from deploy.errors import DeployError
from deploy.release import Release
from deploy.settings import DeploySettings

COMPOSE_FILES = ("docker-compose.yml", "docker-compose.green.yml")
Runner = Callable[..., subprocess.CompletedProcess]


def stack_services(color: str) -> list[str]:
    return [f"backend-{color}", f"frontend-{color}"]


@dataclass(frozen=True)
class ServiceStatus:
    service: str
    state: str  # running, exited, ...
    health: str  # healthy, unhealthy, starting, or "" without a healthcheck


class Compose:
    """Runs docker compose; `runner` is subprocess.run (injectable for tests)."""

    def __init__(
        self, settings: DeploySettings, releases: Mapping[str, Release], runner: Runner = subprocess.run
    ) -> None:
        self.settings = settings
        self.releases = dict(releases)
        self.runner = runner

    def command(self, *args: str) -> list[str]:
        files = [part for name in COMPOSE_FILES for part in ("-f", str(self.settings.root / name))]
        return ["docker", "compose", "-p", self.settings.COMPOSE_PROJECT_NAME, *files, *args]

    def env(self) -> dict[str, str]:
        """os.environ plus the settings, plus each color's pinned release (images and model version), so that no
        command re-creates a stack with other code or another model by accident."""
        env = {**os.environ, **self.settings.compose_env()}
        for color, release in self.releases.items():
            env.update(release_env(color, release))
        return env

    def run(
        self, *args: str, capture: bool = False, check: bool = True, extra_env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess:
        try:
            done = self.runner(
                self.command(*args),
                cwd=self.settings.root,
                env={**self.env(), **(extra_env or {})},
                text=True,
                capture_output=capture,
            )
        except FileNotFoundError:
            raise DeployError("the docker CLI is not installed (see docs/deployment.md)") from None
        if check and done.returncode != 0:
            detail = (done.stderr or done.stdout or "").strip().splitlines()[-3:] if capture else ["see above"]
            raise DeployError(
                f"`docker compose {' '.join(args)}` failed ({done.returncode}): {' | '.join(detail)} "
                "(container logs: `make logs`)"
            )
        return done

    def build(self, services: Sequence[str]) -> None:
        """Build shared services' images (mlflow, nginx, trainer: not part of a release)."""
        self.run("--profile", "train", "build", *services)

    def build_release(self, refs: Mapping[str, str], tag: str) -> None:
        """Build a release's images from this checkout, tagged `refs` (through blue's service definitions: both
        colors build from the same contexts), with the revision as build argument and OCI labels."""
        env = release_env("blue", Release(tag, dict(refs), "unused"))
        env.update(
            RELEASE_TAG=tag,
            RELEASE_CREATED=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            RELEASE_SOURCE=source_url(self.settings.root),
        )
        self.run("build", *(f"{service}-blue" for service in refs), extra_env=env)

    def up(
        self,
        services: Sequence[str],
        wait: bool = True,
        no_deps: bool = False,
        recreate: bool = False,
        keep_existing: bool = False,
    ) -> None:
        """Start services; `keep_existing`: containers that exist are left as they are (never re-created, even
        when their configuration changed: the active color keeps serving)."""
        args = ["up", "--detach"]
        if wait:
            args += ["--wait", "--wait-timeout", str(int(self.settings.DEPLOY_UP_TIMEOUT))]
        if no_deps:
            args.append("--no-deps")
        if recreate:
            args.append("--force-recreate")
        if keep_existing:
            args.append("--no-recreate")
        self.run(*args, *services)

    def train(self, git_commit: str) -> None:
        """One training run in the trainer container (against the mlflow service)."""
        self.run("run", "--rm", "--env", f"GIT_COMMIT={git_commit}", "trainer")

    def stop(self, services: Sequence[str]) -> None:
        self.run("stop", *services)

    def down(self, volumes: bool = False) -> None:
        self.run("--profile", "train", "down", "--remove-orphans", *(["--volumes"] if volumes else []))

    def exec(self, service: str, *args: str) -> subprocess.CompletedProcess:
        """Run a command in a service's container; the result (not checked) with its output."""
        return self.run("exec", "-T", service, *args, capture=True, check=False)

    def logs(self, services: Sequence[str], follow: bool = True) -> int:
        args = ["logs", "--tail", "200", *(["--follow"] if follow else []), *services]
        return self.run(*args, check=False).returncode

    def ps(self) -> dict[str, ServiceStatus]:
        """Containers of the project (running or not), by service."""
        done = self.run("ps", "--all", "--format", "json", capture=True)
        statuses = {}
        for line in done.stdout.splitlines():
            line = line.strip()
            if not line:
                continue
            entries = json.loads(line)
            for entry in entries if isinstance(entries, list) else [entries]:
                statuses[entry["Service"]] = ServiceStatus(entry["Service"], entry["State"], entry.get("Health", ""))
        return statuses

    def running(self, services: Sequence[str]) -> bool:
        statuses = self.ps()
        return all(s in statuses and statuses[s].state == "running" for s in services)


def source_url(root: Path) -> str:
    """Where the code comes from (the `origin` remote), for the images' source label; empty if unknown."""
    try:
        done = subprocess.run(["git", "remote", "get-url", "origin"], cwd=root, capture_output=True, text=True)
    except OSError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def release_env(color: str, release: Release) -> dict[str, str]:
    """The variables the compose files read for one color: its images and its model version."""
    prefix = color.upper()
    env = {f"{prefix}_{service.upper()}_IMAGE": ref for service, ref in release.images.items()}
    env[f"{prefix}_MODEL_VERSION"] = release.model_version
    return env


def docker_available(runner: Runner = subprocess.run) -> bool:
    """The engine answers (`docker info`)."""
    try:
        return runner(["docker", "info"], capture_output=True, text=True, timeout=20).returncode == 0
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return False
