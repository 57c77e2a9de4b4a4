"""BACKEND_URL and the timeouts come from the environment; bad values are refused with a clear message."""

from __future__ import annotations

import pytest

from analyst_ui.settings import DEFAULT_BACKEND_URL, Settings, SettingsError


def test_defaults_without_environment() -> None:
    settings = Settings.from_env({})
    assert settings.backend_url == DEFAULT_BACKEND_URL == "http://localhost:8000"
    assert 0 < settings.status_timeout <= settings.timeout <= settings.batch_timeout


def test_environment_overrides_and_trailing_slash_is_dropped() -> None:
    settings = Settings.from_env(
        {"BACKEND_URL": "http://backend:8000/", "BACKEND_TIMEOUT": "2.5", "BACKEND_BATCH_TIMEOUT": "30"}
    )
    assert settings.backend_url == "http://backend:8000"
    assert settings.timeout == 2.5
    assert settings.batch_timeout == 30.0


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"BACKEND_URL": "backend:8000"}, "BACKEND_URL"),
        ({"BACKEND_TIMEOUT": "soon"}, "BACKEND_TIMEOUT"),
        ({"BACKEND_STATUS_TIMEOUT": "0"}, "BACKEND_STATUS_TIMEOUT"),
        ({"BACKEND_BATCH_TIMEOUT": "-1"}, "BACKEND_BATCH_TIMEOUT"),
    ],
)
def test_bad_values_name_the_variable(environ: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(environ)
