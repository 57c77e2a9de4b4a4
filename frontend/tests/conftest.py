"""Frontend test fixtures: real backend processes (`python -m app` on a real bundle) and tiny misbehaving servers."""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.kit.analysts import ANALYST, PASSWORD, analyst_store
from tests.kit.api_keys import UNUSED_KEY
from tests.kit.backend import BackendProcess, ready_backend
from tests.kit.paths import FRONTEND_DIR, UI_SCRIPT
from tests.kit.ports import closed_url as free_url
from tests.kit.processes import LiveProcess

# analyst_ui is imported as the app imports it. Appended, not prepended: backend/ (package `app`) must stay
# ahead of frontend/ (script app.py) on the path.
if str(FRONTEND_DIR) not in sys.path:
    sys.path.append(str(FRONTEND_DIR))


@pytest.fixture(scope="session")
def backend(catboost_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveProcess]:
    """One real backend for the session (serving the catboost bundle, deployment color green)."""
    server = ready_backend(catboost_bundle, tmp_path_factory.mktemp("backend-logs"), LOG_LEVEL="WARNING")
    yield server
    server.stop()


@pytest.fixture
def own_backend(catboost_bundle: Path, tmp_path: Path) -> Iterator[LiveProcess]:
    """A real backend this test may stop."""
    server = ready_backend(catboost_bundle, tmp_path, LOG_LEVEL="WARNING")
    yield server
    server.stop()


@pytest.fixture
def closed_url() -> str:
    """A port nothing listens on (a stopped backend)."""
    return free_url()


@pytest.fixture
def stalled_url() -> Iterator[str]:
    """A socket that accepts connections and never answers (a hung backend)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


class _FixedAnswer(BaseHTTPRequestHandler):
    status = 500
    content_type = "application/json"
    body = b"{}"

    def _answer(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def answering_server() -> Iterator:
    """Start an HTTP server that gives every request the same answer: serve(status, content_type, body) -> URL."""
    servers: list[ThreadingHTTPServer] = []

    def serve(status: int, content_type: str, body: bytes) -> str:
        handler = type("Answer", (_FixedAnswer,), {"status": status, "content_type": content_type, "body": body})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def analysts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built-in user store (written by the deploy CLI's code) with the analyst ANALYST."""
    return analyst_store(tmp_path_factory.mktemp("analysts") / "users.json")


def sign_in(app: AppTest, name: str = ANALYST, password: str = PASSWORD) -> AppTest:
    """Fill in and submit the sign-in form, as an analyst would."""
    app.text_input(key="sign_in.name").input(name)
    app.text_input(key="sign_in.password").input(password)
    return app.button[0].click().run()


@pytest.fixture
def open_app(monkeypatch: pytest.MonkeyPatch, analysts: Path):
    """Run frontend/app.py in AppTest against a backend (a BackendProcess: its URL and key) or a URL, signed in as
    ANALYST (unless signed_in=False), optionally on another page: open_app(backend, "views/batch.py")."""

    def open_page(
        backend: BackendProcess | str, page: str | None = None, signed_in: bool = True, **environ: str
    ) -> AppTest:
        url, key = (backend, UNUSED_KEY) if isinstance(backend, str) else (backend.url, backend.key)
        monkeypatch.setenv("BACKEND_URL", url)
        monkeypatch.setenv("BACKEND_API_KEY", key)
        monkeypatch.setenv("UI_USERS_PATH", str(analysts))
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        app = AppTest.from_file(str(UI_SCRIPT), default_timeout=60).run()
        if signed_in:
            sign_in(app)
        if page is not None:
            app.switch_page(page).run()
        return app

    return open_page
