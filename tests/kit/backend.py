"""The scoring service as a real process: `python -m app` from backend/, as its image runs it, with its own API
key store holding one key with every scope (`server.key`, `server.headers`)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.kit.api_keys import ALL_SCOPES, bearer, key_store
from tests.kit.paths import BACKEND_DIR
from tests.kit.ports import free_port
from tests.kit.processes import LiveProcess

BACKEND_COMMAND = (sys.executable, "-m", "app")


@dataclass
class BackendProcess(LiveProcess):
    """A backend process and a key with every scope in its key store (`key_store`)."""

    key: str = ""
    key_store: Path = Path()

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header of the all-scopes key."""
        return bearer(self.key)


def start_backend(bundle: Path | None, work: Path, **env: str) -> BackendProcess:
    """Start the backend on a free port serving `bundle` (None: a missing one), its prediction log and key store in
    `work`; returns once /health answers. `env` adds or overrides settings (DEPLOY_COLOR defaults to green)."""
    port = free_port()
    store = work / f"api-keys-{port}.json"
    key = key_store(store, tests=ALL_SCOPES)["tests"]
    settings = {
        "SERVED_BUNDLE": str(bundle or work / "no-such-bundle"),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "DEPLOY_COLOR": "green",
        "PREDICTION_LOG_PATH": str(work / f"predictions-{port}.db"),
        "API_KEYS_PATH": str(store),
        **env,
    }
    url, log = f"http://127.0.0.1:{port}", work / f"backend-{port}.log"
    started = LiveProcess.start(BACKEND_COMMAND, url, log, BACKEND_DIR, settings)
    server = BackendProcess(started.process, url, log, key, store)
    try:
        server.wait_for("/health")
    except BaseException:
        server.stop()
        raise
    return server


def ready_backend(bundle: Path, work: Path, **env: str) -> BackendProcess:
    """start_backend(...), returning once /ready answers 200 (the bundle is loaded and self-tested)."""
    server = start_backend(bundle, work, **env)
    try:
        server.wait_for("/ready")
    except BaseException:
        server.stop()
        raise
    return server


@contextmanager
def backend_process(bundle: Path | None, work: Path, **env: str) -> Iterator[BackendProcess]:
    """start_backend(...) for a `with` block; stopped (SIGTERM) at its end."""
    server = start_backend(bundle, work, **env)
    try:
        yield server
    finally:
        server.stop()
