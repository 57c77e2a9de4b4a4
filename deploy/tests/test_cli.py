"""The CLI's commands with a scripted docker, a real MLflow registry holding a real bundle, and a small HTTP
server answering like a stack behind nginx. Bad usage and unmet preconditions exit 2 and change nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deploy.cli import main, parser, run
from deploy.context import Context
from deploy.errors import DeployError, UsageError
from deploy.lock import operation_lock
from deploy.model_registry import ModelRegistry
from deploy.release import Release, checkout_tag, release_images
from deploy.settings import DeploySettings
from deploy.tests.fake_docker import FakeDocker
from deploy.tests.stack_server import Backend, serve
from tests.kit.ports import free_port

RUNNING = {"nginx": ("running", "healthy"), "mlflow": ("running", "healthy")}
BLUE = {"backend-blue": ("running", "healthy"), "frontend-blue": ("running", "healthy")}
OLD = Release("0" * 40, release_images("0" * 40, None), "1", "old-digest")


@pytest.fixture()
def settings(tmp_path: Path) -> DeploySettings:
    models = tmp_path / "models"
    models.mkdir(mode=0o755)
    return DeploySettings(
        COMPOSE_PROJECT_NAME="unit",
        DEPLOY_STATE_DIR=tmp_path / "state",
        BUNDLES_DIR=models,
        PUBLIC_PORT=free_port(),
        PREVIEW_PORT=free_port(),
        DEPLOY_READY_TIMEOUT=0.5,
        DEPLOY_VERIFY_TIMEOUT=0.5,
    )


@pytest.fixture()
def deployable(trained: tuple[Path, ModelRegistry], tmp_path: Path) -> tuple[DeploySettings, ModelRegistry]:
    models, registry = trained
    return (
        DeploySettings(
            COMPOSE_PROJECT_NAME="unit",
            DEPLOY_STATE_DIR=tmp_path / "state",
            BUNDLES_DIR=models,
            PUBLIC_PORT=free_port(),
            PREVIEW_PORT=free_port(),
            DEPLOY_READY_TIMEOUT=1,
            DEPLOY_VERIFY_TIMEOUT=1,
        ),
        registry,
    )


def command(
    settings: DeploySettings, docker: FakeDocker, *argv: str, registry: ModelRegistry | None = None
) -> tuple[int, list[str]]:
    lines: list[str] = []
    ctx = Context(settings, say=lines.append, runner=docker, registry=registry)
    return run(parser().parse_args(list(argv)), ctx), lines


def state_of(settings: DeploySettings) -> dict:
    return json.loads(settings.state_file.read_text()) if settings.state_file.exists() else {}


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["switch"],
        ["switch", "red"],
        ["deploy", "purple"],
        ["restart"],
        ["deploy", "--tag", "bad tag"],
        ["prune", "--keep", "0"],
    ],
)
def test_bad_usage_exits_2_with_one_line(argv: list[str], capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1


def test_a_bad_setting_exits_2_naming_it(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("PUBLIC_PORT", "eighty")
    assert main(["status"]) == 2
    assert "PUBLIC_PORT must be a TCP port" in capsys.readouterr().err


def test_deploying_to_the_active_color_is_refused_before_anything_changes(settings: DeploySettings) -> None:
    docker = FakeDocker(containers={**RUNNING, **BLUE})
    with pytest.raises(UsageError, match="blue receives the traffic: deploy to green .* nothing was changed"):
        command(settings, docker, "deploy", "--color", "blue")
    assert not [c for c in docker.compose_calls() if c[0] != "ps"] and state_of(settings) == {}


def test_deploy_needs_the_stacks_up(settings: DeploySettings) -> None:
    with pytest.raises(UsageError, match="run `make up` first"):
        command(settings, FakeDocker(), "deploy")


def test_commands_need_a_reachable_engine(settings: DeploySettings) -> None:
    with pytest.raises(DeployError, match="Docker engine is not reachable") as failure:
        command(settings, FakeDocker(info_ok=False), "switch", "green")
    assert failure.value.exit_code == 1


def test_switching_to_a_color_without_a_release_is_refused(settings: DeploySettings) -> None:
    with pytest.raises(UsageError, match="nothing is deployed on green: `make deploy` first"):
        command(settings, FakeDocker(containers={**RUNNING, **BLUE}), "switch", "green")


def test_rollback_without_a_previous_release_is_refused(settings: DeploySettings) -> None:
    with pytest.raises(UsageError, match="nothing to roll back to: green holds no release"):
        command(settings, FakeDocker(containers={**RUNNING, **BLUE}), "rollback")


def test_switching_to_the_active_color_says_so_and_changes_nothing(settings: DeploySettings) -> None:
    Context(settings).state.pin("blue", OLD)
    docker = FakeDocker(containers={**RUNNING, **BLUE})
    code, lines = command(settings, docker, "switch", "blue")
    assert code == 0 and "switch blue -> blue: ALREADY ACTIVE" in lines[-1]
    assert not any("exec" in call for call in docker.calls)


def test_a_second_operation_is_refused_while_one_runs(settings: DeploySettings) -> None:
    docker = FakeDocker(containers={**RUNNING, **BLUE})
    with operation_lock(settings.DEPLOY_STATE_DIR, "release", wait_s=0):
        with pytest.raises(UsageError, match="`release` by .* is running"):
            command(settings, docker, "switch", "green")
    assert docker.calls == [], "it never looked at anything, so it reports nothing"


@pytest.mark.slow
def test_an_unknown_tag_is_refused_before_anything_changes(deployable) -> None:
    settings, registry = deployable
    docker = FakeDocker(containers={**RUNNING, **BLUE})
    with pytest.raises(UsageError, match="unknown tag deadbeef"):
        command(settings, docker, "deploy", "--tag", "deadbeef", registry=registry)
    assert not [c for c in docker.compose_calls() if c[0] in ("up", "build")] and state_of(settings) == {}


@pytest.mark.slow
def test_a_model_version_that_does_not_exist_is_refused(deployable) -> None:
    settings, registry = deployable
    docker = FakeDocker(containers={**RUNNING, **BLUE})
    with pytest.raises(UsageError, match="model version '42' does not exist"):
        command(settings, docker, "deploy", "--model", "42", registry=registry)
    assert not [c for c in docker.compose_calls() if c[0] == "up"] and state_of(settings) == {}


@pytest.mark.slow
def test_a_doctored_copy_of_a_bundle_is_refused(deployable) -> None:
    """The issue's fault: v1 copied into a new version directory with a threshold that flags everyone."""
    settings, registry = deployable
    root = settings.BUNDLES_DIR / "credit-default"
    doctored = root / "2"
    import shutil

    shutil.copytree(root / "1", doctored)
    metadata = json.loads((doctored / "metadata.json").read_text())
    metadata["threshold"] = 0.001
    (doctored / "metadata.json").write_text(json.dumps(metadata))
    docker = FakeDocker(containers={**RUNNING, **BLUE})
    with pytest.raises(UsageError, match="holds model version '1': it is not an export of v2"):
        command(settings, docker, "deploy", registry=registry)
    assert not [c for c in docker.compose_calls() if c[0] == "up"] and state_of(settings) == {}


