"""Settings from the environment: defaults, overrides, and clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from deploy.errors import UsageError
from deploy.settings import ROOT, DeploySettings, other


def test_defaults_are_the_documented_ports_and_paths() -> None:
    settings = DeploySettings.from_env({})
    assert (settings.COMPOSE_PROJECT_NAME, settings.PUBLIC_PORT, settings.PREVIEW_PORT, settings.MLFLOW_PORT) == (
        "credit-risk",
        8080,
        8081,
        5000,
    )
    assert settings.DEPLOY_STATE_DIR == ROOT / ".deploy" / "credit-risk"
    assert settings.nginx_dir == settings.DEPLOY_STATE_DIR / "nginx"
    assert settings.BUNDLES_DIR == ROOT / "models"


def test_environment_overrides_everything(tmp_path: Path) -> None:
    settings = DeploySettings.from_env(
        {
            "COMPOSE_PROJECT_NAME": "e2e",
            "DEPLOY_STATE_DIR": str(tmp_path / "state"),
            "BUNDLES_DIR": str(tmp_path / "models"),
            "PUBLIC_PORT": "18080",
            "PREVIEW_PORT": "18081",
            "MLFLOW_PORT": "15000",
            "DEPLOY_READY_TIMEOUT": "7.5",
        }
    )
    assert settings.COMPOSE_PROJECT_NAME == "e2e"
    assert settings.public_url == "https://127.0.0.1:18080"
    assert settings.preview_url == "http://127.0.0.1:18081"
    assert settings.DEPLOY_READY_TIMEOUT == 7.5
    env = settings.compose_env()
    assert env["PUBLIC_PORT"] == "18080" and env["MLFLOW_PORT"] == "15000"
    assert env["DEPLOY_STATE_DIR"] == str(tmp_path / "state")
    assert env["BUNDLES_DIR"] == str(tmp_path / "models")


def test_another_project_gets_its_own_state_directory() -> None:
    assert DeploySettings.from_env({"COMPOSE_PROJECT_NAME": "other"}).DEPLOY_STATE_DIR == ROOT / ".deploy" / "other"


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("PUBLIC_PORT", "http", "PUBLIC_PORT must be a TCP port"),
        ("PREVIEW_PORT", "70000", "PREVIEW_PORT must be a TCP port"),
        ("DEPLOY_READY_TIMEOUT", "soon", "DEPLOY_READY_TIMEOUT must be a number"),
        ("DEPLOY_VERIFY_TIMEOUT", "0", "DEPLOY_VERIFY_TIMEOUT must be a number of seconds greater than 0, got '0'"),
        ("DEPLOY_UP_TIMEOUT", "-1", "DEPLOY_UP_TIMEOUT must be a number of seconds greater than 0"),
        ("ALERT_WEBHOOK_URL", "hooks.example/x", "ALERT_WEBHOOK_URL must be an http\\(s\\) URL"),
        ("PROMETHEUS_PORT", "0", "PROMETHEUS_PORT must be a TCP port"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        DeploySettings.from_env({name: value})


def test_every_bad_value_is_named_on_one_line() -> None:
    with pytest.raises(UsageError) as raised:
        DeploySettings.from_env({"PUBLIC_PORT": "0", "MLFLOW_PORT": "5000x"})
    assert str(raised.value) == (
        "PUBLIC_PORT must be a TCP port (1-65535), got '0'; MLFLOW_PORT must be a TCP port (1-65535), got '5000x'"
    )


def test_empty_or_blank_values_mean_the_default_and_values_are_stripped() -> None:
    settings = DeploySettings.from_env(
        {"COMPOSE_PROJECT_NAME": "", "PUBLIC_PORT": "  ", "DEPLOY_STATE_DIR": "", "PREVIEW_PORT": " 9091 "}
    )
    assert (settings.COMPOSE_PROJECT_NAME, settings.PUBLIC_PORT, settings.PREVIEW_PORT) == ("credit-risk", 8080, 9091)
    assert settings.DEPLOY_STATE_DIR == ROOT / ".deploy" / "credit-risk"


def test_only_the_documented_variable_names_count() -> None:
    settings = DeploySettings.from_env({"compose_project_name": "lower", "public_port": "1", "ROOT": "/elsewhere"})
    assert (settings.COMPOSE_PROJECT_NAME, settings.PUBLIC_PORT, settings.root) == ("credit-risk", 8080, ROOT)


def test_relative_directories_are_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = DeploySettings.from_env({"BUNDLES_DIR": "models", "DEPLOY_STATE_DIR": "state"})
    assert (settings.BUNDLES_DIR, settings.DEPLOY_STATE_DIR) == (tmp_path / "models", tmp_path / "state")


def test_direct_construction_is_validated_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEPLOY_STATE_DIR", raising=False)
    assert DeploySettings(COMPOSE_PROJECT_NAME="unit").DEPLOY_STATE_DIR == ROOT / ".deploy" / "unit"
    with pytest.raises(ValidationError):
        DeploySettings(PUBLIC_PORT=70000)


def test_other_color() -> None:
    assert other("blue") == "green" and other("green") == "blue"
