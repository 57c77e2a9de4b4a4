"""The load driver: wrk runs, the servers interleaved round by round (the median round counts), lone batches."""

from __future__ import annotations

import argparse
import http.client
import json
import subprocess
import time
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path

from benchmarks.serving import BenchmarkError, log
from benchmarks.serving.cpu_latency import CpuLatencyRequest, CpuPinning
from benchmarks.serving.in_process import InProcess
from benchmarks.serving.results import LoadResult, ServerResult, median_load
from benchmarks.serving.servers import Server

WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
%(headers)slocal f = assert(io.open("%(body)s", "rb"))
wrk.body = f:read("*a")
f:close()
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %%d, "duration_us": %%d, "socket_errors": %%d, "non_2xx": %%d, ' ..
    '"p50_us": %%d, "p99_us": %%d, "mean_us": %%.1f}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
"""
WRK_LINE = "WRKJSON "

IDLE_AS_IS = "idle as is"
Headers = Mapping[str, str] | None  # the c=1 runs with the CPU latency request released


def load_result(completed: subprocess.CompletedProcess[str], concurrency: int) -> LoadResult:
    """The figures of a finished wrk run, from the line WRK_SCRIPT prints; BenchmarkError if wrk failed."""
    line = next((ln for ln in completed.stdout.splitlines() if ln.startswith(WRK_LINE)), None)
    if completed.returncode != 0 or line is None:
        raise BenchmarkError(f"wrk failed ({completed.returncode}): {completed.stderr.strip() or completed.stdout}")
    stats = json.loads(line.removeprefix(WRK_LINE))
    return LoadResult(
        concurrency=concurrency,
        requests_per_s=stats["requests"] / (stats["duration_us"] / 1e6),
        p50_ms=stats["p50_us"] / 1000,
        p99_ms=stats["p99_us"] / 1000,
        requests=stats["requests"],
        errors=stats["socket_errors"] + stats["non_2xx"],
    )


@dataclass(frozen=True)
class Wrk:
    """wrk with one thread, pinned as `pinning` says, its scripts and request bodies in `work`."""

    work: Path
    pinning: CpuPinning

    def run(
        self, port: int, path: str, body_file: Path, concurrency: int, seconds: int, headers: Headers = None
    ) -> LoadResult:
        return self.run_url(f"http://127.0.0.1:{port}{path}", body_file, concurrency, seconds, headers)

    def run_url(self, url: str, body_file: Path, concurrency: int, seconds: int, headers: Headers = None) -> LoadResult:
        """POST `body_file` (with `headers`, e.g. the API key) to `url` from `concurrency` keep-alive connections
        for `seconds`."""
        script = self.work / f"post-{body_file.stem}.lua"
        lines = "".join(
            f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}\n" for name, value in (headers or {}).items()
        )
        script.write_text(WRK_SCRIPT % {"body": body_file, "headers": lines})
        command = ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "30s", "-s", str(script)]
        completed = subprocess.run(
            [*command, url], capture_output=True, text=True, preexec_fn=self.pinning.preexec_fn("wrk")
        )
        return load_result(completed, concurrency)

    def body_file(self, server: Server, kind: str, body: bytes) -> Path:
        """`body` written where wrk reads it."""
        path = self.work / f"{server.spec.file_stem}-{kind}.json"
        path.write_bytes(body)
        return path


def time_batches(port: int, path: str, body: bytes, repeats: int, headers: Headers = None) -> list[float]:
    """Wall time of each batch request, in milliseconds."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    times = []
    try:
        for _ in range(repeats):
            started = time.perf_counter()
            conn.request("POST", path, body=body, headers={**(headers or {}), "Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            if response.status != 200:
                raise BenchmarkError(f"batch request to :{port}{path} answered {response.status}")
            times.append(elapsed * 1000)
    finally:
        conn.close()
    return times


class Rounds:
    """The wrk runs of interleaved rounds, kept by measure; the median round of each counts."""

    def __init__(self, wrk: Wrk, seconds: int) -> None:
        self.wrk, self.seconds = wrk, seconds
        self.loads: dict[Hashable, list[LoadResult]] = {}

    def __contains__(self, key: Hashable) -> bool:
        return key in self.loads

    def run(self, key: Hashable, label: str, server: Server, path: str, body: Path, concurrency: int) -> None:
        self.run_url(key, label, f"http://127.0.0.1:{server.port}{path}", body, concurrency, server.spec.headers)

    def run_url(
        self, key: Hashable, label: str, url: str, body: Path, concurrency: int, headers: Headers = None
    ) -> None:
        load = self.wrk.run_url(url, body, concurrency, self.seconds, headers)
        self.loads.setdefault(key, []).append(load)
        log(f"{label}: {load.requests_per_s:,.1f} req/s, p50 {load.p50_ms:.2f} ms, p99 {load.p99_ms:.2f} ms")

    def median(self, key: Hashable) -> LoadResult:
        return median_load(self.loads[key])


EXPLAINED_CONCURRENCIES = (1, 8)


def measure(
    running: list[tuple[Server, ServerResult]],
    in_process: InProcess,
    cpu_latency: CpuLatencyRequest,
    wrk: Wrk,
    args: argparse.Namespace,
) -> None:
    """Interleave the servers (round after round) so background noise hits both alike; the
    in-process predict time is measured in each round too, just before the c=1 runs, and, while
    a CPU latency request is held, c=1 once more with it released (for information). In each round our
    server also answers /predict with reasons at c=1 and c=8, right after its score-only runs."""
    bodies = {}
    for server, _ in running:
        bodies[server] = wrk.body_file(server, "single", server.spec.single_body)
        wrk.run(server.port, server.spec.single_path, bodies[server], 8, 2, server.spec.headers)  # warm-up
    rounds = Rounds(wrk, args.duration)
    for round_number in range(1, args.rounds + 1):
        predict_us = in_process.measure()["predict"]
        log(f"round {round_number}/{args.rounds}: in-process predict of one row: {predict_us:.0f} us")
        for concurrency in args.concurrency:
            for server, result in running:
                label = f"round {round_number}/{args.rounds} {result.name}: c={concurrency}"
                rounds.run(
                    (result.name, concurrency), label, server, server.spec.single_path, bodies[server], concurrency
                )
        for server, result in running:
            for concurrency in EXPLAINED_CONCURRENCIES if server.spec.explain_path else ():
                label = f"round {round_number}/{args.rounds} {result.name}: /predict with reasons, c={concurrency}"
                key = (result.name, "explained", concurrency)
                rounds.run(key, label, server, server.spec.explain_path, bodies[server], concurrency)
        if cpu_latency.held:
            with cpu_latency.released():
                for server, result in running:
                    label = f"round {round_number}/{args.rounds} {result.name}: c=1, CPU latency request released"
                    rounds.run((result.name, IDLE_AS_IS), label, server, server.spec.single_path, bodies[server], 1)
    for server, result in running:
        result.single = [rounds.median((result.name, c)) for c in args.concurrency]
        if (result.name, IDLE_AS_IS) in rounds:
            result.idle_as_is = rounds.median((result.name, IDLE_AS_IS))
        if server.spec.explain_path:
            result.explained = [rounds.median((result.name, "explained", c)) for c in EXPLAINED_CONCURRENCIES]
    measure_batches(running, wrk, args)
    for _, result in running:
        if any(r.errors for r in result.loads()):
            raise BenchmarkError(f"{result.name}: some requests failed (see its log)")


def measure_batches(running: list[tuple[Server, ServerResult]], wrk: Wrk, args: argparse.Namespace) -> None:
    """The batch under wrk at concurrency 1 (rounds interleaved, the median round counting; ours also with
    reasons), then lone batches, each right after the other server's (for information)."""
    runs: dict[str, tuple[str, Path]] = {}  # "<server>/<kind>" -> (path, body file)
    for server, _ in running:
        spec = server.spec
        kinds = [("batch", spec.batch_path, spec.batch_body), ("split", spec.batch_path, spec.split_batch_body)]
        if spec.explain_batch_path:
            kinds.append(("explained", spec.explain_batch_path, spec.batch_body))
        for kind, path, body in kinds:
            if body is not None:
                runs[f"{spec.name}/{kind}"] = (path, wrk.body_file(server, kind, body))
        wrk.run(server.port, spec.batch_path, runs[f"{spec.name}/batch"][1], 1, 2, spec.headers)  # warm-up
    rounds = Rounds(wrk, args.duration)
    for round_number in range(1, args.rounds + 1):
        for server, result in running:
            for key in (k for k in runs if k.startswith(f"{server.spec.name}/")):
                label = f"round {round_number}/{args.rounds} {key}: {args.batch_rows}-row batch, c=1"
                rounds.run(key, label, server, runs[key][0], runs[key][1], 1)
    for server, result in running:
        result.batch = rounds.median(f"{server.spec.name}/batch")
        if f"{server.spec.name}/split" in rounds:
            result.split_batch = rounds.median(f"{server.spec.name}/split")
        if f"{server.spec.name}/explained" in rounds:
            result.explained_batch = rounds.median(f"{server.spec.name}/explained")
    for _ in range(args.batch_repeats):
        for server, result in running:
            result.lone_batch_ms += time_batches(
                server.port, server.spec.batch_path, server.spec.batch_body, 1, server.spec.headers
            )
    for _, result in running:
        log(f"{result.name}: lone {args.batch_rows}-row batch: median {result.lone_batch_median_ms:.1f} ms")
