"""Releases on the real engine: each color keeps its own code and model through restarts, `make up` and a
rollback with zero failed requests; deploys are verified before they start; one operation at a time; the
release workflow's deploy command releases pushed images twice in a row; host and stack training share one
registry. Runs on the session's stack (conftest.py); each test first puts traffic on blue."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml

from deploy.lock import LOCK_FILE
from deploy.model_registry import ModelRegistry
from deploy.release import Release, release_images
from tests.ci.step_runner import find_step, run_step
from tests.ci.workflow_checks import WORKFLOWS_DIR, load_workflow
from tests.e2e.stack import ROOT, TRAINER_CONFIG, Stack
from tests.e2e.test_blue_green import example_applicant, on_blue, public_color
from tests.kit.ports import free_port
from tests.kit.traffic import Traffic

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.usefixtures("patient_controller")]
DEPLOY_STEP = "Release the pushed images on the server (idle color, gated switch)"
GIT_IDENTITY = ["-c", "user.email=e2e@example.org", "-c", "user.name=e2e"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *GIT_IDENTITY, *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def clone_with_code_change(tmp_path: Path, name: str) -> Path:
    """A clone of this checkout's HEAD with one more commit that changes backend and frontend code only (a new
    release), its .venv the project's, its requirements as old as the installed venv (make skips `install`)."""
    clone = tmp_path / name
    git(ROOT, "clone", "--quiet", str(ROOT), str(clone))
    code_change(clone, name)
    git(clone, "commit", "--quiet", "-am", f"code-only change {name}")
    (clone / ".venv").symlink_to(ROOT / ".venv")
    past = time.time() - 10 * 365 * 86_400
    for requirements in [*clone.glob("*/requirements*.txt"), clone / "requirements-dev.txt"]:
        os.utime(requirements, (past, past))
    return clone


def code_change(checkout: Path, note: str) -> None:
    for package in ("backend/app/__init__.py", "frontend/analyst_ui/__init__.py"):
        path = checkout / package
        path.write_text(path.read_text() + f"# {note}\n")


def head(checkout: Path) -> str:
    return git(checkout, "rev-parse", "HEAD").strip()


def served(url: str, key_headers: dict[str, str], verify: str) -> tuple[str, str, str]:
    """(color, model version, code revision) answering at `url` (who answers: only for a key)."""
    headers = {**key_headers, "Connection": "close"}
    response = requests.get(f"{url}/api/ready", timeout=5, headers=headers, verify=verify)
    assert response.status_code == 200, response.text
    headers = response.headers
    return headers["X-Deployment-Color"], headers["X-Model-Version"], headers["X-App-Revision"]


def wait_served(
    url: str, color: str, key_headers: dict[str, str], verify: str, timeout_s: float = 120
) -> tuple[str, str, str]:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            answer = served(url, key_headers, verify)
            if answer[0] == color:
                return answer
        except (requests.RequestException, AssertionError):
            pass
        assert time.monotonic() < deadline, f"{color} does not answer at {url}"
        time.sleep(0.5)


def running_images(stack: Stack, color: str) -> dict[str, str]:
    return {service: info["Config"]["Image"] for service, info in stack.containers(color).items()}


def started_at(stack: Stack) -> dict[str, str]:
    return {f"{s}@{c}": i["State"]["StartedAt"] for c in ("blue", "green") for s, i in stack.containers(c).items()}


def restart(stack: Stack, color: str) -> None:
    ids = [info["Id"] for info in stack.containers(color).values()]
    subprocess.run(["docker", "restart", *ids], check=True, capture_output=True)


