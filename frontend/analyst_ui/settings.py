"""Where the backend is and how long the UI waits for it, read from environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_BACKEND_URL = "http://localhost:8000"


class SettingsError(ValueError):
    """An environment variable has a value the UI cannot use."""


@dataclass(frozen=True)
class Settings:
    """BACKEND_URL and the timeouts (seconds) of status, scoring and batch calls."""

    backend_url: str = DEFAULT_BACKEND_URL
    status_timeout: float = 3.0
    timeout: float = 15.0
    batch_timeout: float = 120.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        url = environ.get("BACKEND_URL", "").strip() or DEFAULT_BACKEND_URL
        if not url.startswith(("http://", "https://")):
            raise SettingsError(f"BACKEND_URL must start with http:// or https://, got {url!r}")
        return cls(
            backend_url=url.rstrip("/"),
            status_timeout=_seconds(environ, "BACKEND_STATUS_TIMEOUT", cls.status_timeout),
            timeout=_seconds(environ, "BACKEND_TIMEOUT", cls.timeout),
            batch_timeout=_seconds(environ, "BACKEND_BATCH_TIMEOUT", cls.batch_timeout),
        )


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {text!r}") from None
    if not value > 0:
        raise SettingsError(f"{name} must be positive, got {text!r}")
    return value
