"""The public edge (nginx): per-client limits rendered from the deploy settings, nginx's own refusals in the API's
JSON error shape, security headers; then the real image: `nginx -t` of the configuration and its answers
(413, 429 with Retry-After, 431, 502) with nothing but nginx running."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from app.core.config import Settings
from app.core.errors import ApiError
from deploy import tls
from deploy.commands import reload_nginx
from deploy.context import Context
from deploy.errors import UsageError
from deploy.public_client import VerifiedSession
from deploy.nginx_config import API_LIMITS, LIMIT_ZONES, ActiveFile, EdgeLimits, render_limits
from deploy.settings import ROOT, DeploySettings
from deploy.tests.fake_docker import FakeDocker
from tests.kit.docker import ensure_docker_engine
from tests.kit.ports import free_port

NGINX = ROOT / "nginx"
IMAGE = "credit-risk/nginx:edge-test"


def read(name: str) -> str:
    return (NGINX / name).read_text(encoding="utf-8")


def locations(text: str) -> dict[str, str]:
    """Each `location <match> {` block's body, by its match (blocks do not nest in these files)."""
    return {m.group(1): m.group(2) for m in re.finditer(r"^\s*location ([^{]+?) \{\n(.*?)^\s*\}", text, re.M | re.S)}


def test_the_limits_are_settings_with_generous_defaults_and_bad_values_are_named() -> None:
    limits = EdgeLimits.from_settings(DeploySettings.from_env({}))
    assert limits == EdgeLimits(rate=500, burst=1000, connections=64)
    custom = DeploySettings.from_env({"API_RATE_PER_CLIENT": "20", "API_BURST_PER_CLIENT": "5"})
    assert EdgeLimits.from_settings(custom) == EdgeLimits(20, 5, 64)
    with pytest.raises(UsageError, match="API_CONNECTIONS_PER_CLIENT must be a whole number from 1 to 65535, got '0'"):
        DeploySettings.from_env({"API_CONNECTIONS_PER_CLIENT": "0"})
    with pytest.raises(UsageError, match="got '65536'"):  # nginx's limit_conn stops below 65536
        DeploySettings.from_env({"API_CONNECTIONS_PER_CLIENT": "65536"})


def test_the_rendered_limits_count_each_client_address_on_the_public_api_only() -> None:
    files = render_limits(EdgeLimits(rate=20, burst=5, connections=3))
    assert "limit_req_zone $api_client zone=api_rate:10m rate=20r/s;" in files[LIMIT_ZONES]
    assert "limit_conn_zone $api_client zone=api_conn:10m;" in files[LIMIT_ZONES]
    assert "limit_req zone=api_rate burst=5 nodelay;" in files[API_LIMITS]
    assert "limit_conn api_conn 3;" in files[API_LIMITS]
    main = read("nginx.conf")
    key = re.search(r"map \$server_port \$api_client \{\n(.*?)\}", main, re.S)
    assert key and "8080 $binary_remote_addr;" in key.group(1) and 'default "";' in key.group(1)
    assert "limit_req_status 429;" in main and "limit_conn_status 429;" in main
    assert "include /etc/nginx/active/limit-zones.conf;" in main
    assert "include /etc/nginx/active/api-limits.conf;" in read("snippets/api-proxy.conf"), "every /api/ location"
    routes = locations(read("snippets/stack-routes.conf"))
    api = [match for match in routes if "/api/" in match]
    assert {"/api/", "= /api/predict", "= /api/predict/batch", "/api/monitoring/", "/api/docs"} == set(api)
    assert all("include /etc/nginx/snippets/api-proxy.conf;" in routes[m] for m in api)


def test_writing_the_limits_says_whether_they_changed_and_a_change_reloads_nginx(tmp_path: Path) -> None:
    active = ActiveFile(tmp_path)
    assert active.write_limits(EdgeLimits(500, 1000, 64)) is True
    assert active.write_limits(EdgeLimits(500, 1000, 64)) is False, "the same values: no reload"
    assert active.write_limits(EdgeLimits(20, 5, 64)) is True
    for name, text in render_limits(EdgeLimits(20, 5, 64)).items():
        assert (tmp_path / name).read_text() == text
    assert sorted(p.name for p in tmp_path.iterdir()) == [API_LIMITS, LIMIT_ZONES], "no temp file left"
    docker, lines = FakeDocker(), []
    settings = DeploySettings(COMPOSE_PROJECT_NAME="unit", DEPLOY_STATE_DIR=tmp_path / "state")
    reload_nginx(Context(settings, say=lines.append, runner=docker), EdgeLimits(20, 5, 64))
    (call,) = docker.calls
    assert call[:2] == ["docker", "compose"] and call[-6:] == ["exec", "-T", "nginx", "nginx", "-s", "reload"]
    assert lines == ["up: nginx limits each client on /api/ to 20 requests/s (burst 5) and 64 requests at once"]
    failing = FakeDocker(fail={"exec"})
    reload_nginx(Context(settings, say=lines.append, runner=failing), EdgeLimits(20, 5, 64))
    assert lines[-1].startswith("up: WARNING: nginx did not re-read its limits (")


