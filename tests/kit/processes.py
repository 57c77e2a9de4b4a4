"""A real server process for a test: started with its output in a log file, polled until it answers, stopped."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

STARTUP_SECONDS = 90


@dataclass
class LiveProcess:
    """A process serving HTTP at `url`, its stdout and stderr in `log`."""

    process: subprocess.Popen
    url: str
    log: Path

    @classmethod
    def start(cls, command: Sequence[str], url: str, log: Path, cwd: Path, env: Mapping[str, str]) -> LiveProcess:
        """Start `command` in `cwd` with os.environ plus `env`."""
        with log.open("wb") as out:
            process = subprocess.Popen(
                list(command), cwd=cwd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
            )
        return cls(process, url, log)

    def log_text(self, tail: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-tail:]

    def _check_running(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(f"the process exited with {self.process.returncode}:\n{self.log_text()}")

    def wait_for(self, path: str, status: int = 200, timeout_s: float = STARTUP_SECONDS) -> httpx.Response:
        """Poll GET `path` until it answers `status`; fail with the log if the process exits or time runs out."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self._check_running()
            try:
                response = httpx.get(self.url + path, timeout=2)
                if response.status_code == status:
                    return response
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"{self.url}{path} never answered {status} within {timeout_s:.0f}s:\n{self.log_text()}")

    def wait_for_log(self, text: str, count: int = 1, timeout_s: float = STARTUP_SECONDS) -> None:
        """Until `text` is in the log `count` times (e.g. once per worker process)."""
        deadline = time.monotonic() + timeout_s
        while self.log.read_text(errors="replace").count(text) < count:
            self._check_running()
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not logged {count} times:\n{self.log_text()}")
            time.sleep(0.05)

    def stop(self, timeout_s: float = 30) -> None:
        """SIGTERM (a graceful shutdown), SIGKILL if it does not exit in time."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