def test_each_color_keeps_its_release_through_restarts_make_up_and_rollback(stack: Stack, tmp_path: Path) -> None:
    on_blue(stack)
    r1: Release = stack.state().colors["blue"]
    clone = clone_with_code_change(tmp_path, "r2")
    traffic = Traffic(stack.settings.public_url, example_applicant(stack), headers=stack.headers, verify=stack.verify)
    traffic.start()
    try:
        started = time.monotonic()
        deployed = stack.cli("deploy", checkout=clone)  # R2: built from the clone, on the idle color
        deploy_seconds = time.monotonic() - started
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        r2 = stack.state().colors["green"]
        assert r2.tag == head(clone) != r1.tag and r2.images == release_images(r2.tag, None)
        started = time.monotonic()
        assert stack.cli("switch", "green").returncode == 0
        switch_seconds = time.monotonic() - started
        assert served(stack.settings.public_url, stack.headers, stack.verify) == ("green", r2.model_version, r2.tag)

        restart(stack, "blue")  # the idle color, restarted: back on R1, not on the newest build
        assert wait_served(stack.settings.preview_url, "blue", stack.headers, stack.verify) == (
            "blue",
            r1.model_version,
            r1.tag,
        )
        assert running_images(stack, "blue") == {f"{s}-blue": ref for s, ref in r1.images.items()}

        before = started_at(stack)  # a further code change, then `make up`: nothing that runs is re-created
        code_change(clone, "r3, not committed")
        assert stack.cli("up", checkout=clone).returncode == 0
        assert started_at(stack) == before

        started = time.monotonic()
        rolled = stack.cli("rollback")
        rollback_seconds = time.monotonic() - started
        assert rolled.returncode == 0, rolled.stdout + rolled.stderr
        assert served(stack.settings.public_url, stack.headers, stack.verify) == ("blue", r1.model_version, r1.tag)
        restart(stack, "green")
        assert wait_served(stack.settings.preview_url, "green", stack.headers, stack.verify) == (
            "green",
            r2.model_version,
            r2.tag,
        )
        assert running_images(stack, "green") == {f"{s}-green": ref for s, ref in r2.images.items()}
    finally:
        traffic.stop()
    failures = traffic.failures()
    stack.record(
        releases={
            "requests": len(traffic.answers),
            "failed": len(failures),
            "deploy_to_idle_seconds": round(deploy_seconds, 1),
            "switch_seconds": round(switch_seconds, 1),
            "rollback_seconds": round(rollback_seconds, 1),
        }
    )
    assert failures == [], f"{len(failures)} of {len(traffic.answers)} requests failed, e.g. {failures[:3]}"
    status = stack.cli("status")
    assert f"release {r1.describe()}" in status.stdout and f"release {r2.describe()}" in status.stdout
    registry = ModelRegistry(stack.settings.mlflow_url, "credit-default")
    assert registry.version_of("live") == r1.model_version, "MLflow knows which version takes traffic"
    assert registry.version_of("green") == r2.model_version


def test_a_doctored_bundle_is_refused_and_nothing_changes(stack: Stack) -> None:
    """v1 copied into a new version directory with a threshold that flags everyone (the issue's fault)."""
    on_blue(stack)
    stack.watch_over()
    root = stack.settings.BUNDLES_DIR / "credit-default"
    doctored = root / str(max(int(p.name) for p in root.iterdir() if p.name.isdigit()) + 1)
    shutil.copytree(root / "1", doctored)
    metadata = json.loads((doctored / "metadata.json").read_text())
    metadata.update(threshold=0.001, risk_bands={"medium": 0.0005, "high": 0.001})
    (doctored / "metadata.json").write_text(json.dumps(metadata))
    state, config, containers = stack.settings.state_file.read_bytes(), stack.active_conf(), started_at(stack)
    try:
        refused = stack.cli("deploy", "--model", doctored.name)
        assert refused.returncode == 2
        assert "error:" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
        assert stack.settings.state_file.read_bytes() == state and stack.active_conf() == config
        assert started_at(stack) == containers
    finally:
        shutil.rmtree(doctored)


