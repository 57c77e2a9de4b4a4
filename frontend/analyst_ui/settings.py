"""Where the backend is and how long the UI waits for it, read from environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated

from pydantic import AfterValidator, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_BACKEND_URL = "http://localhost:8000"

# The descriptions say what a variable must be: SettingsError completes its message with them.
Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False, description="a number of seconds greater than 0")]
BackendUrl = Annotated[
    str,
    Field(pattern=r"^https?://", description="a URL starting with http:// or https://"),
    AfterValidator(lambda url: url.rstrip("/")),
]


class SettingsError(ValueError):
    """An environment variable has a value the UI cannot use."""


class Settings(BaseSettings):
    """BACKEND_URL and the timeouts (seconds) of status, scoring and batch calls.

    `from_env` reads them (empty means default); constructing by attribute name serves tests."""

    model_config = SettingsConfigDict(
        frozen=True, case_sensitive=True, env_ignore_empty=True, str_strip_whitespace=True, validate_by_name=True
    )

    backend_url: BackendUrl = Field(DEFAULT_BACKEND_URL, validation_alias="BACKEND_URL")
    status_timeout: Seconds = Field(3.0, validation_alias="BACKEND_STATUS_TIMEOUT")
    timeout: Seconds = Field(15.0, validation_alias="BACKEND_TIMEOUT")
    batch_timeout: Seconds = Field(120.0, validation_alias="BACKEND_BATCH_TIMEOUT")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """The settings these variables give; a bad value is a SettingsError naming the variable and the value."""
        expected = {field.validation_alias: field.description for field in cls.model_fields.values()}
        try:
            return cls.model_validate({name: environ[name] for name in expected if environ.get(name, "").strip()})
        except ValidationError as exc:
            bad = [f"{e['loc'][0]} must be {expected[e['loc'][0]]}, got {e['input']!r}" for e in exc.errors()]
            raise SettingsError("; ".join(bad)) from None
