"""Real processes for the tests: free ports, start and wait, stop; the backend as a uvicorn process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

FRONTEND = Path(__file__).resolve().parents[1]
ROOT = FRONTEND.parent
STARTUP_SECONDS = 90
APP_SCRIPT = FRONTEND / "app.py"
# The backend as its image runs it (backend/Dockerfile), from backend/.
BACKEND_COMMAND = [sys.executable, "-m", "uvicorn", "app.main:app"]
BACKEND_COMMAND += ["--http", "app.http_protocol:CoalescingHttpToolsProtocol"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, log: Path, seconds: float = STARTUP_SECONDS) -> None:
    """Poll `url` until it answers 200; fail with the process log if it exits or takes too long."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"process exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    pytest.fail(f"{url} not ready after {seconds}s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


class Backend:
    """A real `uvicorn app.main:app` process serving a bundle on a free port, logging predictions to its own
    fresh SQLite file in `log_dir` (`environ` adds or overrides environment variables)."""

    def __init__(self, bundle: Path, log_dir: Path, **environ: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log_dir / f"backend-{self.port}.log"
        self.prediction_log = log_dir / f"predictions-{self.port}.db"
        env = {
            **os.environ,
            "MODEL_DIR": str(bundle),
            "DEPLOY_COLOR": "green",
            "LOG_LEVEL": "WARNING",
            "PREDICTION_LOG_PATH": str(self.prediction_log),
            **environ,
        }
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [*BACKEND_COMMAND, "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=ROOT / "backend",
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for(f"{self.url}/ready", self.process, self.log)
        except BaseException:  # pytest.fail raises a BaseException: never leave the process behind
            self.stop()
            raise

    def stop(self) -> None:
        stop(self.process)
