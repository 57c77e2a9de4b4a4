"""MLflow's credentials: made once into the state directory (0600), the client's always the server's, never
replaced; the deploy CLI's registry client signs in with them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from deploy.context import Context
from deploy.mlflow_credentials import (
    CLIENT_FILE,
    SERVER_FILE,
    client_credentials,
    ensure_mlflow_credentials,
    read_env_file,
)
from deploy.settings import DeploySettings


@pytest.fixture()
def settings(tmp_path: Path) -> DeploySettings:
    return DeploySettings.from_env({"DEPLOY_STATE_DIR": str(tmp_path / "state")})


def test_the_first_start_makes_a_password_only_the_host_user_reads(settings: DeploySettings) -> None:
    said: list[str] = []
    assert client_credentials(settings) == {}
    assert ensure_mlflow_credentials(settings, said.append) is True
    server = read_env_file(settings.DEPLOY_STATE_DIR / SERVER_FILE)
    client = client_credentials(settings)
    assert client == {
        "MLFLOW_TRACKING_USERNAME": server["MLFLOW_AUTH_ADMIN_USERNAME"],
        "MLFLOW_TRACKING_PASSWORD": server["MLFLOW_AUTH_ADMIN_PASSWORD"],
    }
    assert len(server["MLFLOW_AUTH_ADMIN_PASSWORD"]) >= 32 and len(server["MLFLOW_FLASK_SERVER_SECRET_KEY"]) >= 32
    for name in (SERVER_FILE, CLIENT_FILE):
        assert stat.S_IMODE((settings.DEPLOY_STATE_DIR / name).stat().st_mode) == 0o600, name
    assert said and server["MLFLOW_AUTH_ADMIN_PASSWORD"] not in said[0], "the password is never printed"


def test_an_existing_password_is_kept_and_a_lost_client_file_comes_back(settings: DeploySettings) -> None:
    ensure_mlflow_credentials(settings, print)
    first = client_credentials(settings)
    (settings.DEPLOY_STATE_DIR / CLIENT_FILE).unlink()
    assert ensure_mlflow_credentials(settings, print) is False
    assert client_credentials(settings) == first


def test_the_cli_makes_them_with_the_other_credentials_and_its_registry_signs_in(
    settings: DeploySettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        monkeypatch.setenv(name, "stale")  # restored after the test; the stack's credentials win over it
    ctx = Context(settings, say=lambda line: None)
    ctx.ensure_credentials()
    registry = ctx.model_registry()
    registry.client  # noqa: B018 - the client is made on first use, signed in
    assert {name: os.environ[name] for name in client_credentials(settings)} == client_credentials(settings)


def test_an_env_file_skips_comments_and_a_missing_one_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "x.env"
    path.write_text("# comment\n\nA=1\nB = two=2\n")
    assert read_env_file(path) == {"A": "1", "B": "two=2"}
    assert read_env_file(tmp_path / "missing.env") == {}
