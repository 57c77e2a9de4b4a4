"""Benchmark this backend against `mlflow models serve` on the same bundle (`make bench`).

    python benchmarks/serving.py [--bundle models/credit-default/latest] [--duration 5] [--rounds 3]
                                 [--concurrency 1,8,32] [--batch-rows 1000] [--batch-repeats 20]
                                 [--cold-starts 3] [--pin none|wrk|both] [--cpu-latency-us 0|none]

Both servers run one worker on the same champion and get the same applicants in the same JSON
shape (ours: an applicant object / an array of them; mlflow: `dataframe_records`). Steps:
in-process predict time of one row; cold start (process start -> readiness 200, best of
--cold-starts); single-row load with wrk (one thread, pinned to the last CPU by default) at each
concurrency, the two servers interleaved round by round, the median round counting (ours:
POST /predict?explain=false, the score-only answer comparable to mlflow's /invocations; then
POST /predict with explanations, for information); a --batch-rows batch with wrk the same way
(concurrency 1, rounds interleaved; mlflow also in its columnar `dataframe_split`, for
information); then, for information, a lone batch right after the other server's request,
--batch-repeats times (a new connection each, the CPU cold from the other server's work).
While it drives load, the benchmark holds a CPU wake-up latency request of --cpu-latency-us (0 by
default, through /dev/cpu_dma_latency, as latency tools such as cyclictest and rtla do), so an
idle CPU polls instead of halting: on a VM whose idle vCPUs halt at once, each wake-up otherwise
adds 100-150 us to every request at concurrency 1 and slows the work that follows, which the
back-to-back in-process reference never pays. Each round also measures concurrency 1 with the
request released (the machine's own idle states), for information. `--cpu-latency-us none`
measures everything with the machine's idle states.
Prints a table and PASS/FAIL per target and writes benchmarks/results/serving-<time>.json.
Exit 0 when the run completed (targets met or not), 1 when something failed (a server did not
start, failed requests), 2 on bad usage (no bundle, no wrk).
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import platform
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BACKEND = ROOT / "backend"
VENV_BIN = Path(sys.executable).parent
RESULTS = ROOT / "benchmarks" / "results"
DATA = ROOT / "data" / "german_credit.csv"
CPU_LATENCY_DEVICE = "/dev/cpu_dma_latency"

WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open("%(body)s", "rb"))
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


class BenchmarkError(Exception):
    """Something failed (not a missed target): exit 1."""


@dataclass
class LoadResult:
    concurrency: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


@dataclass
class ServerResult:
    name: str
    cold_start_s: list[float] = field(default_factory=list)
    single: list[LoadResult] = field(default_factory=list)
    explained: list[LoadResult] = field(default_factory=list)
    batch: LoadResult | None = None  # wrk, concurrency 1: the median round
    split_batch: LoadResult | None = None  # mlflow only: the same rows in `dataframe_split`
    lone_batch_ms: list[float] = field(default_factory=list)
    idle_as_is: LoadResult | None = None  # c=1 with the CPU latency request released

    @property
    def cold_start(self) -> float:
        return min(self.cold_start_s)

    @property
    def lone_batch_median_ms(self) -> float:
        return statistics.median(self.lone_batch_ms)

    def at(self, concurrency: int) -> LoadResult:
        return next(r for r in self.single if r.concurrency == concurrency)


@dataclass
class ServerSpec:
    """How to start one server and where to send its requests."""

    name: str
    command: list[str]
    cwd: Path
    env: dict[str, str]
    ready_path: str
    single_path: str
    batch_path: str
    single_body: bytes
    batch_body: bytes
    split_batch_body: bytes | None = None
    explain_path: str | None = None


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


PINNING = {"mode": "wrk"}


class CpuLatencyRequest:
    """A PM QoS CPU wake-up latency request: held while its file descriptor is open with the value
    written (the kernel drops it when the descriptor closes, also when this process dies)."""

    def __init__(self, microseconds: int | None) -> None:
        self.microseconds = microseconds
        self._fd: int | None = None
        self.problem = "" if microseconds is not None else "not requested (--cpu-latency-us none)"

    @property
    def held(self) -> bool:
        return self._fd is not None

    def hold(self) -> bool:
        """Take the request; False (and `problem` says why) when the device cannot be written."""
        if self.microseconds is None or self.held:
            return self.held
        try:
            fd = os.open(CPU_LATENCY_DEVICE, os.O_WRONLY)
        except OSError as exc:
            self.problem = f"cannot open {CPU_LATENCY_DEVICE}: {exc.strerror}"
            return False
        try:
            os.write(fd, struct.pack("i", self.microseconds))
        except OSError as exc:
            os.close(fd)
            self.problem = f"cannot write {CPU_LATENCY_DEVICE}: {exc.strerror}"
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    @contextmanager
    def released(self) -> Iterator[None]:
        """The machine's own idle states for the duration of the block."""
        was_held = self.held
        self.release()
        try:
            yield
        finally:
            if was_held and not self.hold():  # the rest of the run must not measure under other conditions
                raise BenchmarkError(f"lost the CPU latency request: {self.problem}")

    def describe(self) -> str:
        if self.held:
            return f"CPU wake-up latency request of {self.microseconds} us held (idle CPUs poll)"
        return f"the machine's own CPU idle states ({self.problem})"


