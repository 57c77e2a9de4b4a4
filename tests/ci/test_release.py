"""release.yml: image names and tags, the shared UTC date tag, and the deploy that only runs when configured."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.ci.step_runner import find_step, run_step, ssh_stand_in
from tests.ci.workflow_checks import WORKFLOWS_DIR, load_workflow, steps_using

RELEASE = load_workflow(WORKFLOWS_DIR / "release.yml")
DEPLOY_SECRETS = ("DEPLOY_SSH_HOST", "DEPLOY_SSH_USER", "DEPLOY_SSH_KEY", "DEPLOY_SSH_KNOWN_HOSTS")


def test_the_date_tag_step_prints_a_utc_minute_tag(tmp_path: Path) -> None:
    before = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    result = run_step(find_step(RELEASE, "prepare", "date"), tmp_path, {"TZ": "America/New_York"})
    assert result.returncode == 0, result.stderr
    tag = result.outputs["tag"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}--\d{2}-\d{2}", tag)
    stamped = datetime.strptime(tag, "%Y-%m-%d--%H-%M").replace(tzinfo=timezone.utc)
    assert 0 <= (stamped - before).total_seconds() <= 120, "the tag is UTC, not the runner's local time"
    assert RELEASE["jobs"]["prepare"]["outputs"]["date-tag"] == "${{ steps.date.outputs.tag }}"


def test_every_image_goes_to_ghcr_with_sha_date_latest_and_version_tags() -> None:
    publish = RELEASE["jobs"]["publish"]
    [(_, meta)] = steps_using({"jobs": {"publish": publish}}, "docker/metadata-action")
    assert meta["with"]["images"] == "ghcr.io/${{ github.repository }}/${{ matrix.image }}"
    assert meta["with"]["flavor"] == "latest=false"
    assert meta["with"]["tags"].splitlines() == [
        "type=sha,prefix=,format=long",
        "type=raw,value=${{ needs.prepare.outputs.date-tag }}",
        "type=raw,value=latest,enable=${{ github.ref == 'refs/heads/main' }}",
        "type=ref,event=tag",
    ]
    scanned, pushed = [step for _, step in steps_using({"jobs": {"publish": publish}}, "docker/build-push-action")]
    assert (scanned["with"]["push"], scanned["with"]["load"], pushed["with"]["push"]) == (False, True, True)
    assert pushed["with"]["tags"] == "${{ steps.meta.outputs.tags }}"
    for build in (scanned, pushed):
        assert "cache-from" not in build["with"], "releases are built without caches other runs wrote"
    [(_, login)] = steps_using({"jobs": {"publish": publish}}, "docker/login-action")
    assert login["with"]["registry"] == "ghcr.io"
    assert login["with"]["password"] == "${{ secrets.GITHUB_TOKEN }}"
    assert {row["image"] for row in publish["strategy"]["matrix"]["include"]} == {
        "backend",
        "frontend",
        "trainer",
        "mlflow",
        "nginx",
        "prometheus",
        "controller",
    }


@pytest.mark.parametrize("unset", [None, *DEPLOY_SECRETS])
def test_the_deploy_runs_only_when_every_deploy_secret_is_set(tmp_path: Path, unset: str | None) -> None:
    """The check step sees `secrets.X != ''` as "true"/"false"; one missing secret skips the deploy job."""
    check = find_step(RELEASE, "deploy-config", "check")
    flags = {f"HAS_{name.removeprefix('DEPLOY_SSH_')}": "false" if name == unset else "true" for name in DEPLOY_SECRETS}
    assert set(flags) == set(check["env"])
    result = run_step(check, tmp_path, flags)
    assert result.returncode == 0, result.stderr
    if unset is None:
        assert result.outputs == {"enabled": "true"}
        assert result.summary == ""
    else:
        assert result.outputs == {"enabled": "false"}
        assert "Deploy skipped" in result.summary and unset in result.summary


def test_the_deploy_job_is_gated_on_the_check_and_never_sees_secrets_it_does_not_need() -> None:
    jobs = RELEASE["jobs"]
    assert jobs["deploy"]["if"] == "${{ needs.deploy-config.outputs.enabled == 'true' }}"
    assert set(jobs["deploy"]["needs"]) == {"deploy-config", "publish"}
    assert jobs["deploy-config"]["environment"] == {"name": "production", "deployment": False}
    assert jobs["deploy"]["environment"] == {"name": "production"}
    for name in DEPLOY_SECRETS:
        assert jobs["deploy-config"]["steps"][0]["env"][f"HAS_{name.removeprefix('DEPLOY_SSH_')}"] == (
            f"${{{{ secrets.{name} != '' }}}}"
        )
    text = (WORKFLOWS_DIR / "release.yml").read_text()
    assert text.count("secrets.") == len(DEPLOY_SECRETS) * 2 + 1  # the checks, the deploy steps, GITHUB_TOKEN


def test_the_deploy_command_releases_the_pushed_images_of_the_released_commit(tmp_path: Path) -> None:
    """Run the deploy step with a fake `ssh` on PATH that records its arguments (tests/e2e runs the same command
    for real against a stack and a local registry)."""
    step = find_step(RELEASE, "deploy", "Release the pushed images on the server (idle color, gated switch)")
    env, record = ssh_stand_in(tmp_path)
    env.update(
        DEPLOY_MODEL="champion",
        RELEASE_SHA="0123456789abcdef0123456789abcdef01234567",
        REGISTRY_HOST="ghcr.io",
        REPOSITORY="Acme/Credit-Risk",
    )
    result = run_step(step, tmp_path, env)
    assert result.returncode == 0, result.stderr
    args = record.read_text().splitlines()
    assert args[args.index("-p") + 1] == "2222"
    assert "StrictHostKeyChecking=yes" in args and "BatchMode=yes" in args
    assert args[-2] == "ops@deploy.example.org"
    assert args[-1] == (
        "cd -- srv/credit\\ risk && git fetch --quiet --tags origin"
        " && git checkout --quiet --detach 0123456789abcdef0123456789abcdef01234567"
        " && make release TAG=0123456789abcdef0123456789abcdef01234567 REGISTRY=ghcr.io/acme/credit-risk"
        " MODEL=champion DEPLOY_OPERATOR=release-workflow:ana:run-42 && make status"
    ), "the images the publish job pushed (lowercased registry path), to whichever color is idle"


def test_the_published_images_report_the_released_commit() -> None:
    builds = steps_using({"jobs": {"publish": RELEASE["jobs"]["publish"]}}, "docker/build-push-action")
    assert len(builds) == 2, "the scanned build and the push"
    for _, build in builds:
        assert "REVISION=${{ github.sha }}" in build["with"]["build-args"].splitlines()
