"""What every CLI command works with: settings, docker, the state file, nginx's active file, the HTTP gates,
the images, the model registry, the operation lock and the history."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from deploy.compose import Compose, Runner, docker_available
from deploy.controller_config import ControllerConfig, load_controller_config
from deploy.errors import DeployError, UsageError
from deploy.images import Images
from deploy.lock import operation_lock
from deploy.mlflow_credentials import client_credentials, ensure_mlflow_credentials
from deploy.model_registry import ModelRegistry
from deploy.nginx_config import ActiveFile
from deploy.probe import GateError, HttpChecks
from deploy.release import Release
from deploy.sanity import judge, load_reference, score
from deploy.service_keys import cli_key, ensure_service_keys
from deploy.settings import MODEL_NAME, DeploySettings
from deploy.state import Event, StateFile


@dataclass
class Context:
    """Everything a command works with; built from the settings (tests replace parts)."""

    settings: DeploySettings
    say: Callable[[str], None] = print
    runner: Runner = subprocess.run  # runs docker (injectable for tests)
    registry: ModelRegistry | None = None
    state: StateFile = field(init=False)
    active_file: ActiveFile = field(init=False)
    checks: HttpChecks = field(init=False)
    images: Images = field(init=False)
    _controller_config: ControllerConfig | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.state = StateFile(self.settings.state_file)
        self.active_file = ActiveFile(self.settings.nginx_dir)
        self.checks = HttpChecks(
            self.settings.preview_url,
            self.settings.public_url,
            api_key=lambda: cli_key(self.settings),
            ca_bundle=lambda: self.settings.public_verify,
        )
        self.images = Images(self.runner)
        if self.registry is None:
            self.registry = ModelRegistry(
                self.settings.mlflow_url, MODEL_NAME, credentials=lambda: client_credentials(self.settings)
            )

    def compose(self) -> Compose:
        """A compose runner with every color's pinned release (read fresh from the state file)."""
        return Compose(self.settings, self.state.load().colors, self.runner)

    @contextmanager
    def locked(self, operation: str) -> Iterator[None]:
        with operation_lock(self.settings.DEPLOY_STATE_DIR, operation, self.settings.DEPLOY_LOCK_WAIT, self.say):
            yield

    def api_key(self) -> str | None:
        """The CLI's own API key (None before the first `make up`)."""
        return cli_key(self.settings)

    def ensure_credentials(self) -> None:
        """The key store, the service keys, MLflow's credentials and the directories the stacks mount, before a
        stack starts."""
        ensure_service_keys(self.settings, self.say)
        ensure_mlflow_credentials(self.settings, self.say)
        self.settings.analysts_file.parent.mkdir(parents=True, exist_ok=True)

    def require_docker(self) -> None:
        if not docker_available(self.runner):
            raise DeployError(
                "the Docker engine is not reachable (`docker info` fails): start it, e.g. "
                "`bash ../shared/tools/docker-engine.sh` on a machine without a registry"
            )

    def require_proxy(self) -> None:
        if not self.compose().running(["nginx"]):
            raise UsageError("the stacks are not up (no nginx container running): run `make up` first")

    @property
    def controller_config(self) -> ControllerConfig:
        """The controller's and the sanity gate's bounds (a bad file: UsageError naming it)."""
        if self._controller_config is None:
            self._controller_config = load_controller_config(self.settings.DEPLOY_CONTROLLER_CONFIG)
        return self._controller_config

    def sanity_gate(self, color: str, release: Release, force: bool) -> dict[str, Any]:
        """The decision-sanity gate of `color` (on the preview port) against training's record and the active
        color's answers; GateError unless its decisions are sane or `force`d. The figures that decided."""
        reference = load_reference(self.settings.BUNDLES_DIR / MODEL_NAME / release.model_version)
        if reference is None:
            self.say("        no reference applicants in this bundle (exported before they were): sanity not judged")
            return {"sanity": "not judged: no reference applicants in the bundle"}
        target = score(self.settings.preview_url, reference["applicants"], self.api_key())
        active = None
        if self.active_file.active() != color and self.state.load().colors.get(self.active_file.active()):
            active = score(
                self.settings.public_url, reference["applicants"], self.api_key(), verify=self.settings.public_verify
            )
        verdict = judge(reference, target, active, self.controller_config.sanity)
        figures = {"sanity": verdict.figures}
        flagged = verdict.figures["flagged_share"]
        if verdict.problems and not force:
            raise GateError(f"decision sanity of {color}: {'; '.join(verdict.problems)} (--force overrides)")
        if verdict.problems:
            self.say(f"        FORCED past the sanity gate: {'; '.join(verdict.problems)}")
            figures["sanity_forced"] = verdict.problems
        self.say(
            f"        sane: flags {flagged:.0%} of {verdict.figures['rows']} reference applicants "
            f"(training {verdict.figures['training_flagged_share']:.0%})"
        )
        return figures

    def model_registry(self) -> ModelRegistry:
        assert self.registry is not None
        return self.registry

    def record(
        self,
        operation: str,
        target: str,
        result: str,
        reason: str,
        seconds: float,
        target_release: Release | None = None,
        source: str | None = None,
        source_release: Release | None = None,
        figures: dict[str, Any] | None = None,
    ) -> None:
        """Add an operation to the history, with who ran it and the release on each side."""
        self.state.record(
            Event.happening(operation, target, source, result, reason, seconds, target_release, source_release, figures)
        )


def git_commit(ctx: Context) -> str:
    """The checkout's commit, recorded with a training run ("unknown" outside git)."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ctx.settings.root, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() if done.returncode == 0 else "unknown"
