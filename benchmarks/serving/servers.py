"""The two servers under test: how each is launched, its cold starts, readiness polling and stopping it."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.serving import ROOT, BenchmarkError, log
from benchmarks.serving.cpu_latency import CpuPinning
from benchmarks.serving.payloads import batch_records, dataframe_records, dataframe_split
from benchmarks.serving.results import ServerResult
from deploy.api_keys import ApiKeyStore

BACKEND = ROOT / "backend"
VENV_BIN = Path(sys.executable).parent
PORT = "{port}"  # in a launch's command or environment: replaced by the port the server is given


@dataclass(frozen=True)
class Launch:
    """A server process: its command line, folder and environment (`{port}` may stand in the command or the env)."""

    command: list[str]
    cwd: Path
    env: dict[str, str]

    def on_port(self, port: int) -> Launch:
        """This launch with `{port}` replaced by `port`."""
        return Launch(
            command=[part.replace(PORT, str(port)) for part in self.command],
            cwd=self.cwd,
            env={name: value.replace(PORT, str(port)) for name, value in self.env.items()},
        )


def venv_env() -> dict[str, str]:
    """This process's environment with the virtualenv's executables first on PATH."""
    return {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def bench_key(work: Path) -> str:
    """A key (scope score) in a key store of its own in `work`: the benchmark's requests are authenticated, as in
    production."""
    return ApiKeyStore(work / "api-keys.json").create("benchmark", ["score"])


def auth_headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def backend_launch(bundle: Path, work: Path) -> Launch:
    """How the benchmark starts this backend on `bundle`: one worker on 127.0.0.1, no access log, and, as in
    production, every prediction written to the prediction log and every request authenticated (the key store in
    `work`, see bench_key). The one place that knows the backend's launcher and its environment names."""
    return Launch(
        command=[str(VENV_BIN / "python"), "-m", "app"],
        cwd=BACKEND,
        env={
            **venv_env(),
            "SERVED_BUNDLE": str(bundle),
            "HOST": "127.0.0.1",
            "PORT": PORT,
            "WORKERS": "1",
            "DEPLOY_COLOR": "blue",
            "LOG_LEVEL": "WARNING",
            "PREDICTION_LOG_PATH": str(work / "predictions.db"),
            "API_KEYS_PATH": str(work / "api-keys.json"),
        },
    )


def mlflow_launch(model: Path) -> Launch:
    """`mlflow models serve` on the bundle's MLflow model: one worker on 127.0.0.1, this virtualenv."""
    return Launch(
        command=[
            str(VENV_BIN / "mlflow"),
            "models",
            "serve",
            "-m",
            str(model),
            "--env-manager",
            "local",
            "--host",
            "127.0.0.1",
            "-p",
            PORT,
            "-w",
            "1",
        ],
        cwd=ROOT,
        env={**venv_env(), "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true"},
    )


@dataclass
class ServerSpec:
    """How to start one server and where to send its requests."""

    name: str
    launch: Launch
    ready_path: str
    single_path: str
    batch_path: str
    single_body: bytes
    batch_body: bytes
    split_batch_body: bytes | None = None
    explain_path: str | None = None  # /predict with reasons (ours only)
    explain_batch_path: str | None = None  # the batch with reasons (ours only)
    headers: dict[str, str] = field(default_factory=dict)  # sent with every request (ours: the API key)

    @property
    def file_stem(self) -> str:
        """The start of its name, for the files written for it (log, request bodies)."""
        return self.name.split()[0]


def server_specs(bundle: Path, metadata: dict[str, Any], batch_rows: int, work: Path) -> list[ServerSpec]:
    """This backend and `mlflow models serve` on the same bundle, with the same applicants in each one's format."""
    example = metadata["example"]
    records = batch_records(metadata, batch_rows)
    ours = ServerSpec(
        name="backend",
        launch=backend_launch(bundle, work),
        ready_path="/ready",
        single_path="/predict?explain=false",
        explain_path="/predict",
        batch_path="/predict/batch",
        explain_batch_path="/predict/batch?explain=true",
        single_body=json.dumps(example).encode(),
        batch_body=json.dumps(records).encode(),
        headers=auth_headers(bench_key(work)),
    )
    mlflow = ServerSpec(
        name="mlflow models serve",
        launch=mlflow_launch(bundle / metadata.get("model_path", "model")),
        ready_path="/ping",
        single_path="/invocations",
        batch_path="/invocations",
        single_body=dataframe_records([example]),
        batch_body=dataframe_records(records),
        split_batch_body=dataframe_split(records, metadata["feature_order"]),
    )
    return [ours, mlflow]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_call(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    timeout: float = 60.0,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        sent = {**(headers or {}), **({"Content-Type": "application/json"} if body is not None else {})}
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Server:
    """A server process: started, waited for, measured, stopped."""

    def __init__(self, spec: ServerSpec, port: int, log_path: Path, pinning: CpuPinning) -> None:
        self.spec, self.port, self.log_path, self.pinning = spec, port, log_path, pinning
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 120.0) -> float:
        """Start and poll readiness every 10 ms; the seconds from spawn to the first 200."""
        launch = self.spec.launch.on_port(self.port)
        with self.log_path.open("ab") as out:
            started = time.perf_counter()
            self.process = subprocess.Popen(
                launch.command,
                cwd=launch.cwd,
                env=launch.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=self.pinning.preexec_fn("server"),
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


def start_servers(
    specs: list[ServerSpec], cold_starts: int, pinning: CpuPinning, work: Path
) -> list[tuple[Server, ServerResult]]:
    """Measure each server's cold start (fresh process each time); leave the last process running."""
    running = []
    try:
        for spec in specs:
            server, result = Server(spec, free_port(), work / f"{spec.file_stem}.log", pinning), ServerResult(spec.name)
            running.append((server, result))
            for attempt in range(cold_starts):
                if attempt:
                    server.stop()
                result.cold_start_s.append(server.start())
                log(f"{spec.name}: cold start {attempt + 1}/{cold_starts}: {result.cold_start_s[-1]:.2f} s")
            status, answer = http_call(server.port, "POST", spec.single_path, spec.single_body, headers=spec.headers)
            if status != 200:
                raise BenchmarkError(f"{spec.name}: single request answered {status}: {answer[:300]!r}")
    except BaseException:
        for server, _ in running:
            server.stop()
        raise
    return running
