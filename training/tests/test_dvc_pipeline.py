"""The DVC pipeline (dvc.yaml): `dvc repro` runs validate -> train -> export, then nothing, then only the stages a
params change affects. Run with the real dvc in a copy of the pipeline's files (a git repository of its own)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, fast_config, write_config

BIN = Path(sys.executable).parent
STAGES = ("validate", "train", "export")
GIT_IDENTITY = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t"}


def pipeline() -> dict:
    return yaml.safe_load((ROOT / "dvc.yaml").read_text())


def test_every_training_module_is_a_dependency_of_a_stage() -> None:
    """A new module must be listed, or `dvc repro` would not rerun the stage its change affects."""
    deps = {dep for stage in pipeline()["stages"].values() for dep in stage["deps"]}
    modules = {f"training/{p.name}" for p in (ROOT / "training").glob("*.py") if p.name != "__init__.py"}
    assert modules - deps == set()
    assert "${data.path}" in pipeline()["stages"]["validate"]["deps"], "the data file comes from the params"


def test_the_stages_read_sections_of_the_training_config_and_dvc_lock_matches() -> None:
    params = yaml.safe_load((ROOT / "training" / "params.yaml").read_text())
    for name, stage in pipeline()["stages"].items():
        assert stage["cmd"].split()[:4] == ["python", "-m", "training.pipeline", name]
        (sections,) = [entry["training/params.yaml"] for entry in stage["params"]]
        for section in sections:
            assert section.split(".")[0] in params, (name, section)
    lock = yaml.safe_load((ROOT / "dvc.lock").read_text())
    assert tuple(lock["stages"]) == STAGES


def dvc(repo: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "MLFLOW_TRACKING_URI": f"sqlite:///{repo}/mlruns/mlflow.db",
        "DVC_NO_ANALYTICS": "1",
    }
    env.pop("BUNDLES_DIR", None)
    done = subprocess.run([str(BIN / "dvc"), *args], cwd=repo, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env={**os.environ, **GIT_IDENTITY})


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The repository's pipeline, code and data with a fast config, committed in a fresh git repository."""
    repo = tmp_path / "repo"
    (repo / "training").mkdir(parents=True)
    (repo / "data").mkdir()
    (repo / ".dvc").mkdir()
    for path in ("dvc.yaml", ".dvcignore", ".dvc/config", ".dvc/.gitignore", "data/german_credit.csv"):
        shutil.copyfile(ROOT / path, repo / path)
    for module in (ROOT / "training").glob("*.py"):
        shutil.copyfile(module, repo / "training" / module.name)
    cfg = fast_config(repo, ["logistic_regression"])
    cfg.update(export_dir="models", data={**cfg["data"], "path": "data/german_credit.csv"})
    cfg["fairness"]["bootstrap"]["n_boot"] = 10
    write_config(repo / "training" / "params.yaml", cfg)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "pipeline")
    return repo


def ran(done: subprocess.CompletedProcess) -> list[str]:
    return [stage for stage in STAGES if f"Running stage '{stage}'" in done.stdout]


def set_param(repo: Path, section: str, key: str, value: object) -> None:
    path = repo / "training" / "params.yaml"
    cfg = yaml.safe_load(path.read_text())
    node = cfg
    for part in section.split("."):
        node = node[part]
    node[key] = value
    write_config(path, cfg)


def versions(repo: Path) -> list[str]:
    return sorted(p.name for p in (repo / "models" / "credit-default").iterdir() if p.name.isdigit())


@pytest.mark.slow
def test_repro_runs_each_stage_once_and_then_only_what_a_params_change_affects(repo: Path) -> None:
    assert ran(dvc(repo, "repro")) == list(STAGES)
    card = (repo / "reports" / "card" / "model_card.md").read_text()
    assert card == (repo / "models" / "credit-default" / "latest" / "model_card.md").read_text()
    assert "DVC stages (`dvc.lock`, which records this data file)" in card and "| `train` |" in card

    again = dvc(repo, "repro")
    assert ran(again) == [] and "Data and pipelines are up to date." in again.stdout
    assert versions(repo) == ["1"], "nothing retrained, nothing registered"

    metrics = json.loads(dvc(repo, "metrics", "show", "--json").stdout)
    shown = next(iter(metrics.values()))["data"]["reports/metrics.json"]["data"]
    bundle = json.loads((repo / "models" / "credit-default" / "1" / "metadata.json").read_text())
    assert shown["metrics"]["test_roc_auc"] == pytest.approx(bundle["metrics"]["test_roc_auc"])
    assert shown["fairness"]["out_of_fold"]["age_band"]["demographic_parity_ratio"] == pytest.approx(
        bundle["fairness"]["sets"]["out_of_fold"]["age_band"]["disparities"]["demographic_parity_ratio"]["value"]
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "repro")

    set_param(repo, "model_card", "owner", "Model Risk Office")
    diff = dvc(repo, "params", "diff").stdout
    assert "model_card.owner" in diff and "Model Risk Office" in diff
    card_only = dvc(repo, "repro")
    assert ran(card_only) == ["export"]
    assert "Stage 'validate' didn't change, skipping" in card_only.stdout
    assert "Stage 'train' didn't change, skipping" in card_only.stdout
    assert "| Owner | Model Risk Office |" in (repo / "models" / "credit-default" / "1" / "model_card.md").read_text()
    assert versions(repo) == ["1"], "the card of the same registered version was re-rendered"

    set_param(repo, "fairness.gate", "max_equalized_odds_difference", 0.5)
    retrained = dvc(repo, "repro")
    assert ran(retrained) == ["train", "export"]
    assert versions(repo) == ["1", "2"] and (repo / "models" / "credit-default" / "latest").resolve().name == "2"
    assert "Stage 'validate' didn't change, skipping" in retrained.stdout