@pytest.mark.slow
def test_a_deploy_that_fails_its_gates_puts_the_idle_color_back_on_its_release(deployable) -> None:
    settings, registry = deployable
    Context(settings).state.pin("green", OLD)
    stack = Backend(
        color="green", failed="model not loaded: CatBoost cannot read model.cb", key_store=settings.api_keys_file
    )

    def recreated(argv: list[str], env: dict[str, str]) -> None:  # the previous release starts and gets ready
        if "up" in argv and env.get("GREEN_BACKEND_IMAGE") == OLD.images["backend"]:
            stack.failed, stack.version, stack.revision = None, OLD.model_version, OLD.tag

    docker = FakeDocker(containers={**RUNNING, **BLUE}, images=set(OLD.images.values()), on_compose=recreated)
    with serve(stack, settings.PREVIEW_PORT):
        code, lines = command(settings, docker, "deploy", registry=registry)
    assert code == 1 and "REFUSED" in lines[-1] and "back on its previous release" in lines[-1]
    ups = [c for c in docker.compose_calls() if c[:1] == ["up"]]
    assert len(ups) == 2, "the new release, then the previous one"
    assert stack.ready_calls == 2, "refused at the first answer saying the model cannot load; the restore is ready"
    tag, _ = checkout_tag(settings.root)
    assert docker.compose_env("up", "backend-green").get("GREEN_BACKEND_IMAGE") == OLD.images["backend"]
    state = state_of(settings)
    assert state["colors"]["green"]["tag"] == OLD.tag, "the rollback target is intact"
    event = state["history"][-1]
    assert (event["operation"], event["result"], event["target_release"]["tag"]) == ("deploy", "refused", tag)
    assert "@" in event["operator"]


