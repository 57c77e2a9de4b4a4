"""Server launches: the port placeholder, the backend's launch, and a real process group started and stopped."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from benchmarks.serving import BenchmarkError
from benchmarks.serving.cpu_latency import CpuPinning
from benchmarks.serving.servers import (
    BACKEND,
    PORT,
    Launch,
    Server,
    ServerSpec,
    backend_launch,
    free_port,
    group_alive,
)


def test_port_placeholder_is_filled_in_the_command_and_the_environment(tmp_path: Path) -> None:
    launch = Launch(["serve", f"--port={PORT}"], tmp_path, {"PORT": PORT, "OTHER": "x"})
    assert launch.on_port(8123) == Launch(["serve", "--port=8123"], tmp_path, {"PORT": "8123", "OTHER": "x"})
    assert launch.command == ["serve", f"--port={PORT}"]  # the spec itself is kept for the next start


def test_backend_launch_serves_the_bundle_on_the_given_port(tmp_path: Path) -> None:
    launch = backend_launch(tmp_path / "bundle", tmp_path).on_port(8123)
    assert launch.cwd == BACKEND
    assert "8123" in launch.command or launch.env.get("PORT") == "8123"
    assert str(tmp_path / "bundle") in launch.env.values()
    assert launch.env["PREDICTION_LOG_PATH"].startswith(str(tmp_path))


def spec(command: str, tmp_path: Path) -> ServerSpec:
    return ServerSpec(
        name="test server",
        launch=Launch(["sh", "-c", command], tmp_path, {"PATH": "/usr/bin:/bin"}),
        ready_path="/",
        single_path="/",
        batch_path="/",
        single_body=b"{}",
        batch_body=b"[]",
    )


@pytest.mark.slow
def test_server_is_ready_then_its_whole_process_group_is_stopped(tmp_path: Path) -> None:
    http_server = shlex.join([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", PORT])
    # A shell with the server as its child, as `mlflow models serve` runs uvicorn.
    server = Server(spec(f"{http_server} & wait", tmp_path), free_port(), tmp_path / "server.log", CpuPinning("none"))
    assert server.start(timeout_s=30) > 0
    assert server.process is not None
    group = server.process.pid
    assert group_alive(group)
    server.stop()
    assert not group_alive(group)
    assert server.process is None


@pytest.mark.slow
def test_server_that_exits_is_a_benchmark_error_naming_its_log(tmp_path: Path) -> None:
    server = Server(spec("exit 3", tmp_path), free_port(), tmp_path / "server.log", CpuPinning("none"))
    with pytest.raises(BenchmarkError, match=r"test server exited with 3; see .*server\.log"):
        server.start(timeout_s=30)
    server.stop()
