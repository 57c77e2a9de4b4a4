"""Where the stacks live and how they are reached, read from environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from deploy.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent
COLORS = ("blue", "green")
MODEL_NAME = "credit-default"
CA_BUNDLE = "ca.pem"  # in tls_dir: what clients verify the public port against (deploy/tls.py writes it)

# The descriptions say what a variable must be: they complete the error message of a bad value.
Port = Annotated[int, Field(ge=1, le=65535, description="a TCP port (1-65535)")]
Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False, description="a number of seconds greater than 0")]
Directory = Annotated[Path, Field(description="a directory path")]
WaitSeconds = Annotated[float, Field(ge=0, allow_inf_nan=False, description="a number of seconds (0 or more)")]
Count = Annotated[int, Field(ge=1, le=1000, description="a whole number from 1 to 1000")]
Limit = Annotated[int, Field(ge=1, le=1_000_000, description="a whole number from 1 to 1000000")]
# nginx refuses a limit_conn of 65536 or more (its configuration test fails, nginx never becomes healthy).
Connections = Annotated[int, Field(ge=1, le=65535, description="a whole number from 1 to 65535")]
NetworkPrefix = Annotated[
    str,
    Field(
        pattern=r"^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){2}$",
        description="the first three numbers of a private /24 network, e.g. 172.30.77",
    ),
]
WebhookUrl = Annotated[str, Field(pattern=r"^https?://[^\s/]+(/\S*)?$")]
RegistryPath = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9][a-z0-9.-]*(:[0-9]+)?(/[a-z0-9][a-z0-9._-]*)*$",
        description="an image registry path without scheme, lowercase (e.g. ghcr.io/owner/repo)",
    ),
]


def other(color: str) -> str:
    """The other stack's color."""
    return "green" if color == "blue" else "blue"


