"""Steady prediction traffic through nginx from several keep-alive clients, every answer recorded."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests


@dataclass(frozen=True)
class Answer:
    started: float
    ended: float
    status: int  # 0: no HTTP answer (connection error, timeout)
    color: str | None
    error: str


@dataclass
class Traffic:
    """`clients` threads, each with its own requests.Session, POSTing `applicant` until stopped."""

    url: str
    applicant: dict[str, Any]
    clients: int = 8
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def _client(self) -> None:
        with requests.Session() as session:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    response = session.post(f"{self.url}/api/predict", json=self.applicant, timeout=15)
                    answer = Answer(
                        started,
                        time.monotonic(),
                        response.status_code,
                        response.headers.get("X-Deployment-Color"),
                        "" if response.status_code == 200 else response.text[:200],
                    )
                except requests.RequestException as exc:
                    answer = Answer(started, time.monotonic(), 0, None, f"{type(exc).__name__}: {exc}"[:300])
                with self._lock:
                    self.answers.append(answer)

    def start(self) -> None:
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(self.clients)]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def count(self) -> int:
        with self._lock:
            return len(self.answers)

    def wait_for(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.count() < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {self.count()} answers after {timeout:.0f}s (wanted {count})")
            time.sleep(0.2)

    def failures(self) -> list[Answer]:
        return [a for a in self.answers if a.status != 200]

    def colors_between(self, start: float, end: float) -> set[str | None]:
        """Colors of the requests sent after `start` and answered before `end`."""
        return {a.color for a in self.answers if a.started >= start and a.ended <= end}