def test_the_body_limit_is_the_backends_and_nginx_refusals_have_the_apis_error_shape() -> None:
    limit = Settings().MAX_BODY_BYTES
    assert limit == 16 * 1024 * 1024 and "client_max_body_size 16m;" in read("nginx.conf")
    named = locations(read("snippets/edge-errors.conf"))
    shape = ApiError(400, "x").body().keys()
    for code in (413, 429, 431, 502, 503, 504):
        body = named[f"@api_{code}"]
        assert "default_type application/json;" in body and "include /etc/nginx/snippets/headers-api.conf;" in body
        returned = re.search(rf"return {code} '(.*)\\n';", body)
        assert returned, f"@api_{code} answers {code}"
        error = json.loads(returned.group(1))
        assert error.keys() == shape and error["errors"] == [] and error["detail"]
    assert str(limit) in named["@api_413"]
    assert "add_header Retry-After 1 always;" in named["@api_429"]
    assert "error_page 494 =431 $header_error_page;" in read("snippets/edge-errors.conf")
    pages = read("snippets/api-errors.conf")
    for code in (413, 429, 502, 503, 504):
        assert f"error_page {code} @api_{code};" in pages
    assert "include /etc/nginx/snippets/api-errors.conf;" in read("snippets/api-proxy.conf")


def test_every_route_sends_the_security_headers_for_what_it_serves() -> None:
    routes = locations(read("snippets/stack-routes.conf"))
    for match in ("/api/", "= /api/predict/batch", "/api/monitoring/", "= /api"):
        assert "include /etc/nginx/snippets/headers-api.conf;" in routes[match], match
    assert "include /etc/nginx/snippets/headers-api-docs.conf;" in routes["/api/docs"]
    for match in ("/", "= /_stcore/stream"):
        assert "include /etc/nginx/snippets/headers-ui.conf;" in routes[match], match
    common = read("snippets/headers-common.conf")
    for header in ("X-Content-Type-Options nosniff", "Referrer-Policy", "X-Frame-Options SAMEORIGIN"):
        assert f"add_header {header}" in common
    assert "Permissions-Policy" in common and common.count(" always;") == 5
    assert common.count("proxy_hide_header ") == 6, "never sent twice"
    assert "default-src 'none'; frame-ancestors 'none'" in read("snippets/headers-api.conf")
    assert "frame-ancestors 'self'\"" in read("snippets/headers-ui.conf"), "Streamlit's inline code is untouched"
    docs = read("snippets/headers-api-docs.conf")
    assert "https://cdn.jsdelivr.net" in docs and "connect-src 'self'" in docs
    assert "add_header Strict-Transport-Security $hsts always;" in common, "HSTS on HTTPS answers (test_tls.py)"


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=300)


@pytest.fixture(scope="module")
def image() -> str:
    ensure_docker_engine()
    docker("build", "-q", "-t", IMAGE, str(NGINX))
    return IMAGE


def state_dir(path: Path, limits: EdgeLimits) -> list[str]:
    """The state directory nginx mounts, for pools on 127.0.0.x (nothing listens there: every proxy gets 502), with
    a self-signed pair in tls/: `docker run`'s arguments that mount both and run nginx as docker-compose.yml does."""
    active = ActiveFile(path / "nginx")
    active.ensure("127.0.0")
    active.write_limits(limits)
    (path / "nginx").chmod(0o755)
    tls.install(path / "tls", None, None, tls.names("127.0.0.1"), print)
    nginx_user = re.search(r'^\s*user: "(10001):\$\{HOST_GID', (ROOT / "docker-compose.yml").read_text(), re.M)
    assert nginx_user, "docker-compose.yml runs nginx as 10001 in the host user's group"
    return [
        *("--user", f"{nginx_user.group(1)}:{os.getgid()}", "--cap-drop", "ALL", "--read-only"),
        *("--tmpfs", "/tmp:mode=1777", "--tmpfs", "/tmp/nginx:mode=1777"),
        *("-v", f"{path / 'nginx'}:/etc/nginx/active:ro", "-v", f"{path / 'tls'}:/etc/nginx/tls:ro"),
    ]


