"""Settings: one class, every knob from the environment, bad values refused."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.core.config import Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:  # every setting is the environment variable of its name
        monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
    settings = Settings()
    assert settings.SERVED_BUNDLE == Path("models/credit-default/latest")
    assert (settings.DEPLOY_COLOR, settings.MAX_BATCH_ROWS, settings.LOG_LEVEL) == ("blue", 10_000, "INFO")


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVED_BUNDLE", "/bundles/3")
    monkeypatch.setenv("DEPLOY_COLOR", "green")
    monkeypatch.setenv("MAX_BATCH_ROWS", "50")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    settings = Settings()
    assert settings.SERVED_BUNDLE == Path("/bundles/3")
    assert (settings.DEPLOY_COLOR, settings.MAX_BATCH_ROWS, settings.LOG_LEVEL) == ("green", 50, "DEBUG")


@pytest.mark.parametrize(
    "name, value", [("DEPLOY_COLOR", "red"), ("MAX_BATCH_ROWS", "0"), ("LOG_LEVEL", "loud"), ("TOP_FACTORS", "x")]
)
def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name):
        Settings()


def test_the_launcher_builds_uvicorn_config_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from app.__main__ import APP_FACTORY, uvicorn_options

    for name, value in {"HOST": "0.0.0.0", "PORT": "8123", "WORKERS": "2", "TIMEOUT_KEEP_ALIVE_S": "75"}.items():
        monkeypatch.setenv(name, value)
    config = uvicorn.Config(**uvicorn_options(Settings()))
    assert (config.app, config.factory) == (APP_FACTORY, True)
    assert (config.host, config.port, config.workers, config.timeout_keep_alive) == ("0.0.0.0", 8123, 2, 75)
    assert config.access_log is False and config.server_header is False


@pytest.mark.parametrize("name, value", [("PORT", "70000"), ("WORKERS", "0"), ("COALESCE_SINGLE_ROWS", "maybe")])
def test_the_launcher_exits_2_naming_a_bad_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, name: str, value: str
) -> None:
    from app.__main__ import settings_from_env

    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exited:
        settings_from_env()
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: bad setting: ") and name in err and len(err.strip().splitlines()) == 1
