"""The mirror in the real nginx image, with a stand-in backend per color (deploy/tests/shadow_echo.py) in nginx's
network: shadow off touches no upstream; on, the idle color gets a copy of each public /api/predict and
/api/predict/batch request, marked X-Shadow-Of with the id the served request got as X-Request-ID; clients' copies of
both headers are dropped; the preview port is never mirrored; a slow challenger delays neither the client's answer
nor its next request on the same keep-alive connection (the copy goes through the relay, conf.d/shadow-relay.conf)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator

import pytest
import requests

from deploy import tls
from deploy.nginx_config import ActiveFile, EdgeLimits
from deploy.public_client import VerifiedSession
from deploy.tests.test_nginx_edge import state_dir
from deploy.settings import ROOT
from tests.kit.docker import ensure_docker_engine
from tests.kit.ports import free_port

pytestmark = pytest.mark.docker
IMAGE = "credit-risk/nginx:shadow-test"
PYTHON_IMAGE = "python:3.11-slim"
SLOW_S = 6.0


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=300)


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """nginx with pools on 127.0.0.x and the stand-in backends in its network; the ports, state dir and names."""
    ensure_docker_engine()
    docker("build", "-q", "-t", IMAGE, str(ROOT / "nginx"))
    home = tmp_path_factory.mktemp("edge")
    run_as_compose_does = state_dir(home, EdgeLimits(500, 1000, 64))  # nginx's user, limits, mounts, a TLS pair
    active = ActiveFile(home / "nginx")
    public, preview = free_port(), free_port()
    name = f"shadow-test-{public}"
    ports = ["-p", f"127.0.0.1:{public}:8080", "-p", f"127.0.0.1:{preview}:8081"]
    docker("run", "-d", "--name", name, *ports, *run_as_compose_does, IMAGE)
    echo = f"{name}-echo"
    script = ROOT / "deploy" / "tests" / "shadow_echo.py"
    docker(
        "run", "-d", "--name", echo, "--network", f"container:{name}", "-e", f"SLOW_S={SLOW_S}",
        "-v", f"{script}:/echo.py:ro", PYTHON_IMAGE, "python", "/echo.py",
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while "listening" not in docker("logs", echo).stdout:
            assert time.monotonic() < deadline, docker("logs", echo, check=False).stderr
            time.sleep(0.2)
        yield {"public": f"https://127.0.0.1:{public}", "preview": f"http://127.0.0.1:{preview}", "echo": echo,
               "active": active, "ca": str(home / "tls" / tls.CA_BUNDLE)}  # fmt: skip
    finally:
        docker("rm", "-f", echo, name, check=False)


def received(edge: dict, after: int) -> list[dict]:
    """What the stand-ins got, from line `after` of their output on."""
    lines = docker("logs", edge["echo"]).stdout.splitlines()[1:]
    return [json.loads(line) for line in lines[after:]]


def seen(edge: dict) -> int:
    return len(docker("logs", edge["echo"]).stdout.splitlines()) - 1


def test_off_touches_no_upstream_and_on_copies_to_the_idle_color_with_the_same_id(edge: dict) -> None:
    forged = {"X-Shadow-Of": "f" * 32, "X-Request-ID": "forged"}
    edge["active"].set_shadow(None)
    start = seen(edge)
    answer = requests.post(
        f"{edge['public']}/api/predict?explain=false", json={"a": 1}, headers=forged, timeout=5, verify=edge["ca"]
    )
    assert answer.json() == {"color": "blue"}
    time.sleep(0.3)
    (only,) = received(edge, start)
    assert only["color"] == "blue" and only["shadow_of"] is None and only["request_id"] not in (None, "forged")
    edge["active"].set_shadow("green")
    start = seen(edge)
    for path, body in (("/api/predict?explain=false", {"a": 2}), ("/api/predict/batch", [{"a": 3}])):
        started = time.perf_counter()
        answer = requests.post(f"{edge['public']}{path}", json=body, headers=forged, timeout=5, verify=edge["ca"])
        assert answer.json() == {"color": "blue"} and time.perf_counter() - started < SLOW_S / 2
    time.sleep(0.5)
    got = received(edge, start)
    served = [r for r in got if r["color"] == "blue"]
    copies = [r for r in got if r["color"] == "green"]
    assert [r["path"] for r in served] == [r["path"] for r in copies] == ["/predict?explain=false", "/predict/batch"]
    assert [r["body"] for r in served] == [r["body"] for r in copies]
    assert [r["request_id"] for r in served] == [r["shadow_of"] for r in copies], "the copy names the served request"
    assert all(len(r["request_id"]) == 32 and r["shadow_of"] is None for r in served)
    assert all(r["request_id"] is None for r in copies)
    start = seen(edge)
    requests.post(f"{edge['preview']}/api/predict", json={"a": 4}, headers=forged, timeout=5, verify=edge["ca"])
    requests.post(f"{edge['public']}/api/model", json={}, timeout=5, verify=edge["ca"])
    time.sleep(0.3)
    got = received(edge, start)
    assert [(r["color"], r["shadow_of"]) for r in got] == [("green", None), ("blue", None)], "preview, other routes"
    edge["active"].set_shadow(None)


def test_a_slow_challenger_delays_no_request_on_the_connection(edge: dict) -> None:
    edge["active"].set_shadow("green")
    try:
        with VerifiedSession(edge["ca"]) as session:
            timings = []
            for _ in range(3):
                started = time.perf_counter()
                assert session.post(f"{edge['public']}/api/predict", json={}, timeout=10).json() == {"color": "blue"}
                timings.append(time.perf_counter() - started)
    finally:
        edge["active"].set_shadow(None)
    first, second = timings[0], max(timings[1:])
    print(f"slow challenger ({SLOW_S}s): first answer {first:.3f}s, next on the same connection {second:.3f}s")
    assert first < 1.0, "the client's answer never waits for the copy"
    assert second < 1.0, "nor does the next request on the connection: the relay answered the copy at once"