class DeploySettings(BaseSettings):
    """Every knob of the CLI; each field is the environment variable of its name (docs/deployment.md, Settings).

    `from_env` reads them from a mapping (the process environment by default; empty means default) and
    turns a bad value into a UsageError naming the variable and the value."""

    model_config = SettingsConfigDict(
        frozen=True, case_sensitive=True, env_ignore_empty=True, str_strip_whitespace=True
    )

    root: ClassVar[Path] = ROOT
    COMPOSE_PROJECT_NAME: str = Field("credit-risk", min_length=1, description="a compose project name")
    DEPLOY_STATE_DIR: Directory = Field(default_factory=lambda data: ROOT / ".deploy" / data["COMPOSE_PROJECT_NAME"])
    BUNDLES_DIR: Directory = ROOT / "models"  # the directory of exported bundles
    PUBLIC_PORT: Port = 8080
    PREVIEW_PORT: Port = 8081
    MLFLOW_PORT: Port = 5000
    DEPLOY_READY_TIMEOUT: Seconds = 120.0
    DEPLOY_VERIFY_TIMEOUT: Seconds = 20.0
    DEPLOY_UP_TIMEOUT: Seconds = 300.0
    DEPLOY_LOCK_WAIT: WaitSeconds = 0.0
    DEPLOY_KEEP_RELEASES: Count = 3
    REGISTRY: RegistryPath | None = None
    STACK_NET: NetworkPrefix = "172.30.77"
    DEPLOY_CONTROLLER_CONFIG: Path = ROOT / "deploy" / "controller.yaml"
    DEPLOY_WATCH_WAIT: bool = True  # `switch`/`release` wait for the controller's watch verdict
    PROMETHEUS_PORT: Port = 9090
    ALERTMANAGER_PORT: Port = 9093
    ALERT_WEBHOOK_URL: WebhookUrl | None = Field(None, description="an http(s) URL (where alerts are posted)")
    DOCKER_SOCKET: Path = Path("/var/run/docker.sock")
    # Per client address on the public port's /api/ (nginx; docs/deployment.md, "Public edge hardening").
    API_RATE_PER_CLIENT: Limit = 500  # requests per second, sustained
    API_BURST_PER_CLIENT: Limit = 1000  # requests above the rate served at once before 429s
    API_CONNECTIONS_PER_CLIENT: Connections = 64  # requests in progress at once
    # The public port's TLS (docs/deployment.md, "Public edge hardening"): none given, `up` makes a self-signed pair.
    TLS_CERT_FILE: Path | None = Field(None, description="a PEM certificate file (with TLS_KEY_FILE)")
    TLS_KEY_FILE: Path | None = Field(None, description="a PEM private key file (with TLS_CERT_FILE)")
    TLS_CA_FILE: Path | None = Field(None, description="a PEM bundle the CLI verifies the public port against")
    PUBLIC_HOST: str = Field("127.0.0.1", pattern=r"^[A-Za-z0-9.:-]+$", description="a host name the certificate names")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> DeploySettings:
        """The settings these variables give; a bad value is a UsageError naming the variable and the value."""
        given = {name: environ[name].strip() for name in cls.model_fields if environ.get(name, "").strip()}
        try:
            return cls.model_validate(given)
        except ValidationError as exc:
            raise UsageError("; ".join(_explain(cls.model_fields, error) for error in exc.errors())) from None

    @field_validator("DEPLOY_STATE_DIR", "BUNDLES_DIR")
    @classmethod
    def _absolute(cls, path: Path) -> Path:
        return path.resolve()

    @model_validator(mode="after")
    def _tls_pair(self) -> DeploySettings:
        if (self.TLS_CERT_FILE is None) != (self.TLS_KEY_FILE is None):
            raise UsageError("TLS_CERT_FILE and TLS_KEY_FILE go together: give both or neither")
        return self

    @property
    def public_url(self) -> str:
        """The public port over HTTPS, as the CLI and the tests reach it (verify with `public_verify`)."""
        host = f"[{self.PUBLIC_HOST}]" if ":" in self.PUBLIC_HOST else self.PUBLIC_HOST
        return f"https://{host}:{self.PUBLIC_PORT}"

    @property
    def tls_dir(self) -> Path:
        """The public port's certificate and key (mounted read-only into nginx at /etc/nginx/tls; deploy/tls.py)."""
        return self.DEPLOY_STATE_DIR / "tls"

    @property
    def tls_given(self) -> tuple[Path, Path] | None:
        """TLS_CERT_FILE and TLS_KEY_FILE, None when `up` is to make a self-signed pair."""
        return (self.TLS_CERT_FILE, self.TLS_KEY_FILE) if self.TLS_CERT_FILE and self.TLS_KEY_FILE else None

    @property
    def public_verify(self) -> str | bool:
        """What requests' `verify=` is for the public port: the CA bundle `up` wrote (the self-signed certificate
        or TLS_CA_FILE), else True (the system's trust store, for a certificate from a public authority)."""
        bundle = self.tls_dir / CA_BUNDLE
        return str(bundle) if bundle.is_file() else True

    @property
    def preview_url(self) -> str:
        return f"http://127.0.0.1:{self.PREVIEW_PORT}"

    @property
    def mlflow_url(self) -> str:
        return f"http://127.0.0.1:{self.MLFLOW_PORT}"

    @property
    def prometheus_url(self) -> str:
        return f"http://127.0.0.1:{self.PROMETHEUS_PORT}"

    @property
    def alertmanager_url(self) -> str:
        return f"http://127.0.0.1:{self.ALERTMANAGER_PORT}"

    @property
    def controller_dir(self) -> Path:
        """The controller's bounds (a copy, written by `up`) and its status.json, in the state directory."""
        return self.DEPLOY_STATE_DIR / "controller"

    @property
    def alertmanager_dir(self) -> Path:
        """Alertmanager's configuration (written by `up`) and data, in the state directory."""
        return self.DEPLOY_STATE_DIR / "alertmanager"

    @property
    def nginx_dir(self) -> Path:
        """Mounted into the nginx container at /etc/nginx/active (holds active.conf)."""
        return self.DEPLOY_STATE_DIR / "nginx"

    @property
    def state_file(self) -> Path:
        return self.DEPLOY_STATE_DIR / "state.json"

    @property
    def api_keys_file(self) -> Path:
        """The API key store (hashes), in auth/: mounted read-only into the backends at /auth."""
        return self.DEPLOY_STATE_DIR / "auth" / "api-keys.json"

    @property
    def analysts_file(self) -> Path:
        """The analyst UI's user store, in ui/: mounted read-only into the frontends at /ui (with the UI's key)."""
        return self.DEPLOY_STATE_DIR / "ui" / "users.json"

    def compose_env(self) -> dict[str, str]:
        """The variables docker-compose.yml interpolates (besides the model versions)."""
        return {
            "PUBLIC_PORT": str(self.PUBLIC_PORT),
            "PREVIEW_PORT": str(self.PREVIEW_PORT),
            "MLFLOW_PORT": str(self.MLFLOW_PORT),
            "BUNDLES_DIR": str(self.BUNDLES_DIR),
            "DEPLOY_STATE_DIR": str(self.DEPLOY_STATE_DIR),
            "STACK_NET": self.STACK_NET,
            "HOST_UID": str(os.getuid()),
            "HOST_GID": str(os.getgid()),
            "COMPOSE_PROJECT_NAME": self.COMPOSE_PROJECT_NAME,
            "PROMETHEUS_PORT": str(self.PROMETHEUS_PORT),
            "ALERTMANAGER_PORT": str(self.ALERTMANAGER_PORT),
            "DOCKER_SOCKET": str(self.DOCKER_SOCKET),
            "DOCKER_GID": str(self.DOCKER_SOCKET.stat().st_gid if self.DOCKER_SOCKET.exists() else 0),
        }


def _explain(fields: Mapping[str, Any], error: Any) -> str:
    """'PUBLIC_PORT must be a TCP port (1-65535), got 'x'' for pydantic's error about that variable."""
    name = error["loc"][0]
    return f"{name} must be {fields[name].description or 'valid'}, got {error['input']!r}"
