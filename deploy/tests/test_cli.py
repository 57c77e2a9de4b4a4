"""The CLI's commands with docker replaced by a fake (the real engine runs in tests/e2e):
usage errors, the refusal to touch the active stack, deploy-if-needed, status output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deploy.cli import main, parser, run
from deploy.commands import Context
from deploy.errors import DeployError, UsageError
from deploy.settings import DeploySettings
from deploy.tests.fake_docker import FakeDocker
from tests.kit.ports import free_port

RUNNING = {"nginx": ("running", "healthy"), "mlflow": ("running", "healthy")}
BLUE = {"backend-blue": ("running", "healthy"), "frontend-blue": ("running", "healthy")}


@pytest.fixture()
def settings(tmp_path: Path) -> DeploySettings:
    models = tmp_path / "models"
    bundle = models / "credit-default" / "4"
    bundle.mkdir(parents=True)
    (bundle / "metadata.json").write_text("{}")
    for directory in (models, models / "credit-default", bundle):
        directory.chmod(0o755)
    return DeploySettings(
        COMPOSE_PROJECT_NAME="unit",
        DEPLOY_STATE_DIR=tmp_path / "state",
        BUNDLES_DIR=models,
        PUBLIC_PORT=free_port(),
        PREVIEW_PORT=free_port(),
        DEPLOY_READY_TIMEOUT=0.5,
        DEPLOY_VERIFY_TIMEOUT=0.5,
    )


def command(settings: DeploySettings, docker: FakeDocker, *argv: str) -> tuple[int, list[str]]:
    lines: list[str] = []
    code = run(parser().parse_args(list(argv)), Context(settings, say=lines.append, runner=docker))
    return code, lines


@pytest.mark.parametrize("argv", [[], ["switch"], ["switch", "red"], ["deploy", "purple"], ["restart"]])
def test_bad_usage_exits_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2


def test_a_bad_setting_exits_2_naming_it(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("PUBLIC_PORT", "eighty")
    assert main(["status"]) == 2
    assert "PUBLIC_PORT must be a TCP port" in capsys.readouterr().err


def test_deploying_to_the_active_color_is_refused_before_touching_docker(settings: DeploySettings) -> None:
    docker = FakeDocker(containers={**RUNNING, **BLUE})
    with pytest.raises(UsageError, match="blue receives the traffic: deploy to green"):
        command(settings, docker, "deploy", "blue")
    assert docker.calls == []


def test_main_maps_the_refusal_to_exit_code_2(
    settings: DeploySettings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("DEPLOY_STATE_DIR", str(settings.DEPLOY_STATE_DIR))
    assert main(["deploy", "blue"]) == 2
    assert "error: blue receives the traffic" in capsys.readouterr().err


def test_deploy_needs_the_stacks_up(settings: DeploySettings) -> None:
    with pytest.raises(UsageError, match="run `make up` first"):
        command(settings, FakeDocker(), "deploy", "green")


def test_commands_need_a_reachable_engine(settings: DeploySettings) -> None:
    with pytest.raises(DeployError, match="Docker engine is not reachable") as failure:
        command(settings, FakeDocker(info_ok=False), "switch", "green")
    assert failure.value.exit_code == 1


def test_switching_to_the_active_color_says_so_and_runs_nothing(settings: DeploySettings) -> None:
    docker = FakeDocker(containers={**RUNNING, **BLUE})
    code, lines = command(settings, docker, "switch", "blue")
    assert code == 0
    assert "switch blue -> blue: ALREADY ACTIVE" in lines[-1]
    assert docker.compose_calls() == [["ps", "--all", "--format", "json"]]  # is nginx up? nothing else


def test_switch_starts_a_missing_target_then_refuses_it_when_it_never_gets_ready(settings: DeploySettings) -> None:
    docker = FakeDocker(containers={**RUNNING, **BLUE})
    code, lines = command(settings, docker, "switch", "green")
    assert code == 1
    assert ["up", "--detach", "--no-deps", "--force-recreate", "backend-green", "frontend-green"] in (
        docker.compose_calls()
    )
    up_env = docker.envs[[c[8:9] for c in docker.calls].index(["up"])]
    assert up_env["GREEN_MODEL_VERSION"] == "4"
    assert "REFUSED" in lines[-1] and "green not ready" in lines[-1]
    assert not any("exec" in call for call in docker.calls)  # nginx never touched
    state = json.loads(settings.state_file.read_text())
    assert state["versions"] == {"green": "4"}
    assert state["history"][-1]["result"] == "refused"


def test_status_shows_the_active_color_pins_containers_and_history(settings: DeploySettings) -> None:
    settings.DEPLOY_STATE_DIR.mkdir(parents=True)
    settings.state_file.write_text(
        json.dumps(
            {
                "versions": {"blue": "3", "green": "4"},
                "history": [
                    {
                        "time": "2026-01-01T00:00:00+00:00",
                        "source": "blue",
                        "target": "green",
                        "source_version": "3",
                        "target_version": "4",
                        "result": "refused",
                        "reason": "green not ready",
                        "seconds": 60.0,
                    }
                ],
            }
        )
    )
    code, lines = command(settings, FakeDocker(containers=BLUE), "status")
    text = "\n".join(lines)
    assert code == 0
    assert "traffic -> blue" in text
    assert "blue   [ACTIVE" in text and "pinned model v3" in text
    assert "green  [idle" in text and "pinned model v4" in text
    assert "backend running (healthy)" in text and "backend absent" in text
    assert "nginx    absent" in text
    assert "blue(v3) -> green(v4)  refused" in text
    assert "newest model in" in text and "v4" in text


def test_status_without_docker_still_shows_the_state(settings: DeploySettings) -> None:
    code, lines = command(settings, FakeDocker(info_ok=False), "status")
    assert code == 0
    assert any("engine is not reachable" in line for line in lines)
    assert lines[-1] == "no switch attempted yet"