@pytest.mark.parametrize(
    "args, message",
    [
        (["deploy", "--tag", "0" * 40], "unknown tag"),
        (["deploy", "--model", "999"], "does not exist"),
        (["deploy", "--color", "blue"], "blue receives the traffic"),
    ],
)
def test_bad_deploys_exit_2_and_change_nothing(stack: Stack, args: list[str], message: str) -> None:
    on_blue(stack)
    stack.watch_over()
    state, config, containers = stack.settings.state_file.read_bytes(), stack.active_conf(), started_at(stack)
    done = stack.cli(*args)
    assert done.returncode == 2 and message in done.stderr
    assert stack.settings.state_file.read_bytes() == state and stack.active_conf() == config
    assert started_at(stack) == containers


def test_an_unreachable_registry_exits_2_and_changes_nothing(stack: Stack) -> None:
    on_blue(stack)
    stack.watch_over()
    state, containers = stack.settings.state_file.read_bytes(), started_at(stack)
    done = stack.cli("deploy", "--tag", "0" * 40, REGISTRY=f"127.0.0.1:{free_port()}/acme/credit")
    assert done.returncode == 2 and "cannot be reached" in done.stderr
    assert stack.settings.state_file.read_bytes() == state and started_at(stack) == containers


def test_one_operation_at_a_time(stack: Stack) -> None:
    """A switch started while a deploy holds the lock refuses at once, says who runs, changes nothing."""
    on_blue(stack)
    lock = stack.settings.DEPLOY_STATE_DIR / LOCK_FILE
    deploy = subprocess.Popen(
        [sys.executable, "-m", "deploy.cli", "deploy", "--color", "green"],
        cwd=ROOT,
        env=stack.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while '"operation": "deploy"' not in (lock.read_text() if lock.exists() else ""):
        assert deploy.poll() is None and time.monotonic() < deadline, "the deploy never took the lock"
        time.sleep(0.05)
    state, config = stack.settings.state_file.read_bytes(), stack.active_conf()
    switch = stack.cli("switch", "green")
    assert deploy.wait(timeout=600) == 0, deploy.communicate()
    assert switch.returncode == 2
    assert "`deploy` by " in switch.stderr and "is running (one operation at a time): nothing was changed" in (
        switch.stderr
    )
    assert stack.active_conf() == config and public_color(stack) == "blue"
    assert state != stack.settings.state_file.read_bytes(), "only the deploy changed the state"
    assert stack.cli_history()[-1]["operation"] == "deploy", "the refused switch left no false record"


class LocalRegistry:
    """Debian's docker-registry (the reference registry), standing in for GHCR on 127.0.0.1."""

    def __init__(self, work: Path) -> None:
        self.port = free_port()
        config = work / "registry.yml"
        config.write_text(
            yaml.safe_dump(
                {
                    "version": 0.1,
                    "storage": {"filesystem": {"rootdirectory": str(work / "registry-data")}},
                    "http": {"addr": f"127.0.0.1:{self.port}"},
                    "log": {"level": "warn"},
                }
            )
        )
        self.process = subprocess.Popen(["docker-registry", "serve", str(config)], stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/v2/", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "the local registry did not start"
            time.sleep(0.2)

    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def push(self, tag: str, repository: str) -> None:
        """Push a release's local images as <host>/<repository>/<service>:<tag>, then drop the local copies."""
        for local in release_images(tag, None).values():
            remote = f"{self.host()}/{repository}/{local.split('/', 1)[1]}"
            for argv in (["tag", local, remote], ["push", "--quiet", remote], ["rmi", remote]):
                subprocess.run(["docker", *argv], check=True, capture_output=True)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def test_the_release_workflow_deploy_releases_pushed_images_twice_in_a_row(stack: Stack, tmp_path: Path) -> None:
    """The deploy job's remote command, executed on this machine (a stand-in `ssh` runs it here), against images
    pushed to a local registry: each release goes to the idle color and takes traffic, with no build.

    The controller is stopped meanwhile: the builds load this 2-core host, and under that load its readiness probes
    (0.8 s timeout) may fail a healthy color over, which is the controller's business (test_controller.py), not
    the release's."""
    on_blue(stack)
    stack.compose().stop(["controller"])
    server = clone_with_code_change(tmp_path, "server")
    first = head(server)
    code_change(server, "second release")
    git(server, "commit", "--quiet", "-am", "second release")
    second = head(server)
    registry = LocalRegistry(tmp_path)
    try:
        for sha in (first, second):
            git(server, "checkout", "--quiet", "--detach", sha)
            built = stack.cli("build", checkout=server)
            assert built.returncode == 0, built.stdout + built.stderr
            registry.push(sha, "acme/credit-risk")
            subprocess.run(["docker", "rmi", *release_images(sha, None).values()], capture_output=True)
        stand_in = tmp_path / "bin"
        stand_in.mkdir()
        (stand_in / "ssh").write_text('#!/bin/bash\nfor last; do :; done\nexec bash -c "$last"\n')
        (stand_in / "ssh").chmod(0o755)
        step = find_step(load_workflow(WORKFLOWS_DIR / "release.yml"), "deploy", DEPLOY_STEP)
        colors, idle_colors = [], []
        for sha in (first, second):
            idle_colors.append("green" if public_color(stack) == "blue" else "blue")
            env = {
                **stack.env,
                "PATH": f"{stand_in}:{os.environ['PATH']}",
                "HOME": str(tmp_path),
                "DEPLOY_SSH_HOST": "server",
                "DEPLOY_SSH_USER": "ops",
                "DEPLOY_SSH_PORT": "22",
                "DEPLOY_PATH": str(server),
                "DEPLOY_MODEL": "latest",
                "RELEASE_SHA": sha,
                "REGISTRY_HOST": registry.host(),
                "REPOSITORY": "Acme/Credit-Risk",
                "ACTOR": "e2e",
                "RUN_ID": "1",
            }
            result = run_step(step, tmp_path, env, timeout_s=900)
            assert result.returncode == 0, result.stdout + result.stderr
            color, _, revision = served(stack.settings.public_url, stack.headers, stack.verify)
            assert (
                revision == sha
            ), f"the released images take traffic\n{result.stdout}\nhistory: {stack.history()[-6:]}"
            colors.append(color)
            images = running_images(stack, color)
            assert all(ref.startswith(f"{registry.host()}/acme/credit-risk/") for ref in images.values()), images
        moves = [
            e
            for e in stack.history()
            if e["operation"] in ("failover", "watch") and e["result"] in ("failed over", "rolled back")
        ]
        assert colors == idle_colors, f"each release went to the color idle when it began; controller: {moves}"
        assert colors[0] != colors[1], "the second release went to the color the first left idle"
        assert stack.cli_history()[-1]["operator"] == "release-workflow:e2e:run-1"
    finally:
        registry.stop()
        stack.compose().up(["controller"], no_deps=True, keep_existing=True)
        on_blue(stack)


def test_host_and_stack_training_register_into_one_registry(stack: Stack, tmp_path: Path) -> None:
    """`make train` on the host (its own mlruns/ store) into the stack's bundles, then training in the stack:
    neither refuses because of where an earlier version was registered."""
    config = stack.settings.BUNDLES_DIR / TRAINER_CONFIG
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlruns/mlflow.db",
        "BUNDLES_DIR": str(stack.settings.BUNDLES_DIR),
    }
    host = subprocess.run(
        [sys.executable, "-m", "training.train", "--config", str(config)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert host.returncode == 0, host.stdout[-2000:] + host.stderr[-2000:]
    assert "imported the exported bundles this store lacked" in host.stdout
    host_version = json.loads((stack.settings.BUNDLES_DIR / "credit-default" / "latest" / "metadata.json").read_text())[
        "version"
    ]
    in_stack = stack.cli("train")
    assert in_stack.returncode == 0, in_stack.stdout + in_stack.stderr
    registry = ModelRegistry(stack.settings.mlflow_url, "credit-default")
    assert registry.digest(host_version) is not None, "the host's version was imported into the stack's registry"
    assert int(registry.version_of("champion")) == int(host_version) + 1
