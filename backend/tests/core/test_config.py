"""Settings: one class, every knob from the environment, bad values refused."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.core.config import Settings

ENV_NAMES = ("MODEL_DIR", "DEPLOY_COLOR", "MAX_BATCH_ROWS", "MAX_BODY_BYTES", "LOG_LEVEL", "TOP_FACTORS")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
    settings = Settings()
    assert settings.MODEL_DIR == Path("models/credit-default/latest")
    assert (settings.DEPLOY_COLOR, settings.MAX_BATCH_ROWS, settings.LOG_LEVEL) == ("blue", 10_000, "INFO")


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_DIR", "/bundles/3")
    monkeypatch.setenv("DEPLOY_COLOR", "green")
    monkeypatch.setenv("MAX_BATCH_ROWS", "50")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    settings = Settings()
    assert settings.MODEL_DIR == Path("/bundles/3")
    assert (settings.DEPLOY_COLOR, settings.MAX_BATCH_ROWS, settings.LOG_LEVEL) == ("green", 50, "DEBUG")


@pytest.mark.parametrize(
    "name, value", [("DEPLOY_COLOR", "red"), ("MAX_BATCH_ROWS", "0"), ("LOG_LEVEL", "loud"), ("TOP_FACTORS", "x")]
)
def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name):
        Settings()
