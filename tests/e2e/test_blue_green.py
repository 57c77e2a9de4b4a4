"""Blue/green on the real engine: zero dropped requests across switches, fast refusal of a release whose
model cannot load (the idle color keeps its previous release), automatic rollback of a stack that breaks
after the reload, and MLflow runs/registry surviving down + up. One stack for the session (see
conftest.py); each test first puts traffic on blue."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import mlflow
import pytest
import requests
from mlflow.tracking import MlflowClient

from deploy import simulate_traffic
from deploy.api_keys import ApiKeyStore
from deploy.context import Context
from deploy.model_registry import ModelRegistry
from deploy.nginx_config import ActiveFile
from deploy.probe import HttpChecks
from deploy.switch import Switch
from tests.e2e.stack import Stack
from tests.kit.api_keys import bearer
from training.bundle_digest import DIGEST_FILE
from tests.kit.traffic import Traffic

pytestmark = [pytest.mark.docker, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
MIN_REQUESTS = 5000
SWITCHES = ["green", "blue", "green"]


def on_blue(stack: Stack) -> None:
    done = stack.cli("switch", "blue")
    assert done.returncode == 0, done.stdout + done.stderr
    assert public_color(stack) == "blue"


def public_color(stack: Stack) -> str | None:
    headers = {**stack.headers, "Connection": "close"}
    response = requests.get(f"{stack.settings.public_url}/api/health", timeout=5, headers=headers, verify=stack.verify)
    assert response.status_code == 200, response.text
    return response.headers["X-Deployment-Color"]


def example_applicant(stack: Stack) -> dict:
    url = f"{stack.settings.public_url}/api/schema"
    return requests.get(url, headers=stack.headers, timeout=5, verify=stack.verify).json()["example"]


def websocket_status(url: str, verify: str | bool) -> int:
    """The status of a websocket handshake on Streamlit's stream (101: it opens)."""
    upgrade = {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    }
    with requests.get(f"{url}/_stcore/stream", headers=upgrade, timeout=10, stream=True, verify=verify) as stream:
        return stream.status_code


def test_nginx_serves_the_ui_its_websocket_and_the_api_docs_of_the_active_stack(stack: Stack) -> None:
    on_blue(stack)
    url = stack.settings.public_url
    assert "<title>Streamlit</title>" in requests.get(f"{url}/", timeout=10, verify=stack.verify).text
    assert websocket_status(url, stack.verify) == 101
    docs = requests.get(f"{url}/api/docs", timeout=10, verify=stack.verify)
    assert docs.status_code == 200 and "/api/openapi.json" in docs.text
    spec = requests.get(f"{url}/api/openapi.json", headers=stack.headers, timeout=10, verify=stack.verify)
    assert spec.status_code == 200 and "/predict" in spec.json()["paths"]
    assert spec.headers["X-Deployment-Color"] == "blue"
    assert (
        requests.get(f"{url}/api/model", headers=stack.headers, timeout=10, verify=stack.verify).json()["version"]
        == "1"
    )
    refused = requests.get(f"{url}/api/model", timeout=10, verify=stack.verify)
    assert refused.status_code == 401 and "WWW-Authenticate" in refused.headers


def deployed_green(stack: Stack) -> None:
    """Green holds a release (this checkout's code, the newest model)."""
    if "green" not in stack.state().colors:
        done = stack.cli("deploy")
        assert done.returncode == 0, done.stdout + done.stderr


