"""The scoring service as a real process: `python -m app` from backend/, as its image runs it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.kit.paths import BACKEND_DIR
from tests.kit.ports import free_port
from tests.kit.processes import LiveProcess

BACKEND_COMMAND = (sys.executable, "-m", "app")


def start_backend(bundle: Path | None, work: Path, **env: str) -> LiveProcess:
    """Start the backend on a free port serving `bundle` (None: a missing one), its prediction log in `work`;
    returns once /health answers. `env` adds or overrides settings (DEPLOY_COLOR defaults to green)."""
    port = free_port()
    settings = {
        "SERVED_BUNDLE": str(bundle or work / "no-such-bundle"),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "DEPLOY_COLOR": "green",
        "PREDICTION_LOG_PATH": str(work / f"predictions-{port}.db"),
        **env,
    }
    url, log = f"http://127.0.0.1:{port}", work / f"backend-{port}.log"
    server = LiveProcess.start(BACKEND_COMMAND, url, log, BACKEND_DIR, settings)
    try:
        server.wait_for("/health")
    except BaseException:
        server.stop()
        raise
    return server


def ready_backend(bundle: Path, work: Path, **env: str) -> LiveProcess:
    """start_backend(...), returning once /ready answers 200 (the bundle is loaded and self-tested)."""
    server = start_backend(bundle, work, **env)
    try:
        server.wait_for("/ready")
    except BaseException:
        server.stop()
        raise
    return server


@contextmanager
def backend_process(bundle: Path | None, work: Path, **env: str) -> Iterator[LiveProcess]:
    """start_backend(...) for a `with` block; stopped (SIGTERM) at its end."""
    server = start_backend(bundle, work, **env)
    try:
        yield server
    finally:
        server.stop()
