"""Helpers of the retraining tests: labeled rows in the API's columns, drawn from the real data, and a tiny real
HTTP server answering `GET /outcomes/labeled` as the service does (CSV for a key with the scope audit, 403 for a
key without it, 401 for an unknown key)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pandas as pd

from conftest import ROOT
from training.outcomes.labeled import META_COLUMNS

DATA = ROOT / "data" / "german_credit.csv"
TARGET = "creditability"
GOOD_KEY = "audit-key"
SCORE_ONLY_KEY = "score-key"  # a valid key without the scope audit


def labeled_rows(count: int, seed: int = 7, first_id: int = 1) -> pd.DataFrame:
    """`count` applicants drawn from the data (amounts moved a little, so none is a copy of a training row), with
    their real outcome, as matured labeled predictions of model version 1, oldest first."""
    rng = np.random.default_rng(seed)
    original = pd.read_csv(DATA)
    rows = original.iloc[rng.choice(len(original), size=count, replace=False)].reset_index(drop=True)
    rows["credit_amount"] = rows["credit_amount"] + rng.integers(1, 50, count)
    ids = [f"pred-{first_id + i:05d}" for i in range(count)]
    meta = pd.DataFrame(
        {
            "prediction_id": ids,
            "model_version": "1",
            "scored_at": [f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}Z" for i in range(count)],
            "observed_date": "2026-06-30",
        }
    )
    return pd.concat([meta, rows], axis=1)[[*META_COLUMNS, *original.columns.drop(TARGET), TARGET]]


class _Handler(BaseHTTPRequestHandler):
    body = b""
    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        type(self).seen.append({"path": self.path, **dict(self.headers)})
        auth = self.headers.get("Authorization", "")
        if self.path != "/api/outcomes/labeled":
            return self._answer(404, b'{"detail": "not found"}', "application/json")
        if auth == f"Bearer {SCORE_ONLY_KEY}":
            return self._answer(403, b'{"detail": "scope audit required"}', "application/json")
        if auth != f"Bearer {GOOD_KEY}":
            return self._answer(401, b'{"detail": "invalid credentials"}', "application/json")
        self._answer(200, type(self).body, "text/csv")

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def outcomes_server(csv: bytes) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A real HTTP server on a free port answering the labeled outcomes; yields its base URL (…/api) and the
    requests it saw."""
    handler = type("Handler", (_Handler,), {"body": csv, "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api", handler.seen
    finally:
        server.shutdown()
        server.server_close()
