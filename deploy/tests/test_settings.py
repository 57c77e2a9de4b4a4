"""Settings from the environment: defaults, overrides, and clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.errors import UsageError
from deploy.settings import ROOT, DeploySettings, other


def test_defaults_are_the_documented_ports_and_paths() -> None:
    settings = DeploySettings.from_env({})
    assert (settings.project, settings.public_port, settings.preview_port, settings.mlflow_port) == (
        "credit-risk",
        8080,
        8081,
        5000,
    )
    assert settings.state_dir == ROOT / ".deploy" / "credit-risk"
    assert settings.nginx_dir == settings.state_dir / "nginx"
    assert settings.models_dir == ROOT / "models"


def test_environment_overrides_everything(tmp_path: Path) -> None:
    settings = DeploySettings.from_env(
        {
            "COMPOSE_PROJECT_NAME": "e2e",
            "DEPLOY_STATE_DIR": str(tmp_path / "state"),
            "MODELS_HOST_DIR": str(tmp_path / "models"),
            "PUBLIC_PORT": "18080",
            "PREVIEW_PORT": "18081",
            "MLFLOW_PORT": "15000",
            "DEPLOY_READY_TIMEOUT": "7.5",
        }
    )
    assert settings.project == "e2e"
    assert settings.public_url == "http://127.0.0.1:18080"
    assert settings.preview_url == "http://127.0.0.1:18081"
    assert settings.ready_timeout == 7.5
    env = settings.compose_env()
    assert env["PUBLIC_PORT"] == "18080" and env["MLFLOW_PORT"] == "15000"
    assert env["DEPLOY_STATE_DIR"] == str(tmp_path / "state")
    assert env["MODELS_HOST_DIR"] == str(tmp_path / "models")


def test_another_project_gets_its_own_state_directory() -> None:
    assert DeploySettings.from_env({"COMPOSE_PROJECT_NAME": "other"}).state_dir == ROOT / ".deploy" / "other"


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("PUBLIC_PORT", "http", "PUBLIC_PORT must be a TCP port"),
        ("PREVIEW_PORT", "70000", "PREVIEW_PORT must be a TCP port"),
        ("DEPLOY_READY_TIMEOUT", "soon", "DEPLOY_READY_TIMEOUT must be a number"),
        ("DEPLOY_VERIFY_TIMEOUT", "0", "DEPLOY_VERIFY_TIMEOUT must be positive"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        DeploySettings.from_env({name: value})


def test_other_color() -> None:
    assert other("blue") == "green" and other("green") == "blue"
