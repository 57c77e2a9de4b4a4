"""The images, compose files and nginx configuration keep the properties the stacks rely on
(non-root, pinned, health-checked, cache-friendly; ports and paths configurable; nginx details)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from deploy.service_keys import SERVICE_KEYS
from deploy.settings import ROOT

PYTHON_IMAGES = {
    "backend": ("backend/Dockerfile", "backend/requirements.txt", "COPY app"),
    "frontend": ("frontend/Dockerfile", "frontend/requirements.txt", "COPY . ."),
    "mlflow": ("mlflow/Dockerfile", "mlflow/requirements.txt", None),
    "trainer": ("training/Dockerfile", "training/requirements.txt", "COPY training ./training"),
}
SERVICES = ("backend", "frontend", "mlflow")  # long-running python services


def read(path: str) -> str:
    return (ROOT / path).read_text()


def compose() -> dict:
    """Both files merged, with `extends` resolved as compose does for these files (the extending service's
    keys win; `environment` maps are merged)."""
    base = yaml.safe_load(read("docker-compose.yml"))
    green = yaml.safe_load(read("docker-compose.green.yml"))
    for name, service in green["services"].items():
        parent = dict(base["services"][service.pop("extends")["service"]])
        environment = {**parent.get("environment", {}), **service.pop("environment", {})}
        base["services"][name] = {**parent, **service, "environment": environment}
    return base


@pytest.mark.parametrize("image", PYTHON_IMAGES)
def test_python_images_are_slim_pinned_non_root_and_cache_friendly(image: str) -> None:
    dockerfile, requirements, code_copy = PYTHON_IMAGES[image]
    text = read(dockerfile)
    assert re.findall(r"^FROM (\S+)", text, re.MULTILINE) == ["python:3.11-slim", "python:3.11-slim"]
    users = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert "--mount=type=cache,target=/root/.cache/pip" in text
    pins = [line for line in read(requirements).splitlines() if line.strip() and not line.startswith("#")]
    assert pins and all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.]+", line) for line in pins), pins
    if code_copy:
        assert text.index("pip install -r") < text.index(code_copy)  # dependencies before code


@pytest.mark.parametrize("image", SERVICES)
def test_services_have_a_python_healthcheck(image: str) -> None:
    assert re.search(r'HEALTHCHECK .*CMD \["python", "-c"', read(PYTHON_IMAGES[image][0]))


def test_the_trainer_job_has_no_healthcheck_and_the_proxy_runs_unprivileged() -> None:
    assert "HEALTHCHECK NONE" in read("training/Dockerfile")
    nginx = read("nginx/Dockerfile")
    assert "FROM nginx:1.27-alpine" in nginx and "USER nginx" in nginx and "HEALTHCHECK" in nginx


@pytest.mark.parametrize("context", ["backend", "frontend", "mlflow", "nginx", "."])
def test_every_build_context_has_a_dockerignore(context: str) -> None:
    assert (ROOT / context / ".dockerignore").is_file()


def test_the_root_context_sends_only_training_code_and_the_trainer_mounts_the_data() -> None:
    lines = [line for line in read(".dockerignore").splitlines() if line and not line.startswith("#")]
    assert lines[0] == "*"
    assert [line for line in lines if line.startswith("!")] == ["!training/"] and "training/tests/" in lines
    assert "${DATA_DIR:-./data}:/app/data:ro" in compose()["services"]["trainer"]["volumes"]


def test_compose_healthchecks_dependencies_and_volumes() -> None:
    services = compose()["services"]
    assert services["nginx"]["depends_on"] == {
        "backend-blue": {"condition": "service_healthy"},
        "frontend-blue": {"condition": "service_healthy"},
    }
    assert services["trainer"]["depends_on"]["mlflow"]["condition"] == "service_healthy"
    assert services["trainer"]["profiles"] == ["train"]
    for color in ("blue", "green"):
        assert services[f"backend-{color}"]["depends_on"]["trainer"]["condition"] == "service_completed_successfully"
        assert services[f"frontend-{color}"]["environment"]["BACKEND_URL"] == f"http://backend-{color}:8000"
        assert services[f"backend-{color}"]["environment"]["DEPLOY_COLOR"] == color
        served = services[f"backend-{color}"]["environment"]["SERVED_BUNDLE"]
        assert served == f"/bundles/credit-default/${{{color.upper()}_MODEL_VERSION:-latest}}"
        assert services[f"backend-{color}"]["volumes"] == [
            "${BUNDLES_DIR:-./models}:/bundles:ro",
            "prediction-log:/data",
            "${DEPLOY_STATE_DIR:-./.deploy/credit-risk}/auth:/auth:ro",
        ], "both colors share one prediction log and read one key store"
        assert services[f"frontend-{color}"]["volumes"] == ["${DEPLOY_STATE_DIR:-./.deploy/credit-risk}/ui:/ui:ro"]
        assert services[f"backend-{color}"]["environment"]["PREDICTION_LOG_PATH"] == "/data/predictions.db"
    assert services["mlflow"]["volumes"] == ["mlflow-db:/mlflow/db", "mlflow-artifacts:/mlflow/artifacts"]
    assert all("container_name" not in s for s in services.values())  # `-p` gives each copy its own names


def test_each_color_runs_the_images_of_its_pinned_release() -> None:
    """Compose takes every color's images from its pin (set by the deploy CLI), so a re-created container comes
    back on its own code; shared services keep their own images."""
    services = compose()["services"]
    for color in ("blue", "green"):
        for service in ("backend", "frontend"):
            image = services[f"{service}-{color}"]["image"]
            assert image == f"${{{color.upper()}_{service.upper()}_IMAGE:-credit-risk/{service}:unreleased}}"
            assert services[f"{service}-{color}"]["build"]["args"]["REVISION"] == "${RELEASE_TAG:-unknown}"
    for shared in ("mlflow", "nginx", "trainer"):
        assert services[shared]["image"] == f"credit-risk/{shared}:local"


@pytest.mark.parametrize("service", ["backend", "frontend"])
def test_release_images_carry_their_revision_as_oci_labels_and_to_the_code(service: str) -> None:
    text = read(f"{service}/Dockerfile")
    for label in ("revision", "created", "version", "source"):
        assert f"org.opencontainers.image.{label}=" in text
    assert "ENV APP_REVISION=$REVISION" in text
    assert text.index("ARG REVISION") > text.rindex("COPY "), "a new revision only changes the last layers"


def test_published_ports_are_configurable_and_only_nginx_listens_beyond_this_host() -> None:
    services = compose()["services"]
    assert services["mlflow"]["ports"] == ["127.0.0.1:${MLFLOW_PORT:-5000}:5000"]
    assert services["prometheus"]["ports"] == ["127.0.0.1:${PROMETHEUS_PORT:-9090}:9090"]
    assert services["alertmanager"]["ports"] == ["127.0.0.1:${ALERTMANAGER_PORT:-9093}:9093"]
    assert services["nginx"]["ports"] == [
        "${PUBLIC_BIND:-0.0.0.0}:${PUBLIC_PORT:-8080}:8080",
        "${PREVIEW_BIND:-127.0.0.1}:${PREVIEW_PORT:-8081}:8081",
    ]
    published = [s for s, spec in services.items() if spec.get("ports")]
    assert published == ["mlflow", "nginx", "prometheus", "alertmanager"]


def test_the_controller_runs_always_as_the_host_user_with_the_state_directory() -> None:
    controller = compose()["services"]["controller"]
    assert controller["restart"] == "always"
    assert controller["user"] == "${HOST_UID:-10001}:${HOST_GID:-10001}"
    assert controller["volumes"] == ["${DEPLOY_STATE_DIR:-./.deploy/credit-risk}:/state"]
    assert controller["networks"]["default"]["ipv4_address"] == "${STACK_NET:-172.30.77}.5"
    assert "CMD" in read("deploy/Dockerfile") and 'python", "-m", "deploy.controller' in read("deploy/Dockerfile")


def test_the_guard_has_no_network_no_capabilities_and_only_the_engine_socket() -> None:
    guard = compose()["services"]["guard"]
    assert guard["network_mode"] == "none" and guard["read_only"] is True and guard["cap_drop"] == ["ALL"]
    assert guard["volumes"] == ["${DOCKER_SOCKET:-/var/run/docker.sock}:/var/run/docker.sock"]
    assert guard["user"].startswith("65534:"), "nobody, in the socket's group"
    assert guard["command"] == ["python", "-m", "deploy.guard"]
    assert set(guard["depends_on"]) == {"nginx", "controller"}, "compose down stops the guard first"


def test_prometheus_and_alertmanager_are_the_pinned_images() -> None:
    services = compose()["services"]
    assert services["alertmanager"]["image"] == "prom/alertmanager:v0.25.0"
    assert "\nFROM prom/prometheus:v2.42.0\n" in read("prometheus/Dockerfile")
    scrape = yaml.safe_load(read("prometheus/prometheus.yml"))["scrape_configs"]
    backends = next(job for job in scrape if job["job_name"] == "backend")["static_configs"]
    assert {tuple(t["targets"]): t["labels"]["color"] for t in backends} == {
        ("backend-blue:8000",): "blue",
        ("backend-green:8000",): "green",
    }, "scraped on the internal network, never through the public port, labelled by color"


def test_prometheus_scrapes_the_backends_with_its_own_service_key() -> None:
    scrape = yaml.safe_load(read("prometheus/prometheus.yml"))["scrape_configs"]
    backend = next(job for job in scrape if job["job_name"] == "backend")
    credentials = Path(backend["authorization"]["credentials_file"])
    mounts = [m.rsplit(":", 2) for m in compose()["services"]["prometheus"]["volumes"]]
    (source,) = [m[0] for m in mounts if m[1:] == [str(credentials.parent), "ro"]]
    service = next(s for s in SERVICE_KEYS if s.name == "prometheus")
    assert source.endswith("/" + str(Path(service.file).parent)) and credentials.name == Path(service.file).name
    assert service.scopes == ("metrics",) and service.mode == 0o644, "only /metrics, readable by its container"


def test_nginx_mounts_the_state_directory_and_reads_the_active_color_per_request() -> None:
    mount, tls = compose()["services"]["nginx"]["volumes"]
    source, target, mode = mount.rsplit(":", 2)
    assert source.endswith("/nginx") and target == "/etc/nginx/active" and mode == "ro"
    assert tls.endswith("/tls:/etc/nginx/tls:ro"), "the public port's certificate and key, read-only"
    assert "include /etc/nginx/active/upstreams.conf;" in read("nginx/nginx.conf")
    servers = read("nginx/conf.d/stacks.conf").split("server {")[1:]
    assert len(servers) == 4  # public, preview, internal, status
    for server in servers[:3]:
        assert "if (-f /etc/nginx/active/green-is-active) {" in server, "a switch is a file, never a reload"


def test_the_public_port_does_not_serve_the_metrics() -> None:
    public, preview = read("nginx/conf.d/stacks.conf").split("server {")[1:3]
    assert "listen 8080 ssl;" in public and "location = /api/metrics {" in public
    assert 'return 404 \'{"detail": "not found", "errors": []}\';' in public, "in the API's error shape"
    assert "/api/metrics" not in preview, "the deploy CLI may read them on the preview port (127.0.0.1)"


def test_nginx_keeps_connections_alive_and_never_retries_a_post() -> None:
    main = read("nginx/nginx.conf")
    routes = read("nginx/snippets/stack-routes.conf")
    assert "resolver" not in main, "fixed addresses: nothing to resolve at request time"
    assert re.search(r"^\s*keepalive_timeout 65s;", main, re.MULTILINE) and "keepalive_timeout 0" not in routes
    assert "include /etc/nginx/snippets/api-proxy.conf;" in routes[routes.index("location /api/") :].split("}")[0]
    api = read("nginx/snippets/api-proxy.conf")
    assert "proxy_pass http://backend_$stack;" in api and 'proxy_set_header Connection "";' in api
    assert "proxy_http_version 1.1;" in api and "proxy_set_header X-Forwarded-Prefix /api;" in api
    next_upstream = re.findall(r"^\s*proxy_next_upstream (.*);", routes + api, re.MULTILINE)
    assert next_upstream == ["error timeout"]  # no non_idempotent
    stream = routes[routes.index("location = /_stcore/stream") :].split("}")[0]
    assert "proxy_pass http://frontend_$ui_stack;" in stream
    assert "proxy_set_header Upgrade $http_upgrade;" in stream
    assert "proxy_set_header Connection $connection_upgrade;" in stream
    assert "proxy_read_timeout 12h;" in stream


def test_backend_timeouts_are_seconds_so_a_hung_backend_fails_fast() -> None:
    routes = read("nginx/snippets/stack-routes.conf")
    api = read("nginx/snippets/api-proxy.conf")
    assert "proxy_connect_timeout 1s;" in api
    single = routes[routes.index("location /api/ {") :].split("}")[0]
    batch = routes[routes.index("location = /api/predict/batch {") :].split("}")[0]
    monitoring = routes[routes.index("location /api/monitoring/ {") :].split("}")[0]
    assert "proxy_read_timeout 3s;" in single and "proxy_read_timeout 60s;" in batch
    assert "proxy_read_timeout 60s;" in monitoring
    assert not re.search(r"proxy_read_timeout (1[2-9]\d|[2-9]\d\d)s", routes + read("nginx/conf.d/stacks.conf"))


def test_the_status_page_answers_the_controller_only() -> None:
    status = read("nginx/conf.d/stacks.conf").split("server {")[4]
    assert "listen 8091;" in status and "stub_status;" in status
    assert "include /etc/nginx/active/status-access.conf;" in status


def test_the_body_limit_and_slow_client_timeouts_match_the_backend() -> None:
    main = read("nginx/nginx.conf")
    limit = int(re.search(r"client_max_body_size (\d+)m;", main).group(1)) * 1024 * 1024
    from app.core.config import Settings

    assert limit == Settings.model_fields["MAX_BODY_BYTES"].default
    for directive in ("client_header_timeout 10s;", "client_body_timeout 10s;", "send_timeout 30s;"):
        assert directive in main


def test_the_backends_keep_idle_connections_longer_than_nginx_pools_them() -> None:
    for color in ("blue", "green"):
        environment = compose()["services"][f"backend-{color}"]["environment"]
        assert int(environment["TIMEOUT_KEEP_ALIVE_S"]) > 60  # nginx's upstream keepalive_timeout


def test_each_colors_containers_have_fixed_addresses_and_docker_hands_out_others_elsewhere() -> None:
    services = compose()["services"]
    hosts = {
        f"{service}-{color}": services[f"{service}-{color}"]["networks"]["default"]["ipv4_address"]
        for service in ("backend", "frontend")
        for color in ("blue", "green")
    }
    assert hosts == {
        "backend-blue": "${STACK_NET:-172.30.77}.11",
        "frontend-blue": "${STACK_NET:-172.30.77}.12",
        "backend-green": "${STACK_NET:-172.30.77}.21",
        "frontend-green": "${STACK_NET:-172.30.77}.22",
    }
    (pool,) = compose()["networks"]["default"]["ipam"]["config"]
    assert pool == {
        "subnet": "${STACK_NET:-172.30.77}.0/24",
        "gateway": "${STACK_NET:-172.30.77}.1",
        "ip_range": "${STACK_NET:-172.30.77}.128/25",
    }


def test_the_backend_image_runs_the_one_launcher() -> None:
    """`python -m app`, configured by environment variables (HOST 0.0.0.0 in the container)."""
    dockerfile = read("backend/Dockerfile")
    command = re.search(r"^CMD (\[.*?\])$", dockerfile.replace("\\\n", ""), re.MULTILINE | re.DOTALL)
    assert command is not None
    assert yaml.safe_load(command.group(1)) == ["python", "-m", "app"]
    assert re.search(r"\bHOST=0\.0\.0\.0\b", dockerfile) and re.search(r"\bPORT=8000\b", dockerfile)
