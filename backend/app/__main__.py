"""`python -m app`: serve the scoring API with uvicorn, configured by the Settings class (environment variables).

The one way the service is started: the image, `make serve`, the tests and the benchmark all run it.
A bad setting prints one line naming the variable and exits with code 2.
"""

from __future__ import annotations

import sys
from typing import Any

import uvicorn
from pydantic import ValidationError

from app.core.config import Settings

APP_FACTORY = "app.main:create_app"


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's configuration (`uvicorn.Config` arguments) for these settings: the app factory, so that
    each worker process builds its app from the same environment."""
    return dict(
        app=APP_FACTORY,
        factory=True,
        host=settings.HOST,
        port=settings.PORT,
        workers=settings.WORKERS,
        access_log=settings.ACCESS_LOG,
        log_level=settings.LOG_LEVEL.lower(),
        timeout_keep_alive=settings.TIMEOUT_KEEP_ALIVE_S,
        timeout_graceful_shutdown=settings.TIMEOUT_GRACEFUL_SHUTDOWN_S,
        server_header=False,
    )


def settings_from_env() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())
        print(f"error: bad setting: {problems}", file=sys.stderr)
        raise SystemExit(2) from None


def main() -> None:
    uvicorn.run(**uvicorn_options(settings_from_env()))


if __name__ == "__main__":
    main()
