"""A small real HTTP server answering Prometheus's query API (/api/v1/query) from a table the test sets, and an
alert receiver (Alertmanager's /api/v2/alerts, or a webhook) that records what it gets."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse

from deploy.tests.http_json import send_json, serve_handler


@dataclass
class Answers:
    """`values`: the first key found in a query decides its value (None: no series; a list: one series per
    (labels, value), e.g. a histogram's buckets by `le`); `down`: HTTP 503."""

    values: dict[str, float | None | list[tuple[dict[str, str], float]]] = field(default_factory=dict)
    down: bool = False
    queries: list[tuple[str, str | None]] = field(default_factory=list)  # (query, time)

    def answer(self, query: str) -> float | None | list[tuple[dict[str, str], float]]:
        for key, value in self.values.items():
            if key in query:
                return value
        return None


@dataclass
class Received:
    """What an alert receiver got; it fails the first `fail_first` posts with HTTP 500."""

    posts: list = field(default_factory=list)
    fail_first: int = 0
    attempts: int = 0

    def alert_names(self) -> list[str]:
        """The names of the alerts received, in order (Alertmanager's webhook body or the API's list)."""
        names = []
        for post in self.posts:
            alerts = post.get("alerts", []) if isinstance(post, dict) else post
            names.extend(alert["labels"]["alertname"] for alert in alerts)
        return names


def _handler(on_get: Callable | None, on_post: Callable | None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def reply(self, status: int, body: object) -> None:
            send_json(self, status, body)

        def do_GET(self) -> None:  # noqa: N802
            assert on_get is not None
            self.reply(*on_get(self.path))

        def do_POST(self) -> None:  # noqa: N802
            assert on_post is not None
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"null")
            self.reply(*on_post(self.path, body))

    return Handler


@contextmanager
def serve_prometheus(answers: Answers) -> Iterator[str]:
    def on_get(path: str) -> tuple[int, object]:
        url = urlparse(path)
        if answers.down:
            return 503, {"status": "error", "error": "down"}
        params = parse_qs(url.query)
        query = params["query"][0]
        answers.queries.append((query, params.get("time", [None])[0]))
        value = answers.answer(query)
        series = [] if value is None else value if isinstance(value, list) else [({}, value)]
        result = [{"metric": labels, "value": [0, str(number)]} for labels, number in series]
        return 200, {"status": "success", "data": {"resultType": "vector", "result": result}}

    with serve_handler(_handler(on_get, None)) as url:
        yield url


@contextmanager
def serve_receiver(received: Received, host: str = "127.0.0.1") -> Iterator[str]:
    def on_post(path: str, body: object) -> tuple[int, object]:
        received.attempts += 1
        if received.attempts <= received.fail_first:
            return 500, {"error": "failing on purpose"}
        received.posts.append(body)
        return 200, {}

    with serve_handler(_handler(None, on_post), host) as url:
        yield url