def like_training(settings: DeploySettings, version: str) -> Backend:
    """A stack that answers the bundle's reference applicants as training did (a sane model)."""
    reference = json.loads((settings.BUNDLES_DIR / "credit-default" / version / "sanity.json").read_text())
    scores = dict(zip(map(json.dumps, reference["applicants"]), reference["probabilities"]))
    tag, _ = checkout_tag(settings.root)
    return Backend(
        color="green",
        version=version,
        revision=tag,
        threshold=reference["threshold"],
        batch=lambda applicants: [scores[json.dumps(a)] for a in applicants],
        key_store=settings.api_keys_file,
    )


@pytest.mark.slow
def test_a_deploy_that_passes_its_gates_is_pinned_recorded_and_named_in_the_registry(deployable) -> None:
    settings, registry = deployable
    tag, _ = checkout_tag(settings.root)
    docker = FakeDocker(containers={**RUNNING, **BLUE})
    stack = like_training(settings, "1")
    with serve(stack, settings.PREVIEW_PORT):
        code, lines = command(settings, docker, "deploy", registry=registry)
    assert code == 0 and "DEPLOYED" in lines[-1], lines
    reference_rows = len(
        json.loads((settings.BUNDLES_DIR / "credit-default" / "1" / "sanity.json").read_text())["applicants"]
    )
    assert stack.refused == 0 and stack.probes == 3 + reference_rows, "smoke and sanity gates send the CLI's key"
    assert set(stack.callers) == {"deploy-cli"}
    assert set(release_images(tag, None).values()) <= docker.images, "built from this checkout"
    green = state_of(settings)["colors"]["green"]
    assert (green["tag"], green["model_version"]) == (tag, "1") and len(green["model_digest"]) == 64
    assert docker.compose_env("up", "backend-green")["GREEN_MODEL_VERSION"] == "1"
    assert registry.version_of("green") == "1"
    event = state_of(settings)["history"][-1]
    assert event["result"] == "deployed"
    assert event["figures"]["sanity"]["max_probability_delta_vs_training"] < 1e-9


@pytest.mark.slow
def test_a_model_that_flags_everyone_is_refused_unless_forced(deployable) -> None:
    settings, registry = deployable
    stack = like_training(settings, "1")
    stack.batch, stack.threshold = (lambda applicants: [0.9] * len(applicants)), 0.001
    with serve(stack, settings.PREVIEW_PORT):
        code, lines = command(settings, FakeDocker(containers={**RUNNING, **BLUE}), "deploy", registry=registry)
        assert code == 1 and "decision sanity of green" in lines[-1] and "flags 100%" in lines[-1], lines
        assert "(almost) everyone" in lines[-1]
        code, lines = command(
            settings, FakeDocker(containers={**RUNNING, **BLUE}), "deploy", "--force", registry=registry
        )
    assert code == 0, lines
    event = state_of(settings)["history"][-1]
    assert event["result"] == "deployed" and event["figures"]["sanity_forced"]


def test_status_shows_each_colors_release_and_the_operations(settings: DeploySettings) -> None:
    context = Context(settings)
    context.state.pin("blue", OLD)
    context.record("deploy", "green", "refused", "green not ready", 3.0, OLD, "blue", OLD)
    code, lines = command(settings, FakeDocker(containers=BLUE), "status")
    text = "\n".join(lines)
    assert code == 0 and "traffic -> blue" in text
    assert "blue   [ACTIVE" in text and "release 000000000000 + model v1" in text
    assert "green  [idle" in text and "nothing deployed" in text
    assert "backend running (healthy)" in text and "backend absent" in text
    assert "deploy   blue(000000000000 + model v1) -> green(000000000000 + model v1)  refused" in text
    assert "by " in text and "@" in text


def test_prune_keeps_the_pinned_and_the_latest_releases(settings: DeploySettings) -> None:
    context = Context(settings)
    tags = [f"{i:040x}" for i in range(1, 6)]
    for tag in tags:
        context.record("deploy", "green", "deployed", "ok", 1.0, Release(tag, release_images(tag, None), "1"))
    context.state.pin("blue", Release(tags[0], release_images(tags[0], None), "1"))
    docker = FakeDocker(images={ref for tag in tags for ref in release_images(tag, None).values()})
    code, lines = command(settings, docker, "prune", "--keep", "2")
    assert code == 0
    remaining = {ref.rsplit(":", 1)[1] for ref in docker.images}
    assert remaining == {tags[0], tags[3], tags[4]}, "the pinned one and the two newest"
    assert "removed 4 image(s) of 2 older release(s)" in lines[-1]
