"""Where the backend is, how long the UI waits for it, its API key and the analysts' sign-in, read from
environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_BACKEND_URL = "http://localhost:8000"

# The descriptions say what a variable must be: SettingsError completes its message with them.
Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False, description="a number of seconds greater than 0")]
Minutes = Annotated[float, Field(gt=0, allow_inf_nan=False, description="a number of minutes greater than 0")]
ApiKey = Annotated[str, Field(pattern=r"^[A-Za-z0-9._~+/-]{16,512}=*$", description="an API key (crk_...)")]
Revision = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9._-]{1,80}$", description="a release tag (letters, digits, . _ -)")
]
BackendUrl = Annotated[
    str,
    Field(pattern=r"^https?://", description="a URL starting with http:// or https://"),
    AfterValidator(lambda url: url.rstrip("/")),
]


class SettingsError(ValueError):
    """An environment variable has a value the UI cannot use."""


class Settings(BaseSettings):
    """Where the backend is and the timeouts (seconds) of status, scoring and batch calls; each field is the
    environment variable of its name. `from_env` reads them from a mapping (the process environment by default;
    empty means default) and turns a bad value into a SettingsError naming the variable and the value."""

    model_config = SettingsConfigDict(
        frozen=True, case_sensitive=True, env_ignore_empty=True, str_strip_whitespace=True
    )

    BACKEND_URL: BackendUrl = DEFAULT_BACKEND_URL
    # Behind nginx: the backend of the ACTIVE color, for sessions opened on the public port (nginx tells the
    # route in X-Stack-Route), so that a page opened before a switch scores with the new color after it.
    PUBLIC_BACKEND_URL: BackendUrl | None = None
    BACKEND_STATUS_TIMEOUT: Seconds = 3.0
    BACKEND_TIMEOUT: Seconds = 15.0
    BACKEND_BATCH_TIMEOUT: Seconds = 120.0
    APP_REVISION: Revision = "unknown"  # set in the image from the release it was built for
    # The UI's own API key (scopes score, read, on-behalf-of): the value, or a file holding it (re-read when it
    # changes, so the deploy CLI can rotate it). The frontends get the file the deploy CLI writes (/ui/service-key).
    BACKEND_API_KEY: ApiKey | None = None
    BACKEND_API_KEY_FILE: Path | None = None
    # The built-in sign-in (when no OIDC provider is configured in Streamlit's secrets): the analysts' store the
    # deploy CLI writes (`make user-add`), and how long a session lasts, in all and without activity.
    UI_USERS_PATH: Path | None = None
    UI_SESSION_MINUTES: Minutes = 480.0
    UI_SESSION_IDLE_MINUTES: Minutes = 30.0

    def for_route(self, route: str | None) -> Settings:
        """These settings for a session that came through nginx's `route` (public or preview; None: directly)."""
        if route == "public" and self.PUBLIC_BACKEND_URL:
            return self.model_copy(update={"BACKEND_URL": self.PUBLIC_BACKEND_URL})
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """The settings these variables give; a bad value is a SettingsError naming the variable and the value."""
        try:
            return cls.model_validate(
                {name: environ[name] for name in cls.model_fields if environ.get(name, "").strip()}
            )
        except ValidationError as exc:
            fields = cls.model_fields
            bad = [f"{e['loc'][0]} must be {fields[e['loc'][0]].description}, got {e['input']!r}" for e in exc.errors()]
            raise SettingsError("; ".join(bad)) from None
