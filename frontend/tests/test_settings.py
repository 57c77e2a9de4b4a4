"""BACKEND_URL and the timeouts come from the environment; bad values are refused with a clear message."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from analyst_ui.settings import DEFAULT_BACKEND_URL, Settings, SettingsError


def test_defaults_without_environment() -> None:
    settings = Settings.from_env({})
    assert settings.BACKEND_URL == DEFAULT_BACKEND_URL == "http://localhost:8000"
    assert 0 < settings.BACKEND_STATUS_TIMEOUT <= settings.BACKEND_TIMEOUT <= settings.BACKEND_BATCH_TIMEOUT


def test_environment_overrides_and_trailing_slash_is_dropped() -> None:
    settings = Settings.from_env(
        {"BACKEND_URL": "http://backend:8000/", "BACKEND_TIMEOUT": "2.5", "BACKEND_BATCH_TIMEOUT": "30"}
    )
    assert settings.BACKEND_URL == "http://backend:8000"
    assert settings.BACKEND_TIMEOUT == 2.5
    assert settings.BACKEND_BATCH_TIMEOUT == 30.0


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


def test_the_message_is_one_line_naming_every_bad_variable_and_its_value() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"BACKEND_URL": "ftp://backend", "BACKEND_TIMEOUT": "inf"})
    assert str(raised.value) == (
        "BACKEND_URL must be a URL starting with http:// or https://, got 'ftp://backend'; "
        "BACKEND_TIMEOUT must be a number of seconds greater than 0, got 'inf'"
    )


def test_empty_values_mean_the_default_and_blanks_are_stripped() -> None:
    settings = Settings.from_env({"BACKEND_URL": "", "BACKEND_TIMEOUT": "  ", "BACKEND_STATUS_TIMEOUT": " 1.5 "})
    assert (settings.BACKEND_URL, settings.BACKEND_TIMEOUT, settings.BACKEND_STATUS_TIMEOUT) == (
        DEFAULT_BACKEND_URL,
        15.0,
        1.5,
    )
    assert Settings.from_env({"BACKEND_URL": " https://backend:8000/ "}).BACKEND_URL == "https://backend:8000"


def test_only_the_documented_variable_names_count() -> None:
    assert Settings.from_env({"backend_timeout": "1", "backend_url": "ftp://x"}) == Settings.from_env({})


def test_direct_construction_is_validated_and_frozen() -> None:
    settings = Settings(BACKEND_URL="http://backend/", BACKEND_TIMEOUT=2)
    assert (settings.BACKEND_URL, settings.BACKEND_TIMEOUT) == ("http://backend", 2.0)
    with pytest.raises(ValidationError):
        Settings(BACKEND_TIMEOUT=0)
    with pytest.raises(ValidationError):
        settings.BACKEND_TIMEOUT = 5  # type: ignore[misc]


def test_public_sessions_score_with_the_active_color_behind_nginx() -> None:
    settings = Settings.from_env({"BACKEND_URL": "http://backend-blue:8000", "PUBLIC_BACKEND_URL": "http://nginx:8090"})
    assert settings.for_route("public").BACKEND_URL == "http://nginx:8090"
    assert settings.for_route("preview").BACKEND_URL == "http://backend-blue:8000", "the preview tries its own color"
    assert settings.for_route(None) is settings
    assert Settings.from_env({}).for_route("public").BACKEND_URL == DEFAULT_BACKEND_URL