def test_zero_requests_dropped_while_switching_blue_green_blue_green(stack: Stack) -> None:
    """Both kinds of client: keep-alive (a session per client: browsers, SDKs, wrk) and a new connection per
    request; each sends at least MIN_REQUESTS across three switches, and not one fails."""
    on_blue(stack)
    deployed = stack.cli("deploy", "--color", "green")  # the newest model (v2) on green; blue keeps v1
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    applicant = example_applicant(stack)
    kinds = {
        "keep-alive": Traffic(
            stack.settings.public_url, applicant, clients=6, headers=stack.headers, verify=stack.verify
        ),
        "new connection per request": Traffic(
            stack.settings.public_url,
            applicant,
            clients=6,
            fresh_connections=True,
            headers=stack.headers,
            verify=stack.verify,
        ),
    }
    switch_windows: list[tuple[str, float, float]] = []
    events_before = len(stack.history())
    for traffic in kinds.values():
        traffic.start()
    try:
        for number, color in enumerate(SWITCHES, start=1):
            # Enough traffic before each switch, and some answered wholly after the previous one.
            for traffic in kinds.values():
                wanted = max(number * MIN_REQUESTS // (len(SWITCHES) + 1), traffic.count() + 300)
                traffic.wait_for(wanted, timeout=300)
            started = time.monotonic()
            done = stack.cli("switch", color)
            switch_windows.append((color, started, time.monotonic()))
            assert done.returncode == 0, done.stdout + done.stderr
        for traffic in kinds.values():
            traffic.wait_for(MIN_REQUESTS, timeout=300)
        time.sleep(1)
    finally:
        for traffic in kinds.values():
            traffic.stop()

    durations = [round(end - start, 2) for _, start, end in switch_windows]
    stack.record(
        zero_drop={
            "switch_seconds": durations,
            **{kind: {"requests": len(t.answers), "failed": len(t.failures())} for kind, t in kinds.items()},
        }
    )
    for kind, traffic in kinds.items():
        failures = traffic.failures()
        assert len(traffic.answers) >= MIN_REQUESTS, kind
        assert failures == [], f"{kind}: {len(failures)} of {len(traffic.answers)} requests failed, e.g. {failures[:3]}"
        first_switch = switch_windows[0][1]
        assert traffic.colors_between(0, first_switch) == {"blue"}, kind
        ends = [end for _, _, end in switch_windows] + [max(a.ended for a in traffic.answers) + 1]
        for (color, _, end), next_start in zip(switch_windows, [s for _, s, _ in switch_windows[1:]] + [ends[-1]]):
            assert traffic.colors_between(end, next_start) == {color}, f"{kind}: after switching to {color}"
    switches = [entry for entry in stack.history()[events_before:] if entry["operation"] == "switch"]
    assert [entry["result"] for entry in switches] == ["switched"] * len(SWITCHES)
    moves = [e for e in stack.history()[events_before:] if e["result"] in ("failed over", "rolled back")]
    assert moves == [], f"the controller moved traffic on a healthy stack: {moves}"
    assert [entry["target_release"]["model_version"] for entry in switches[-2:]] == ["1", "2"]


def unloadable_version(stack: Stack) -> str:
    """A new version that training could have exported (its digest is in the registry) but whose model file the
    backend cannot read: the release passes every check before start, and fails to load."""
    root = stack.settings.BUNDLES_DIR / "credit-default"
    newest = max(int(p.name) for p in root.iterdir() if p.name.isdigit())
    broken = root / str(newest + 1)
    shutil.copytree(root / str(newest), broken)
    for model_file in (broken / "model").iterdir():
        if model_file.suffix in (".cb", ".skops"):
            model_file.write_bytes(model_file.read_bytes()[: model_file.stat().st_size // 2])
    metadata = json.loads((broken / "metadata.json").read_text())
    metadata["version"] = broken.name
    (broken / "metadata.json").write_text(json.dumps(metadata))
    (broken / DIGEST_FILE).unlink()
    ModelRegistry(stack.settings.mlflow_url, "credit-default").sync(stack.settings.BUNDLES_DIR)  # as if exported
    return broken.name


def test_a_release_whose_model_cannot_load_is_refused_at_once_and_green_keeps_its_release(stack: Stack) -> None:
    on_blue(stack)
    deployed_green(stack)
    green_before = stack.state().colors["green"]
    config_before = stack.active_conf()
    version = unloadable_version(stack)  # stays: the registry knows it (deleting it would fork the numbering)
    started = time.monotonic()
    deployed = stack.cli("deploy", "--model", version, DEPLOY_READY_TIMEOUT="120")
    stack.record(unloadable_model_refused_seconds=round(time.monotonic() - started, 1))

    assert deployed.returncode == 1 and "REFUSED" in deployed.stdout
    assert "waiting will not help" in deployed.stdout and "CatBoost cannot read" in deployed.stdout
    assert "back on its previous release" in deployed.stdout
    assert stack.state().colors["green"] == green_before, "the rollback target is intact"
    preview = requests.get(f"{stack.settings.preview_url}/api/ready", headers=stack.headers, timeout=5)
    assert preview.status_code == 200 and preview.headers["X-Model-Version"] == green_before.model_version
    assert stack.active_conf() == config_before and public_color(stack) == "blue"
    last = stack.cli_history()[-1]
    assert (last["operation"], last["target"], last["result"]) == ("deploy", "green", "refused")
    assert last["target_release"]["model_version"] == version and "@" in last["operator"]


class StopTargetAfterFlip(ActiveFile):
    """Test-only fault: right after the public traffic flips to the target, the target's backend stops."""

    def __init__(self, stack: Stack, target: str) -> None:
        super().__init__(stack.settings.nginx_dir)
        self.stack = stack
        self.target = target
        self.fired = False

    def write(self, active: str) -> None:
        super().write(active)
        if not self.fired and active == self.target:
            self.fired = True
            self.stack.compose().stop([f"backend-{self.target}"])


def test_a_green_that_breaks_after_the_switch_is_rolled_back_to_blue(stack: Stack) -> None:
    on_blue(stack)
    deployed_green(stack)
    ctx = Context(stack.settings)
    active_file = StopTargetAfterFlip(stack, "green")
    lines: list[str] = []
    switch = Switch(
        active_file=active_file,
        gates=HttpChecks(
            stack.settings.preview_url,
            stack.settings.public_url,
            api_key=lambda: stack.key,
            ca_bundle=lambda: stack.verify,
        ),
        state=ctx.state,
        ready_timeout=30,
        verify_timeout=10,
        say=lines.append,
    )

    outcome = switch.run("green")

    assert active_file.fired
    assert (outcome.result, outcome.exit_code) == ("rolled back", 1), lines
    assert active_file.active() == "blue" and public_color(stack) == "blue"
    assert stack.cli_history()[-1]["result"] == "rolled back"
    stack.record(rollback_attempt_seconds=stack.cli_history()[-1]["seconds"])
    status = stack.cli("status")
    assert "rolled back" in status.stdout and "traffic -> blue" in status.stdout
    assert stack.cli("deploy", "--color", "green").returncode == 0  # green back for the next tests


def monitoring_summary(stack: Stack, at_least: int = 0, timeout_s: float = 15.0) -> dict:
    """The last hour's summary, once the (asynchronous) prediction log holds `at_least` predictions."""
    deadline = time.monotonic() + timeout_s
    api = f"{stack.settings.public_url}/api"
    while True:
        response = requests.get(
            f"{api}/monitoring/summary?window=1h", headers=stack.headers, timeout=10, verify=stack.verify
        )
        assert response.status_code == 200, response.text
        body = response.json()
        if body["count"] >= at_least or time.monotonic() > deadline:
            return body
        time.sleep(0.2)


def known_within(url: str, headers: dict[str, str], verify: str, seconds: float = 10) -> requests.Response:
    """The answer to a new key once the backend has re-read its key store (checked every API_KEYS_RECHECK_S)."""
    deadline = time.monotonic() + seconds
    while (response := requests.get(url, headers=headers, timeout=10, verify=verify)).status_code == 401:
        assert time.monotonic() < deadline, f"the new key is still unknown after {seconds} s: {response.text}"
        time.sleep(0.2)
    return response


def test_monitoring_sees_both_colors_in_one_log_and_not_the_deployment_probes(stack: Stack) -> None:
    on_blue(stack)
    api = f"{stack.settings.public_url}/api"
    before = monitoring_summary(stack)
    data = [
        "--url",
        api,
        "--ca-file",
        stack.verify,
        "--count",
        "40",
        "--data",
        str(ROOT / "data" / "german_credit.csv"),
        "--api-key",
        stack.key,
    ]
    assert simulate_traffic.main([*data, "--phase", "realistic"]) == 0
    monitoring_summary(stack, before["count"] + 40)
    deployed_green(stack)
    switched = stack.cli("switch", "green")  # its gates score applicants too, marked as probes
    assert switched.returncode == 0, switched.stdout + switched.stderr
    assert simulate_traffic.main([*data, "--phase", "shifted"]) == 0

    after = monitoring_summary(stack, before["count"] + 80)
    assert after["count"] - before["count"] == 80, "the switch's probe predictions are not counted"
    assert after["colors"].get("blue", 0) - before["colors"].get("blue", 0) == 40
    assert after["colors"].get("green", 0) - before["colors"].get("green", 0) == 40
    model = requests.get(f"{api}/model", headers=stack.headers, timeout=10, verify=stack.verify).json()
    assert after["served_version"] == model["version"]
    # Prometheus's key (the CLI made it): the metrics answer on the preview port (127.0.0.1), never on the public one.
    prometheus = bearer((stack.settings.DEPLOY_STATE_DIR / "prometheus" / "api-key").read_text().strip())
    preview = f"{stack.settings.preview_url}/api/metrics"
    assert "feature_drift_psi{" in requests.get(preview, headers=prometheus, timeout=10).text
    analyst = bearer(ApiKeyStore(stack.settings.api_keys_file).create(f"{stack.key_name}-analyst", ["score", "read"]))
    assert known_within(preview, analyst, stack.verify).status_code == 403, "metrics scope only"
    assert requests.get(f"{api}/metrics", headers=prometheus, timeout=10, verify=stack.verify).status_code == 404
    audit = requests.get(
        f"{api}/audit/predictions",
        params={"author": stack.key_name, "window": "15m"},
        headers=stack.headers,
        timeout=10,
        verify=stack.verify,
    ).json()
    assert {item["color"] for item in audit["items"]} >= {"blue", "green"}, "the audit trail names both colors"
    on_blue(stack)


def mlflow_snapshot(stack: Stack) -> tuple[set[str], set[str]]:
    client = MlflowClient(tracking_uri=stack.settings.mlflow_url, registry_uri=stack.settings.mlflow_url)
    experiment = client.get_experiment_by_name("credit-default")
    runs = {run.info.run_id for run in client.search_runs([experiment.experiment_id], max_results=1000)}
    versions = {v.version for v in client.search_model_versions("name='credit-default'")}
    return runs, versions


def test_mlflow_runs_and_registered_versions_survive_down_and_up(stack: Stack, tmp_path: Path) -> None:
    runs, versions = mlflow_snapshot(stack)
    assert {"1", "2"} <= versions and len(runs) >= 6  # two trainings: parent + two candidates each
    active = public_color(stack)

    assert stack.cli("down").returncode == 0
    started = time.monotonic()
    up = stack.cli("up")
    stack.record(up_cached_seconds=round(time.monotonic() - started, 1))

    assert up.returncode == 0, up.stdout + up.stderr
    assert "no training needed" in up.stdout
    assert mlflow_snapshot(stack) == (runs, versions)
    mlflow.set_tracking_uri(stack.settings.mlflow_url)
    model_dir = mlflow.artifacts.download_artifacts("models:/credit-default/1", dst_path=str(tmp_path))
    assert any(p.name == "MLmodel" for p in Path(model_dir).iterdir())
    assert public_color(stack) == active, "up brings back the color that had the traffic"


# From inside a container: the status of an MLflow API call without credentials, or the error reaching MLflow.
MLFLOW_PROBE = """
import urllib.error, urllib.request
try:
    urllib.request.urlopen("http://mlflow:5000/api/2.0/mlflow/experiments/search?max_results=1", timeout=5)
    print(200)
except urllib.error.HTTPError as exc:
    print(exc.code)
except OSError as exc:
    print(type(exc).__name__)
"""


def test_mlflow_asks_for_credentials_and_only_the_trainer_reaches_it(stack: Stack) -> None:
    compose = stack.compose()
    trainer = compose.run("run", "--rm", "--no-deps", "-T", "trainer", "python", "-c", MLFLOW_PROBE, capture=True)
    assert trainer.stdout.split()[-1] == "401", "MLflow refuses a request without credentials"
    with_key = MlflowClient(tracking_uri=stack.settings.mlflow_url).get_experiment_by_name("credit-default")
    assert with_key is not None, "the credentials `make up` wrote open it"
    frontend = compose.exec("frontend-blue", "python", "-c", MLFLOW_PROBE)
    assert frontend.stdout.split()[-1] in {"URLError", "gaierror"}, f"the UI must not reach MLflow: {frontend.stdout}"
