"""Test-only: the real backend (app.main.create_app, started like `python -m app`) with one extra innermost
middleware: while the file /bundles/<FAULT_FILE> holds "5xx" its scoring routes answer 500, while it holds
"slow" they answer a second late. Innermost, so the app's own metrics see the fault as Prometheus would."""

from __future__ import annotations

import asyncio
import os

import uvicorn
from starlette.middleware import Middleware

from app.__main__ import settings_from_env, uvicorn_options
from app.main import create_app

TRIGGER = os.path.join("/bundles", os.environ.get("FAULT_FILE", ".fault"))
SCORING = ("/predict", "/predict/batch")


def fault() -> str:
    try:
        with open(TRIGGER, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError:
        return ""


class Faults:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"].endswith(SCORING):
            kind = fault()
            if kind == "5xx":
                headers = [(b"content-type", b"application/json")]
                await send({"type": "http.response.start", "status": 500, "headers": headers})
                await send({"type": "http.response.body", "body": b'{"detail": "injected fault", "errors": []}'})
                return
            if kind == "slow":
                await asyncio.sleep(1.0)
        await self.app(scope, receive, send)


def create_faulty_app():
    app = create_app(settings_from_env())
    app.user_middleware.append(Middleware(Faults))
    return app


if __name__ == "__main__":
    options = uvicorn_options(settings_from_env())
    uvicorn.run(**{**options, "app": "faults:create_faulty_app", "app_dir": "/app"})
