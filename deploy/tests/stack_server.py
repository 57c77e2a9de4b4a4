"""A small real HTTP server that answers like a stack's backend behind nginx (`/api/...`), for the gate and CLI
tests; tests change what it answers while it runs. Given a key store (the deploy CLI's file), it authenticates
like the backend: without a key /ready and /health say only ready or not (no deployment headers), other routes
answer 401; an unknown or revoked key is 401."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from deploy.tests.http_json import send_json, serve_handler

SCHEMA = {
    "features": [
        {"name": "age", "type": "numeric", "dtype": "integer", "min": 19, "max": 75},
        {"name": "amount", "type": "numeric", "dtype": "float", "min": 250.0, "max": 18424.5},
        {"name": "housing", "type": "categorical", "categories": ["free", "own", "rent"]},
    ],
    "example": {"age": 30, "amount": 1000.0, "housing": "own"},
}


@dataclass
class Backend:
    """What the fake stack answers; tests change it while the server runs."""

    color: str = "green"
    version: str = "7"
    revision: str = "r7"
    ready_after: int = 0  # /ready answers 503 this many times first
    failed: str | None = None  # /ready says the bundle cannot be served, for this reason
    threshold: float = 0.5
    batch: Callable[[list[dict]], list[float]] | None = None  # P(default) per applicant of a batch
    probability: Any = 0.25
    scored: list[dict] = field(default_factory=list)
    ready_calls: int = 0
    hang_s: float = 0.0  # /ready answers only after this long (a hung backend)
    key_store: Path | None = None  # set: requests are authenticated against this store
    probes: int = 0  # predictions (single or batch rows) marked X-Traffic-Source: probe by a `probe` key
    refused: int = 0  # requests answered 401
    callers: list[str] = field(default_factory=list)  # the keys' names, request by request

    def caller(self, authorization: str | None) -> tuple[str, ...] | bool | None:
        """The key's scopes; True without a store (nothing checked); None without a credential; False for a bad
        one."""
        if self.key_store is None:
            return True
        if authorization is None:
            return None
        from deploy.api_keys import ApiKeyStore

        token = authorization.removeprefix("Bearer ")
        record = next((r for r in ApiKeyStore(self.key_store).records() if r.matches(token)), None)
        if record is None or record.revoked:
            return False
        self.callers.append(record.name)
        return record.scopes


def handler_for(backend: Backend) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def answer(self, status: int, body: dict, deployment: bool = True) -> None:
            headers = {
                "X-Deployment-Color": backend.color,
                "X-Model-Version": backend.version,
                "X-App-Revision": backend.revision,
            }
            send_json(self, status, body, headers if deployment else None)

        def authenticated(self) -> bool:
            """Whether to go on as for an authenticated caller (anonymous open routes and refusals answered here)."""
            caller = backend.caller(self.headers.get("Authorization"))
            if caller is None and self.path in ("/api/ready", "/api/health", "/ready", "/health"):
                ready = backend.failed is None and backend.ready_calls >= backend.ready_after
                status = "ok" if self.path.endswith("/health") else ("ready" if ready else "not_ready")
                self.answer(200 if status != "not_ready" else 503, {"status": status}, deployment=False)
                return False
            if not caller:
                backend.refused += 1
                self.answer(401, {"detail": "invalid API key", "errors": []}, deployment=False)
                return False
            self.may_probe = caller is True or "probe" in caller
            return True

        def marked_probe(self) -> bool:
            return self.may_probe and self.headers.get("X-Traffic-Source") == "probe"

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            if not self.authenticated():
                return
            if self.path in ("/api/ready", "/ready"):  # through nginx, or straight at the backend
                backend.ready_calls += 1
                time.sleep(backend.hang_s)
                if backend.failed:
                    self.answer(503, {"status": "not_ready", "phase": "failed", "reason": backend.failed})
                elif backend.ready_calls <= backend.ready_after:
                    self.answer(503, {"status": "not_ready", "phase": "loading", "reason": "model loading"})
                else:
                    self.answer(200, {"status": "ready", "model_version": backend.version, "color": backend.color})
            elif self.path == "/api/health":
                self.answer(200, {"status": "ok", "color": backend.color})
            elif self.path == "/api/schema":
                self.answer(200, SCHEMA)
            else:
                self.answer(404, {"detail": "not found", "errors": []})

        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if not self.authenticated():
                return
            if self.path == "/api/predict/batch":
                scores = backend.batch(body) if backend.batch else [backend.probability] * len(body)
                rows = [
                    {"row": i, "probability_default": p, "label": int(p >= backend.threshold)}
                    for i, p in enumerate(scores)
                ]
                backend.probes += len(rows) * self.marked_probe()
                self.answer(200, {"count": len(rows), "predictions": rows})
                return
            backend.scored.append(body)
            backend.probes += self.marked_probe()
            self.answer(200, {"probability_default": backend.probability, "label": 0, "color": backend.color})

    return Handler


@contextmanager
def serve(backend: Backend, port: int = 0, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve `backend` on `host`:`port` (0: any free port); its base URL."""
    with serve_handler(handler_for(backend), host, port) as url:
        yield url


@contextmanager
def serve_text(text: str, port: int = 0) -> Iterator[str]:
    """Answer every GET with `text` as text/plain (e.g. nginx's status page); the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            data = text.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    with serve_handler(Handler, port=port) as url:
        yield f"{url}/nginx_status"
