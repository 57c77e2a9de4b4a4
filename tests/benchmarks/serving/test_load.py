"""The load driver's wrk output: the line WRK_SCRIPT prints, parsed; and a real wrk run through the script."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from benchmarks.serving import BenchmarkError
from benchmarks.serving.cpu_latency import CpuPinning
from benchmarks.serving.load import WRK_LINE, Wrk, load_result

STATS = {"requests": 3000, "duration_us": 2_000_000, "socket_errors": 2, "non_2xx": 5, "p50_us": 250, "p99_us": 1800}


def wrk_output(returncode: int = 0, stdout: str = "", stderr: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.CompletedProcess(["wrk"], returncode, stdout, stderr)


def test_stats_line_becomes_a_load_result() -> None:
    stdout = f"Running 2s test @ http://127.0.0.1:1/\n{WRK_LINE}{json.dumps({**STATS, 'mean_us': 300.5})}\n"
    load = load_result(wrk_output(stdout=stdout), concurrency=8)
    assert load.concurrency == 8
    assert load.requests_per_s == pytest.approx(1500.0)
    assert (load.p50_ms, load.p99_ms) == (pytest.approx(0.25), pytest.approx(1.8))
    assert load.requests == 3000
    assert load.errors == 7  # socket errors and non-2xx answers both count


@pytest.mark.parametrize(
    ("returncode", "stdout", "stderr", "shown"),
    [
        (1, "", "unable to connect to 127.0.0.1:1 Connection refused", "Connection refused"),
        (0, "Running 2s test\n", "", "Running 2s test"),  # finished, but the script's line is missing
        (1, f"{WRK_LINE}{json.dumps(STATS)}", "", "wrk failed (1)"),
    ],
)
def test_failed_wrk_run_is_a_benchmark_error(returncode: int, stdout: str, stderr: str, shown: str) -> None:
    with pytest.raises(BenchmarkError, match=r"wrk failed") as error:
        load_result(wrk_output(returncode, stdout, stderr), concurrency=1)
    assert shown in str(error.value)


class Recorder(BaseHTTPRequestHandler):
    """Answers POST /ok with 200 and anything else with 500, keeping the last body it got."""

    protocol_version = "HTTP/1.1"
    bodies: list[bytes] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server hook
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.bodies[:] = [body]
        answer = b'{"ok": true}'
        self.send_response(200 if self.path == "/ok" else 500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (make system-deps)")
def test_wrk_posts_the_body_file_and_counts_non_2xx(recorder: ThreadingHTTPServer, tmp_path: Path) -> None:
    body = tmp_path / "single.json"
    body.write_bytes(b'{"applicant": 1}')
    wrk = Wrk(tmp_path, CpuPinning("none"))
    port = recorder.server_address[1]

    ok = wrk.run(port, "/ok", body, concurrency=2, seconds=1)
    assert Recorder.bodies == [body.read_bytes()]
    assert ok.requests > 0 and ok.errors == 0 and ok.requests_per_s > 0
    assert 0 < ok.p50_ms <= ok.p99_ms

    failing = wrk.run(port, "/fail", body, concurrency=1, seconds=1)
    assert failing.requests > 0 and failing.errors == failing.requests
