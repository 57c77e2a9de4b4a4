"""MLflow's credentials: the tracking server runs MLflow's basic-auth app, whose admin the deploy CLI creates on the
first `make up`. Two files in the state directory (mode 0600, never in the repository or an image):
`mlflow/server.env` for the mlflow service (admin name and password, the CSRF key) and `mlflow/client.env` for
what talks to MLflow (the trainer container, the deploy CLI, `make train` on the host): MLflow's own
MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD. docker-compose.yml reads both as `env_file`s."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

from deploy.files import write_atomic
from deploy.settings import DeploySettings

USERNAME = "admin"
SERVER_FILE = "mlflow/server.env"
CLIENT_FILE = "mlflow/client.env"


def read_env_file(path: Path) -> dict[str, str]:
    """`NAME=value` lines (comments and blank lines skipped); empty when the file is missing or unreadable."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}
    pairs = (line.split("=", 1) for line in lines if "=" in line and not line.lstrip().startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}


def _env_text(values: dict[str, str]) -> str:
    return "".join(f"{name}={value}\n" for name, value in values.items())


def ensure_mlflow_credentials(settings: DeploySettings, say: Callable[[str], None] = print) -> bool:
    """Both files, written where missing (the client's from the server's password, so they always agree); True when
    a new password was made. An existing password is never replaced: MLflow keeps its admin in the mlflow-db
    volume and ignores a new one (docs/deployment.md, Containment, says how to rotate it)."""
    server_path = settings.DEPLOY_STATE_DIR / SERVER_FILE
    client_path = settings.DEPLOY_STATE_DIR / CLIENT_FILE
    server = read_env_file(server_path)
    made = not server.get("MLFLOW_AUTH_ADMIN_PASSWORD")
    if made:
        server = {
            "MLFLOW_AUTH_ADMIN_USERNAME": USERNAME,
            "MLFLOW_AUTH_ADMIN_PASSWORD": secrets.token_urlsafe(32),
            "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets.token_urlsafe(32),
        }
        write_atomic(server_path, _env_text(server), 0o600)
        say(f"credentials: MLflow admin {USERNAME!r} and its password written to {server_path}")
    client = {
        "MLFLOW_TRACKING_USERNAME": server["MLFLOW_AUTH_ADMIN_USERNAME"],
        "MLFLOW_TRACKING_PASSWORD": server["MLFLOW_AUTH_ADMIN_PASSWORD"],
    }
    if made or read_env_file(client_path) != client:
        write_atomic(client_path, _env_text(client), 0o600)
    return made


def client_credentials(settings: DeploySettings) -> dict[str, str]:
    """MLFLOW_TRACKING_USERNAME and _PASSWORD for the stack's MLflow (empty before the first `make up`)."""
    return read_env_file(settings.DEPLOY_STATE_DIR / CLIENT_FILE)
