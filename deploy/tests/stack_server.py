"""A small real HTTP server that answers like a stack's backend behind nginx (`/api/...`), for the gate and CLI
tests; tests change what it answers while it runs. Given a key store (the deploy CLI's file), it authenticates
like the backend: without a key /ready and /health say only ready or not (no deployment headers), other routes
answer 401; an unknown or revoked key is 401."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

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
    probability: Any = 0.25
    scored: list[dict] = field(default_factory=list)
    ready_calls: int = 0
    key_store: Path | None = None  # set: requests are authenticated against this store
    probes: int = 0  # predictions marked X-Traffic-Source: probe by an authenticated caller
    refused: int = 0  # requests answered 401

    def caller(self, authorization: str | None) -> str | bool | None:
        """The key's name; True without a store (nothing checked); None without a credential; False for a bad one."""
        if self.key_store is None:
            return True
        if authorization is None:
            return None
        from deploy.api_keys import ApiKeyStore

        token = authorization.removeprefix("Bearer ")
        return next((r.name for r in ApiKeyStore(self.key_store).records() if r.matches(token)), False)


def handler_for(backend: Backend) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def answer(self, status: int, body: dict, deployment: bool = True) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if deployment:
                self.send_header("X-Deployment-Color", backend.color)
                self.send_header("X-Model-Version", backend.version)
                self.send_header("X-App-Revision", backend.revision)
            self.end_headers()
            self.wfile.write(data)

        def authenticated(self) -> bool:
            """Whether to go on as for an authenticated caller (anonymous open routes and refusals answered here)."""
            caller = backend.caller(self.headers.get("Authorization"))
            if caller is None and self.path in ("/api/ready", "/api/health"):
                ready = backend.failed is None and backend.ready_calls >= backend.ready_after
                status = "ok" if self.path == "/api/health" else ("ready" if ready else "not_ready")
                self.answer(200 if status != "not_ready" else 503, {"status": status}, deployment=False)
                return False
            if not caller:
                backend.refused += 1
                self.answer(401, {"detail": "invalid API key", "errors": []}, deployment=False)
                return False
            return True

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            if not self.authenticated():
                return
            if self.path == "/api/ready":
                backend.ready_calls += 1
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
            applicant = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if not self.authenticated():
                return
            backend.scored.append(applicant)
            backend.probes += self.headers.get("X-Traffic-Source") == "probe"
            self.answer(200, {"probability_default": backend.probability, "label": 0, "color": backend.color})

    return Handler


@contextmanager
def serve(backend: Backend, port: int = 0) -> Iterator[str]:
    """Serve `backend` on 127.0.0.1:`port` (0: any free port); its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler_for(backend))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
