"""Where the stacks live and how they are reached, read from environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from deploy.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent
COLORS = ("blue", "green")
MODEL_NAME = "credit-default"

# The descriptions say what a variable must be: they complete the error message of a bad value.
Port = Annotated[int, Field(ge=1, le=65535, description="a TCP port (1-65535)")]
Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False, description="a number of seconds greater than 0")]
Directory = Annotated[Path, Field(description="a directory path")]


def other(color: str) -> str:
    """The other stack's color."""
    return "green" if color == "blue" else "blue"


class DeploySettings(BaseSettings):
    """Every knob of the CLI; each has an environment variable (docs/deployment.md, Settings).

    `from_env` reads them (empty means default); constructing by attribute name serves tests."""

    model_config = SettingsConfigDict(
        frozen=True, case_sensitive=True, env_ignore_empty=True, str_strip_whitespace=True, validate_by_name=True
    )

    root: ClassVar[Path] = ROOT
    project: str = Field(
        "credit-risk", min_length=1, validation_alias="COMPOSE_PROJECT_NAME", description="a compose project name"
    )
    state_dir: Directory = Field(
        default_factory=lambda data: ROOT / ".deploy" / data["project"],
        validation_alias="DEPLOY_STATE_DIR",
    )
    models_dir: Directory = Field(ROOT / "models", validation_alias="MODELS_HOST_DIR")
    public_port: Port = Field(8080, validation_alias="PUBLIC_PORT")
    preview_port: Port = Field(8081, validation_alias="PREVIEW_PORT")
    mlflow_port: Port = Field(5000, validation_alias="MLFLOW_PORT")
    ready_timeout: Seconds = Field(120.0, validation_alias="DEPLOY_READY_TIMEOUT")
    verify_timeout: Seconds = Field(20.0, validation_alias="DEPLOY_VERIFY_TIMEOUT")
    up_timeout: Seconds = Field(300.0, validation_alias="DEPLOY_UP_TIMEOUT")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> DeploySettings:
        """The settings these variables give; a bad value is a UsageError naming the variable and the value."""
        fields = {field.validation_alias: field for field in cls.model_fields.values()}
        given = {name: environ[name].strip() for name in fields if environ.get(name, "").strip()}
        try:
            return cls.model_validate(given)
        except ValidationError as exc:
            raise UsageError("; ".join(_explain(fields, error) for error in exc.errors())) from None

    @field_validator("state_dir", "models_dir")
    @classmethod
    def _absolute(cls, path: Path) -> Path:
        return path.resolve()

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


def _explain(fields: Mapping[Any, Any], error: Any) -> str:
    """'PUBLIC_PORT must be a TCP port (1-65535), got 'x'' for pydantic's error about that variable."""
    name = error["loc"][0]
    return f"{name} must be {fields[name].description}, got {error['input']!r}"