def pin(role: str):  # noqa: ANN201 - a preexec_fn
    """preexec_fn pinning wrk to the last CPU, and the server to the first with --pin both."""
    cpus = os.cpu_count() or 1
    if cpus < 2 or PINNING["mode"] == "none" or (role == "server" and PINNING["mode"] != "both"):
        return None
    cpu = cpus - 1 if role == "wrk" else 0
    return lambda: os.sched_setaffinity(0, {cpu})


def http_call(port: int, method: str, path: str, body: bytes | None = None, timeout: float = 60.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Server:
    """A server process: started, waited for, measured, stopped."""

    def __init__(self, spec: ServerSpec, port: int, log_path: Path) -> None:
        self.spec, self.port, self.log_path = spec, port, log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 120.0) -> float:
        """Start and poll readiness every 10 ms; the seconds from spawn to the first 200."""
        command = [part.replace("{port}", str(self.port)) for part in self.spec.command]
        with self.log_path.open("ab") as out:
            started = time.perf_counter()
            self.process = subprocess.Popen(
                command,
                cwd=self.spec.cwd,
                env=self.spec.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=pin("server"),
                start_new_session=True,
            )
        while time.perf_counter() - started < timeout_s:
            if self.process.poll() is not None:
                raise BenchmarkError(f"{self.spec.name} exited with {self.process.returncode}; see {self.log_path}")
            try:
                if http_call(self.port, "GET", self.spec.ready_path, timeout=1.0)[0] == 200:
                    return time.perf_counter() - started
            except OSError:
                pass
            time.sleep(0.01)
        self.stop()
        raise BenchmarkError(f"{self.spec.name} not ready after {timeout_s:.0f}s; see {self.log_path}")

    def stop(self) -> None:
        """SIGTERM the whole process group (mlflow serve runs uvicorn as a child) and wait until it is gone."""
        if self.process is None:
            return
        group = self.process.pid
        signal_group(group, 15)
        deadline = time.monotonic() + 15
        while group_alive(group) and time.monotonic() < deadline:
            self.process.poll()
            time.sleep(0.05)
        if group_alive(group):
            signal_group(group, 9)
        self.process.wait()
        self.process = None


def signal_group(group: int, signum: int) -> None:
    try:
        os.killpg(group, signum)
    except ProcessLookupError:
        pass


