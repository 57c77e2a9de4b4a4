"""Prediction traffic for tests: steady keep-alive clients (e.g. through nginx across a switch) with every answer
recorded, and one-off batches with the monitoring summary that counts them."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests

from deploy.public_client import VerifiedSession
from tests.kit.backend import BackendProcess


@dataclass(frozen=True)
class Answer:
    started: float
    ended: float
    status: int  # 0: no HTTP answer (connection error, timeout)
    color: str | None
    error: str


@dataclass
class Traffic:
    """`clients` threads POSTing `applicant` until stopped: each on its own keep-alive connection (a
    requests.Session), or, with `fresh_connections`, on a new connection per request (`Connection: close`)."""

    url: str
    applicant: dict[str, Any]
    clients: int = 8
    fresh_connections: bool = False
    headers: dict[str, str] = field(default_factory=dict)  # e.g. the API key
    verify: str | bool = True  # requests' `verify=`: the CA bundle of an https:// URL (e.g. the stack's, stack.verify)
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def _client(self) -> None:
        headers = {**self.headers, **({"Connection": "close"} if self.fresh_connections else {})}
        with VerifiedSession(self.verify) as session:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    response = session.post(f"{self.url}/api/predict", json=self.applicant, headers=headers, timeout=15)
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


def score_batch(server: BackendProcess, applicants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """POST /predict/batch (JSON) to the backend process with its key; its predictions (the backend logs every
    applicant)."""
    response = requests.post(f"{server.url}/predict/batch", json=applicants, headers=server.headers, timeout=60)
    response.raise_for_status()
    return response.json()["predictions"]


def summary_counting(server: BackendProcess, count: int, window: str = "1h", seconds: float = 20) -> dict[str, Any]:
    """GET /monitoring/summary until it counts at least `count` predictions (the log is written every ~0.2 s)."""
    deadline = time.monotonic() + seconds
    while True:
        summary = requests.get(
            f"{server.url}/monitoring/summary", params={"window": window}, headers=server.headers, timeout=10
        ).json()
        if summary["count"] >= count or time.monotonic() > deadline:
            assert summary["count"] >= count, f"the summary counts {summary['count']} of {count} predictions"
            return summary
        time.sleep(0.2)


def audit_trail(server: BackendProcess, author: str, count: int = 1, seconds: float = 15) -> list[dict[str, Any]]:
    """GET /audit/predictions of `author` (last 15 minutes) until it lists `count` requests; its items, newest
    first."""
    deadline = time.monotonic() + seconds
    while True:
        trail = requests.get(
            f"{server.url}/audit/predictions",
            params={"author": author, "window": "15m"},
            headers=server.headers,
            timeout=10,
        ).json()
        if len(trail["items"]) >= count or time.monotonic() > deadline:
            return trail["items"]
        time.sleep(0.2)