@pytest.mark.docker
def test_the_configuration_passes_nginx_t_in_the_image(image: str, tmp_path: Path) -> None:
    mounts = state_dir(tmp_path, EdgeLimits.from_settings(DeploySettings.from_env({})))
    done = docker("run", "--rm", *mounts, image, "nginx", "-t", check=False)
    assert done.returncode == 0 and "test is successful" in done.stderr, done.stderr


@dataclass(frozen=True)
class Edge:
    """nginx alone: its public port (HTTPS, verified against the self-signed pair it serves) and preview port."""

    url: str
    preview: str
    ca: str

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(self.url + path, verify=self.ca, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.post(self.url + path, verify=self.ca, **kwargs)


@pytest.fixture
def edge(image: str, tmp_path: Path) -> Iterator[Edge]:
    """nginx alone on free ports, 2 requests/s and a burst of 2 per client."""
    port, preview = free_port(), free_port()
    mounts = state_dir(tmp_path, EdgeLimits(rate=2, burst=2, connections=8))
    name = f"edge-test-{port}"
    docker(
        "run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:8080", "-p", f"127.0.0.1:{preview}:8081", *mounts, image
    )
    try:
        edge = Edge(f"https://127.0.0.1:{port}", f"http://127.0.0.1:{preview}", str(tmp_path / "tls" / tls.CA_BUNDLE))
        deadline = time.monotonic() + 20
        while True:
            try:
                edge.get("/nginx-health", timeout=2).raise_for_status()
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    pytest.fail(docker("logs", name, check=False).stderr[-2000:])
                time.sleep(0.2)
        yield edge
    finally:
        docker("rm", "-f", name, check=False)


def assert_api_error(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = response.json()
    assert body.keys() == {"detail", "errors"} and body["errors"] == []
    return body


@pytest.mark.docker
def test_nginx_answers_its_own_refusals_on_the_api_as_json(edge: Edge) -> None:
    unreachable = assert_api_error(edge.get("/api/health", timeout=10), 502)
    assert "unreachable" in unreachable["detail"]
    big = edge.post("/api/predict", data=b"x" * (17 * 1024 * 1024), timeout=30)
    assert "16 MiB" in assert_api_error(big, 413)["detail"]
    single = edge.post("/api/predict?explain=false", data=b"x" * (65 * 1024), timeout=30)
    assert "64 KiB" in assert_api_error(single, 413)["detail"]
    batch = edge.post("/api/predict/batch", data=b"x" * (65 * 1024), timeout=30)
    assert batch.status_code == 502, "a batch of that size goes on to a backend (none here)"
    huge = edge.get("/api/health", headers={"X-Junk": "a" * 20_000}, timeout=10)
    assert "headers too large" in assert_api_error(huge, 431)["detail"]
    page = edge.get("/", headers={"X-Junk": "a" * 20_000}, timeout=10)
    assert page.status_code == 431 and page.headers["Content-Type"] == "text/html"
    assert page.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
    with VerifiedSession(edge.ca) as session:
        statuses = [session.get(f"{edge.url}/api/health", timeout=10) for _ in range(12)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited, [r.status_code for r in statuses]
    spelled = edge.get("/%61pi/health", timeout=10)
    assert spelled.status_code == 429, "another spelling of /api/ is the same location, limited the same"
    assert "retry after" in assert_api_error(limited[0], 429)["detail"] and limited[0].headers["Retry-After"] == "1"
    ui = [edge.get("/", timeout=10).status_code for _ in range(12)]
    assert 429 not in ui, "the UI's routes are not rate limited"


@pytest.mark.docker
def test_the_public_port_speaks_tls_sends_plain_http_to_https_and_only_its_answers_carry_hsts(edge: Edge) -> None:
    answer = edge.get("/api/health", timeout=10)  # no backend: nginx's 502, over verified HTTPS
    assert answer.status_code == 502 and answer.headers["Strict-Transport-Security"] == "max-age=31536000"
    with pytest.raises(requests.exceptions.SSLError):  # self-signed: the system's authorities do not vouch for it
        requests.get(f"{edge.url}/api/health", timeout=10)
    plain = requests.get(edge.url.replace("https://", "http://") + "/api/x?y=1", timeout=10, allow_redirects=False)
    assert plain.status_code == 301 and plain.headers["Location"] == f"{edge.url}/api/x?y=1", "the same port"
    assert "Strict-Transport-Security" not in plain.headers
    preview = requests.get(f"{edge.preview}/api/health", timeout=10)
    assert preview.status_code == 502 and "Strict-Transport-Security" not in preview.headers, "plain HTTP"
    assert requests.get(f"{edge.preview}/nginx-health", timeout=10).text == "ok\n", "the image's health check"