def group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def run_wrk(port: int, path: str, body_file: Path, concurrency: int, seconds: int, work: Path) -> LoadResult:
    script = work / f"post-{body_file.stem}.lua"
    script.write_text(WRK_SCRIPT % {"body": body_file})
    command = ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "30s", "-s", str(script)]
    completed = subprocess.run(
        [*command, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, preexec_fn=pin("wrk")
    )
    line = next((ln for ln in completed.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if completed.returncode != 0 or line is None:
        raise BenchmarkError(f"wrk failed ({completed.returncode}): {completed.stderr.strip() or completed.stdout}")
    stats = json.loads(line.removeprefix("WRKJSON "))
    return LoadResult(
        concurrency=concurrency,
        requests_per_s=stats["requests"] / (stats["duration_us"] / 1e6),
        p50_ms=stats["p50_us"] / 1000,
        p99_ms=stats["p99_us"] / 1000,
        requests=stats["requests"],
        errors=stats["socket_errors"] + stats["non_2xx"],
    )


def time_batches(port: int, path: str, body: bytes, repeats: int) -> list[float]:
    """Wall time of each batch request, in milliseconds."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    times = []
    try:
        for _ in range(repeats):
            started = time.perf_counter()
            conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            if response.status != 200:
                raise BenchmarkError(f"batch request to :{port}{path} answered {response.status}")
            times.append(elapsed * 1000)
    finally:
        conn.close()
    return times


class InProcess:
    """The backend's scoring service loaded in this process: the call /predict makes, minus HTTP."""

    def __init__(self, bundle: Path, example: dict[str, Any]) -> None:
        sys.path.insert(0, str(BACKEND))
        from app.core.config import Settings
        from app.core.state import load_service

        self.service = load_service(Settings(MODEL_DIR=bundle), [])
        self.applicant = self.service.parser.one_from_dict(example)
        self.body = json.dumps(example).encode()
        self.rounds: dict[str, list[float]] = {"predict": [], "validate_and_predict": [], "predict_spaced": []}

    def measure(self, calls: int = 2000, spaced_calls: int = 500) -> dict[str, float]:
        """Median microseconds of one single-row prediction: back to back (the target's reference),
        with JSON validation, and spaced 0.3 ms apart like requests at concurrency 1 (for information:
        caches go cold while the CPU waits, as they do between requests)."""
        timings: dict[str, list[float]] = {name: [] for name in self.rounds}
        for _ in range(calls):
            started = time.perf_counter_ns()
            self.service.predict([self.applicant], "single")
            middle = time.perf_counter_ns()
            self.service.predict([self.service.parser.one_from_json(self.body)], "single")
            timings["predict"].append((middle - started) / 1000)
            timings["validate_and_predict"].append((time.perf_counter_ns() - middle) / 1000)
        for _ in range(spaced_calls):
            time.sleep(0.0003)
            started = time.perf_counter_ns()
            self.service.predict([self.applicant], "single")
            timings["predict_spaced"].append((time.perf_counter_ns() - started) / 1000)
        medians = {name: statistics.median(values[len(values) // 10 :]) for name, values in timings.items()}
        for name, value in medians.items():
            self.rounds[name].append(value)
        return medians

    def median(self, name: str = "predict") -> float:
        """The median over the rounds measured so far."""
        return statistics.median(self.rounds[name])


def batch_records(metadata: dict[str, Any], rows: int) -> list[dict[str, Any]]:
    """Real applicants from the dataset (cycled to `rows`), typed as the schema says."""
    features = {f["name"]: f for f in metadata["features"]}
    with DATA.open(newline="", encoding="utf-8") as handle:
        source = list(csv.DictReader(handle))
    out = []
    for i in range(rows):
        raw = source[i % len(source)]
        record: dict[str, Any] = {}
        for name in metadata["feature_order"]:
            feature = features[name]
            if feature["type"] == "categorical":
                record[name] = raw[name]
            else:
                record[name] = int(float(raw[name])) if feature["dtype"] == "integer" else float(raw[name])
        out.append(record)
    return out


def dataframe_records(records: list[dict[str, Any]]) -> bytes:
    """MLflow's records format: the same JSON array of applicants our batch endpoint takes."""
    return json.dumps({"dataframe_records": records}).encode()


def dataframe_split(records: list[dict[str, Any]], columns: list[str]) -> bytes:
    """MLflow's columnar format (a third of the bytes), measured for information."""
    data = [[r[c] for c in columns] for r in records]
    return json.dumps({"dataframe_split": {"columns": columns, "data": data}}).encode()


def server_specs(bundle: Path, metadata: dict[str, Any], batch_rows: int) -> list[ServerSpec]:
    example = metadata["example"]
    columns = metadata["feature_order"]
    records = batch_records(metadata, batch_rows)
    base_env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    ours = ServerSpec(
        name="backend",
        command=[
            str(VENV_BIN / "uvicorn"),
            "app.main:app",
            "--http",
            "app.http_protocol:CoalescingHttpToolsProtocol",
            "--host",
            "127.0.0.1",
            "--port",
            "{port}",
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=BACKEND,
        env={
            **base_env,
            "MODEL_DIR": str(bundle),
            "DEPLOY_COLOR": "blue",
            "LOG_LEVEL": "WARNING",
            # Measured as in production: every prediction goes to the prediction log.
            "PREDICTION_LOG_PATH": str(Path(tempfile.mkdtemp(prefix="bench-log-")) / "predictions.db"),
        },
        ready_path="/ready",
        single_path="/predict?explain=false",
        explain_path="/predict",
        batch_path="/predict/batch",
        single_body=json.dumps(example).encode(),
        batch_body=json.dumps(records).encode(),
    )
    mlflow = ServerSpec(
        name="mlflow models serve",
        command=[
            str(VENV_BIN / "mlflow"),
            "models",
            "serve",
            "-m",
            str(bundle / metadata.get("model_path", "model")),
            "--env-manager",
            "local",
            "--host",
            "127.0.0.1",
            "-p",
            "{port}",
            "-w",
            "1",
        ],
        cwd=ROOT,
        env={**base_env, "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true"},
        ready_path="/ping",
        single_path="/invocations",
        batch_path="/invocations",
        single_body=dataframe_records([example]),
        batch_body=dataframe_records(records),
        split_batch_body=dataframe_split(records, columns),
    )
    return [ours, mlflow]


def start_servers(specs: list[ServerSpec], args: argparse.Namespace, work: Path) -> list[tuple[Server, ServerResult]]:
    """Measure each server's cold start (fresh process each time); leave the last process running."""
    running = []
    try:
        for spec in specs:
            server, result = Server(spec, free_port(), work / f"{spec.name.split()[0]}.log"), ServerResult(spec.name)
            running.append((server, result))
            for attempt in range(args.cold_starts):
                if attempt:
                    server.stop()
                result.cold_start_s.append(server.start())
                log(f"{spec.name}: cold start {attempt + 1}/{args.cold_starts}: {result.cold_start_s[-1]:.2f} s")
            status, answer = http_call(server.port, "POST", spec.single_path, spec.single_body)
            if status != 200:
                raise BenchmarkError(f"{spec.name}: single request answered {status}: {answer[:300]!r}")
    except BaseException:
        for server, _ in running:
            server.stop()
        raise
    return running


def median_load(loads: list[LoadResult]) -> LoadResult:
    """Per-measure median over the rounds."""
    return LoadResult(
        concurrency=loads[0].concurrency,
        requests_per_s=statistics.median(r.requests_per_s for r in loads),
        p50_ms=statistics.median(r.p50_ms for r in loads),
        p99_ms=statistics.median(r.p99_ms for r in loads),
        requests=sum(r.requests for r in loads),
        errors=sum(r.errors for r in loads),
    )


IDLE_AS_IS = "idle as is"  # the c=1 runs with the CPU latency request released


class Rounds:
    """The wrk runs of interleaved rounds, kept by measure; the median round of each counts."""

    def __init__(self, seconds: int, work: Path) -> None:
        self.seconds, self.work = seconds, work
        self.loads: dict[Hashable, list[LoadResult]] = {}

    def __contains__(self, key: Hashable) -> bool:
        return key in self.loads

    def run(self, key: Hashable, label: str, server: Server, path: str, body: Path, concurrency: int) -> None:
        load = run_wrk(server.port, path, body, concurrency, self.seconds, self.work)
        self.loads.setdefault(key, []).append(load)
        log(f"{label}: {load.requests_per_s:,.1f} req/s, p50 {load.p50_ms:.2f} ms, p99 {load.p99_ms:.2f} ms")

    def median(self, key: Hashable) -> LoadResult:
        return median_load(self.loads[key])


def measure(
    running: list[tuple[Server, ServerResult]],
    in_process: InProcess,
    cpu_latency: CpuLatencyRequest,
    args: argparse.Namespace,
    work: Path,
) -> None:
    """Interleave the servers (round after round) so background noise hits both alike; the
    in-process predict time is measured in each round too, just before the c=1 runs, and, while
    a CPU latency request is held, c=1 once more with it released (for information)."""
    bodies = {}
    for server, _ in running:
        bodies[server] = work / f"{server.spec.name.split()[0]}-single.json"
        bodies[server].write_bytes(server.spec.single_body)
        run_wrk(server.port, server.spec.single_path, bodies[server], 8, 2, work)  # warm-up
    rounds = Rounds(args.duration, work)
    for round_number in range(1, args.rounds + 1):
        predict_us = in_process.measure()["predict"]
        log(f"round {round_number}/{args.rounds}: in-process predict of one row: {predict_us:.0f} us")
        for concurrency in args.concurrency:
            for server, result in running:
                label = f"round {round_number}/{args.rounds} {result.name}: c={concurrency}"
                rounds.run(
                    (result.name, concurrency), label, server, server.spec.single_path, bodies[server], concurrency
                )
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
            for concurrency in (1, 8):
                load = run_wrk(server.port, server.spec.explain_path, bodies[server], concurrency, args.duration, work)
                result.explained.append(load)
                log(f"{result.name}: /predict with top_factors, c={concurrency}: {load.requests_per_s:,.0f} req/s")
    measure_batches(running, args, work)
    for _, result in running:
        loads = result.single + result.explained + [b for b in (result.batch, result.split_batch) if b]
        if any(r.errors for r in loads):
            raise BenchmarkError(f"{result.name}: some requests failed (see its log)")


def measure_batches(running: list[tuple[Server, ServerResult]], args: argparse.Namespace, work: Path) -> None:
    """The batch under wrk at concurrency 1 (rounds interleaved, the median round counting), then
    lone batches, each right after the other server's (for information)."""
    bodies: dict[str, Path] = {}
    for server, _ in running:
        for kind, body in (("batch", server.spec.batch_body), ("split", server.spec.split_batch_body)):
            if body is not None:
                bodies[f"{server.spec.name}/{kind}"] = work / f"{server.spec.name.split()[0]}-{kind}.json"
                bodies[f"{server.spec.name}/{kind}"].write_bytes(body)
        run_wrk(server.port, server.spec.batch_path, bodies[f"{server.spec.name}/batch"], 1, 2, work)  # warm-up
    rounds = Rounds(args.duration, work)
    for round_number in range(1, args.rounds + 1):
        for server, result in running:
            for key in (k for k in bodies if k.startswith(f"{server.spec.name}/")):
                label = f"round {round_number}/{args.rounds} {key}: {args.batch_rows}-row batch, c=1"
                rounds.run(key, label, server, server.spec.batch_path, bodies[key], 1)
    for server, result in running:
        result.batch = rounds.median(f"{server.spec.name}/batch")
        if f"{server.spec.name}/split" in rounds:
            result.split_batch = rounds.median(f"{server.spec.name}/split")
    for _ in range(args.batch_repeats):
        for server, result in running:
            result.lone_batch_ms += time_batches(server.port, server.spec.batch_path, server.spec.batch_body, 1)
    for _, result in running:
        log(f"{result.name}: lone {args.batch_rows}-row batch: median {result.lone_batch_median_ms:.1f} ms")


def targets(ours: ServerResult, theirs: ServerResult, predict_us: float) -> list[tuple[str, bool, str]]:
    c1 = ours.at(1)
    idle_note = (
        f"; with the machine's own idle states {ours.idle_as_is.p50_ms * 1000:.0f} us" if ours.idle_as_is else ""
    )
    c8_ratio = ours.at(8).requests_per_s / theirs.at(8).requests_per_s
    assert ours.batch is not None and theirs.batch is not None
    batch_ratio = theirs.batch.p50_ms / ours.batch.p50_ms
    cold_ratio = ours.cold_start / theirs.cold_start
    return [
        ("single-row throughput at c=8 >= 20x mlflow serve", c8_ratio >= 20, f"{c8_ratio:.1f}x"),
        (
            "p50 at c=1 <= 4x in-process predict of one row",
            c1.p50_ms * 1000 <= 4 * predict_us,
            f"{c1.p50_ms * 1000:.0f} us vs 4 x {predict_us:.0f} us = {4 * predict_us:.0f} us{idle_note}",
        ),
        (
            "1,000-row batch >= 3x faster than mlflow serve (p50 at c=1)",
            batch_ratio >= 3,
            f"{batch_ratio:.1f}x ({ours.batch.p50_ms:.2f} vs {theirs.batch.p50_ms:.2f} ms)",
        ),
        (
            "cold start < 1/3 of mlflow serve's",
            cold_ratio < 1 / 3,
            f"{ours.cold_start:.2f} s vs {theirs.cold_start:.2f} s",
        ),
    ]


def throughput_row(measure: str, a: LoadResult, b: LoadResult, decimals: int) -> str:
    """A table row: requests/s of both servers and ours over theirs."""
    return (
        f"| {measure}: requests/s | {a.requests_per_s:,.{decimals}f} | {b.requests_per_s:,.{decimals}f} "
        f"| {a.requests_per_s / b.requests_per_s:.1f}x |"
    )


def latency_row(measure: str, a: LoadResult, b: LoadResult) -> str:
    """A table row: p50 / p99 of both servers and theirs over ours."""
    return (
        f"| {measure}: p50 / p99 ms | {a.p50_ms:.2f} / {a.p99_ms:.2f} "
        f"| {b.p50_ms:.2f} / {b.p99_ms:.2f} | {b.p50_ms / a.p50_ms:.1f}x / {b.p99_ms / a.p99_ms:.1f}x |"
    )


def table(ours: ServerResult, theirs: ServerResult, args: argparse.Namespace) -> list[str]:
    rows = ["| measure | this backend | mlflow models serve | ratio |", "| --- | ---: | ---: | ---: |"]
    for concurrency in args.concurrency:
        a, b = ours.at(concurrency), theirs.at(concurrency)
        rows += [
            throughput_row(f"single row, c={concurrency}", a, b, 0),
            latency_row(f"single row, c={concurrency}", a, b),
        ]
    if ours.idle_as_is and theirs.idle_as_is:
        rows.append(
            latency_row("single row, c=1, the machine's own CPU idle states", ours.idle_as_is, theirs.idle_as_is)
        )
    assert ours.batch is not None and theirs.batch is not None
    a, b = ours.batch, theirs.batch
    batch = f"{args.batch_rows}-row batch, c=1"
    rows += [throughput_row(batch, a, b, 1), latency_row(batch, a, b)]
    if theirs.split_batch:
        split = theirs.split_batch
        rows.append(
            f"| {args.batch_rows}-row batch, mlflow in `dataframe_split`, c=1: p50 ms | {a.p50_ms:.2f} "
            f"| {split.p50_ms:.2f} | {split.p50_ms / a.p50_ms:.1f}x |"
        )
    lone_ours, lone_theirs = ours.lone_batch_median_ms, theirs.lone_batch_median_ms
    rows.append(
        f"| lone {args.batch_rows}-row batch right after the other server's: median ms | {lone_ours:.1f} "
        f"| {lone_theirs:.1f} | {lone_theirs / lone_ours:.1f}x |"
    )
    rows.append(
        f"| cold start (start -> ready) s | {ours.cold_start:.2f} | {theirs.cold_start:.2f} "
        f"| {theirs.cold_start / ours.cold_start:.1f}x |"
    )
    for load in ours.explained:
        rows.append(
            f"| /predict with top_factors, c={load.concurrency}: requests/s (p50 ms) "
            f"| {load.requests_per_s:,.0f} ({load.p50_ms:.2f}) | n/a | |"
        )
    return rows


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def write_results(payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    target = RESULTS / f"serving-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}.json"
    with tempfile.NamedTemporaryFile("w", dir=RESULTS, delete=False, suffix=".tmp") as handle:
        json.dump(payload, handle, indent=2)
    os.replace(handle.name, target)
    return target


def cpu_latency_value(text: str) -> int | None:
    """--cpu-latency-us: microseconds (0 or more) or `none`."""
    if text == "none":
        return None
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected microseconds (0 or more) or none, got {text!r}")
    return int(text)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "models" / "credit-default" / "latest")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per measure; the median counts")
    parser.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 8, 32])
    parser.add_argument("--batch-rows", type=int, default=1000)
    parser.add_argument("--batch-repeats", type=int, default=20, help="lone batches per server (for information)")
    parser.add_argument("--cold-starts", type=int, default=3, help="starts per server; the best one counts")
    parser.add_argument(
        "--pin",
        choices=["none", "wrk", "both"],
        default="wrk",
        help="CPU pinning: none; wrk on the last CPU (default); or also the server on the first CPU",
    )
    parser.add_argument(
        "--cpu-latency-us",
        type=cpu_latency_value,
        default=0,
        help="CPU wake-up latency request held while measuring (0: idle CPUs poll); none: the machine's idle states",
    )
    args = parser.parse_args(argv)
    if not {1, 8} <= set(args.concurrency):
        parser.error("--concurrency must include 1 and 8 (the targets use them)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    PINNING["mode"] = args.pin
    bundle = args.bundle.resolve()
    if not (bundle / "metadata.json").is_file():
        print(f"error: no bundle at {args.bundle}; train one with `make train`", file=sys.stderr)
        return 2
    if shutil.which("wrk") is None:
        print("error: wrk is not installed; run `make system-deps`", file=sys.stderr)
        return 2
    metadata = json.loads((bundle / "metadata.json").read_text())
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(BACKEND / "app")], check=True)
    log(f"bundle {bundle} (v{metadata['version']}, {metadata['algorithm']}); machine: {machine()}")
    in_process = InProcess(bundle, metadata["example"])
    cpu_latency = CpuLatencyRequest(args.cpu_latency_us)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            running = start_servers(server_specs(bundle, metadata, args.batch_rows), args, Path(tmp))
            try:
                cpu_latency.hold()
                conditions = cpu_latency.describe()
                log(f"measuring with {conditions}")
                measure(running, in_process, cpu_latency, args, Path(tmp))
            finally:
                cpu_latency.release()
                for server, _ in running:
                    server.stop()
    except BenchmarkError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    results = [result for _, result in running]
    ours, theirs = results
    predict_us = {name: in_process.median(name) for name in in_process.rounds}
    checks = targets(ours, theirs, predict_us["predict"])
    print()
    print("\n".join(table(ours, theirs, args)))
    print(
        f"\nin-process predict of one row: {predict_us['predict']:.0f} us back to back "
        f"({predict_us['validate_and_predict']:.0f} us with JSON validation, "
        f"{predict_us['predict_spaced']:.0f} us when spaced like the c=1 requests)\nmachine: {machine()}"
        f"\nmeasured with {conditions}"
    )
    for name, passed, detail in checks:
        print(f"{'PASS' if passed else 'FAIL'}  {name}: {detail}")
    path = write_results(
        {
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": machine(),
            "cpu_idle": conditions,
            "bundle": {"path": str(bundle), "version": metadata["version"], "algorithm": metadata["algorithm"]},
            "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "in_process_us": {"median": predict_us, "rounds": in_process.rounds},
            "servers": [asdict(r) for r in results],
            "targets": [{"target": n, "passed": p, "detail": d} for n, p, d in checks],
        }
    )
    print(f"\nresults: {path.relative_to(ROOT)} ({sum(p for _, p, _ in checks)}/{len(checks)} targets met)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
