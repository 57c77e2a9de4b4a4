"""Where the stacks live and how they are reached, read from environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from deploy.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent
COLORS = ("blue", "green")
MODEL_NAME = "credit-default"


def other(color: str) -> str:
    """The other stack's color."""
    return "green" if color == "blue" else "blue"


@dataclass(frozen=True)
class DeploySettings:
    """Every knob of the CLI; each has an environment variable (docs: README, Deployment)."""

    project: str = "credit-risk"
    root: Path = ROOT
    state_dir: Path = ROOT / ".deploy" / "credit-risk"
    models_dir: Path = ROOT / "models"
    public_port: int = 8080
    preview_port: int = 8081
    mlflow_port: int = 5000
    ready_timeout: float = 120.0
    verify_timeout: float = 20.0
    up_timeout: float = 300.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> DeploySettings:
        project = environ.get("COMPOSE_PROJECT_NAME", "").strip() or cls.project
        state_dir = environ.get("DEPLOY_STATE_DIR", "").strip()
        models_dir = environ.get("MODELS_HOST_DIR", "").strip()
        return cls(
            project=project,
            state_dir=Path(state_dir).resolve() if state_dir else ROOT / ".deploy" / project,
            models_dir=Path(models_dir).resolve() if models_dir else ROOT / "models",
            public_port=_port(environ, "PUBLIC_PORT", cls.public_port),
            preview_port=_port(environ, "PREVIEW_PORT", cls.preview_port),
            mlflow_port=_port(environ, "MLFLOW_PORT", cls.mlflow_port),
            ready_timeout=_seconds(environ, "DEPLOY_READY_TIMEOUT", cls.ready_timeout),
            verify_timeout=_seconds(environ, "DEPLOY_VERIFY_TIMEOUT", cls.verify_timeout),
            up_timeout=_seconds(environ, "DEPLOY_UP_TIMEOUT", cls.up_timeout),
        )

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.public_port}"

    @property
    def preview_url(self) -> str:
        return f"http://127.0.0.1:{self.preview_port}"

    @property
    def mlflow_url(self) -> str:
        return f"http://127.0.0.1:{self.mlflow_port}"

    @property
    def nginx_dir(self) -> Path:
        """Mounted into the nginx container at /etc/nginx/active (holds active.conf)."""
        return self.state_dir / "nginx"

    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.json"

    def compose_env(self) -> dict[str, str]:
        """The variables docker-compose.yml interpolates (besides the model versions)."""
        return {
            "PUBLIC_PORT": str(self.public_port),
            "PREVIEW_PORT": str(self.preview_port),
            "MLFLOW_PORT": str(self.mlflow_port),
            "MODELS_HOST_DIR": str(self.models_dir),
            "DEPLOY_STATE_DIR": str(self.state_dir),
            "HOST_UID": str(os.getuid()),
            "HOST_GID": str(os.getgid()),
        }


def _port(environ: Mapping[str, str], name: str, default: int) -> int:
    text = environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise UsageError(f"{name} must be a TCP port (1-65535), got {text!r}")
    return int(text)


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{name} must be a number of seconds, got {text!r}") from None
    if not value > 0:
        raise UsageError(f"{name} must be positive, got {text!r}")
    return value
