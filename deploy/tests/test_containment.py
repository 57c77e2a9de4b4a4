"""Containment in the compose files (docs/deployment.md, Containment): every service without capabilities or a way
to gain privileges, on a read-only root filesystem, with memory, CPU and process limits, as a non-root user;
MLflow on networks of its own (the trainer reaches it, no serving container does), behind its basic-auth app."""

from __future__ import annotations

import configparser
import json
import re
import shutil
import subprocess

import pytest

from deploy.compose import COMPOSE_FILES
from deploy.settings import ROOT
from deploy.tests.test_container_config import compose, read

LIMITS = ("mem_limit", "cpus", "pids_limit")
SERVING = ("backend-blue", "backend-green", "frontend-blue", "frontend-green", "nginx")
MLFLOW_NETWORKS = {"mlflow", "mlflow-port"}
# Services whose image names no USER (or USER root): compose must run them as someone else.
IMAGE_USER = {
    "backend": "backend/Dockerfile",
    "frontend": "frontend/Dockerfile",
    "mlflow": "mlflow/Dockerfile",
    "nginx": "nginx/Dockerfile",
    "prometheus": "prometheus/Dockerfile",
    "controller": "deploy/Dockerfile",
    "trainer": "training/Dockerfile",
}

SERVICES = sorted(compose()["services"])


def networks_of(service: dict) -> set[str]:
    networks = service.get("networks", ["default"] if service.get("network_mode") is None else [])
    return set(networks)


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_drops_every_capability_and_cannot_gain_privileges(name: str) -> None:
    service = compose()["services"][name]
    assert service["cap_drop"] == ["ALL"] and "cap_add" not in service, "no service binds below 1024"
    assert "no-new-privileges:true" in service["security_opt"]
    assert service["read_only"] is True, "a read-only root filesystem; what it writes is a volume or a tmpfs"


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_has_memory_cpu_and_process_limits(name: str) -> None:
    service = compose()["services"][name]
    assert all(service.get(limit) for limit in LIMITS), f"{name}: {[k for k in LIMITS if not service.get(k)]}"
    assert 0 < int(service["pids_limit"]) <= 512


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_runs_as_a_user_other_than_root(name: str) -> None:
    service = compose()["services"][name]
    user = service.get("user")
    if user is None:
        image = next(image for prefix, image in IMAGE_USER.items() if name.startswith(prefix))
        users = re.findall(r"^USER (\S+)", read(image), re.MULTILINE)
        user = users[-1] if users else "root"
    assert user.split(":")[0] not in ("root", "0"), f"{name} runs as {user}"


def test_python_services_write_their_scratch_space_to_memory() -> None:
    services = compose()["services"]
    for name in ("mlflow", "trainer", "controller", *SERVING[:4]):
        assert any(mount.startswith("/tmp:") for mount in services[name]["tmpfs"]), name
    assert any(m.startswith("/home/app:") for m in services["frontend-blue"]["tmpfs"]), "Streamlit's home"
    assert any(m.startswith("/tmp/nginx:") for m in services["nginx"]["tmpfs"]), "nginx's temp paths"


def test_only_the_trainer_and_the_host_reach_mlflow() -> None:
    spec = compose()
    services = spec["services"]
    assert networks_of(services["mlflow"]) == MLFLOW_NETWORKS
    assert networks_of(services["trainer"]) == {"mlflow"}, "the trainer reaches MLflow and nothing else"
    assert spec["networks"]["mlflow"]["internal"] is True, "no way out of the host from the trainer's network"
    others = {
        name: networks_of(s) & MLFLOW_NETWORKS for name, s in services.items() if name not in ("mlflow", "trainer")
    }
    assert not any(others.values()), f"on MLflow's networks: {others}"


def test_mlflow_runs_its_basic_auth_app_with_credentials_from_the_state_directory() -> None:
    services = compose()["services"]
    assert "--app-name basic-auth" in read("mlflow/Dockerfile")
    assert re.search(r"^Flask-WTF==", read("mlflow/requirements.txt"), re.MULTILINE), "mlflow[auth]'s dependency"
    config = configparser.ConfigParser()
    config.read_string(read("mlflow/basic_auth.ini"))
    assert config["mlflow"]["default_permission"] == "NO_PERMISSIONS"
    assert "admin_password" not in config["mlflow"], "no password in the repository or the image"
    state = "${DEPLOY_STATE_DIR:-./.deploy/credit-risk}/mlflow"
    assert services["mlflow"]["env_file"] == [{"path": f"{state}/server.env", "required": False}]
    assert services["trainer"]["env_file"] == [{"path": f"{state}/client.env", "required": False}]
    for service in services.values():
        assert not {"MLFLOW_TRACKING_PASSWORD", "MLFLOW_AUTH_ADMIN_PASSWORD"} & set(service.get("environment", {}))


@pytest.mark.skipif(shutil.which("docker") is None, reason="the docker CLI is not installed")
def test_docker_compose_renders_the_hardening_for_every_service_of_both_colors(tmp_path) -> None:
    """`docker compose config` (no engine, no containers): anchors, merges and `extends` as Compose reads them."""
    files = [part for name in COMPOSE_FILES for part in ("-f", str(ROOT / name))]
    done = subprocess.run(
        ["docker", "compose", *files, "--profile", "train", "config", "--format", "json"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "DEPLOY_STATE_DIR": str(tmp_path), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    rendered = json.loads(done.stdout)
    assert set(rendered["services"]) == set(SERVICES)
    for name, service in rendered["services"].items():
        assert service["cap_drop"] == ["ALL"] and service["read_only"] is True, name
        assert "no-new-privileges:true" in service["security_opt"], name
        assert int(service["mem_limit"]) > 0 and float(service["cpus"]) > 0 and service["pids_limit"] > 0, name
    assert rendered["networks"]["mlflow"]["internal"] is True
    for name in SERVING:
        assert set(rendered["services"][name]["networks"]) == {"default"}, name
