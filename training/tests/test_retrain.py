"""`make retrain` (training.outcomes.retrain) against real MLflow sqlite stores, real files and a real HTTP server."""

from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from conftest import fast_config, write_config
from training.config import TrainingConfig
from training.data import load_dataset, split
from training.models import predict_positive
from training.outcomes.retrain import main
from training.tests.outcomes_kit import DATA, GOOD_KEY, SCORE_ONLY_KEY, labeled_rows, outcomes_server
from training.tests.sessions import client_for, tracking_at, train

pytestmark = pytest.mark.slow
MODEL = "credit-default"


def retrain_config(work: Path, **retrain: object) -> dict:
    cfg = fast_config(work, ["logistic_regression"])
    cfg["fairness"]["bootstrap"]["n_boot"] = 10
    cfg["retrain"] = {"min_labeled_rows": 50, "holdout_share": 0.3, "outcomes_dir": str(work / "outcomes"), **retrain}
    return cfg


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store whose champion v1 was trained by `make train`'s pipeline on the original data: the serving model."""
    work = tmp_path_factory.mktemp("serving")
    with tracking_at(work):
        assert train(work, retrain_config(work)) == 0
    return work


@pytest.fixture
def store(serving: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{serving}/mlruns/mlflow.db")
    monkeypatch.delenv("BUNDLES_DIR", raising=False)
    monkeypatch.delenv("API_KEY", raising=False)
    return serving


def versions(work: Path) -> list[str]:
    return sorted(str(v.version) for v in client_for(work).search_model_versions(f"name='{MODEL}'"))


def retrain(work: Path, cfg: dict, *args: str) -> int:
    return main(["--config", str(write_config(work / "retrain.yaml", cfg)), *args])


def test_a_pass_trains_on_the_labeled_rows_and_records_their_lineage(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = labeled_rows(120)
    repeated = pd.concat([rows, rows.iloc[:10]], ignore_index=True)  # the same predictions twice: kept once
    (store / "key").write_text(GOOD_KEY + "\n")
    with outcomes_server(repeated.to_csv(index=False).encode()) as (url, seen):
        code = retrain(store, retrain_config(store), "--url", url, "--key-file", str(store / "key"))
    out = capsys.readouterr().out
    assert code == 0, out
    assert seen[0]["Accept"] == "text/csv" and seen[0]["Authorization"] == f"Bearer {GOOD_KEY}"
    assert versions(store) == ["1", "2"]

    # The versioned files: exactly the labeled rows (once each), then the original data plus them.
    (labeled_file,) = (store / "outcomes").glob("labeled-*.csv")
    digest = hashlib.sha256(labeled_file.read_bytes()).hexdigest()
    assert labeled_file.name == f"labeled-{digest[:12]}.csv"
    written = pd.read_csv(labeled_file, dtype=str)
    assert list(written["prediction_id"]) == list(rows["prediction_id"])
    pd.testing.assert_frame_equal(written, rows.astype(str))
    (retrain_file,) = (store / "outcomes").glob("retrain-*.csv")
    dataset, original = pd.read_csv(retrain_file), pd.read_csv(DATA)
    assert len(dataset) == len(original) + 120
    pd.testing.assert_frame_equal(dataset.iloc[: len(original)], original)
    pd.testing.assert_frame_equal(
        dataset.iloc[len(original) :].reset_index(drop=True), rows[list(original.columns)], check_dtype=False
    )

    # Lineage: in the bundle's metadata and on the MLflow session run.
    meta = json.loads((store / "models" / MODEL / "2" / "metadata.json").read_text())
    lineage = meta["lineage"]["outcomes"]
    assert lineage["original"]["sha256"] == hashlib.sha256(DATA.read_bytes()).hexdigest()
    assert lineage["labeled"]["sha256"] == digest and lineage["labeled"]["rows"] == 120
    assert lineage["labeled"]["duplicates_dropped"] == 10
    assert lineage["labeled"]["prediction_ids"] == {"first": "pred-00001", "last": "pred-00120"}
    assert lineage["labeled"]["model_versions"] == {"1": 120}
    assert lineage["serving"]["version"] == "1"
    card = (store / "models" / MODEL / "2" / "model_card.md").read_text()
    assert "120 matured labeled predictions (`pred-00001` to `pred-00120`)" in card and digest[:12] in card
    client = client_for(store)
    session = client.get_run(meta["lineage"]["mlflow"]["session_run_id"])
    assert session.data.tags["outcomes_labeled_sha256"] == digest
    assert session.data.tags["outcomes_original_sha256"] == lineage["original"]["sha256"]
    assert session.data.tags["outcomes_labeled_rows"] == "120"
    assert session.data.tags["outcomes_prediction_ids"] == "pred-00001..pred-00120"
    assert session.data.tags["outcomes_serving_version"] == "1"
    assert session.data.params["outcomes_labeled_path"] == str(labeled_file)
    logged = json.loads(
        Path(mlflow.artifacts.download_artifacts(f"runs:/{session.info.run_id}/outcomes/lineage.json")).read_text()
    )
    assert logged == lineage
    ids = json.loads(
        Path(mlflow.artifacts.download_artifacts(f"runs:/{session.info.run_id}/outcomes/split.json")).read_text()
    )

    # The common hold-out: the original hold-out of `make train` plus the held-out labeled rows, none trained on.
    cfg = TrainingConfig.model_validate(retrain_config(store))
    original_test = split(load_dataset(cfg.data), cfg.split)[1].index
    held, trained = ids["holdout"], ids["train"]
    assert held["original_rows"] == sorted(original_test) and len(held["original_rows"]) == 200
    assert not set(held["original_rows"]) & set(trained["original_rows"])
    assert not set(held["prediction_ids"]) & set(trained["prediction_ids"])
    assert set(held["prediction_ids"]) | set(trained["prediction_ids"]) == set(rows["prediction_id"])
    assert 15 <= len(held["prediction_ids"]) <= 55  # about 30 % of 120
    assert lineage["holdout"]["rows"] == 200 + len(held["prediction_ids"])

    # Both models scored on that same set: the logged figures are sklearn's on exactly those rows.
    retrained = load_dataset(cfg.data.model_copy(update={"path": retrain_file}))
    position = {pid: len(original) + i for i, pid in enumerate(rows["prediction_id"])}
    rows_held = held["original_rows"] + [position[pid] for pid in held["prediction_ids"]]
    x, y = retrained.features.iloc[rows_held], retrained.target.iloc[rows_held]
    serving_model = mlflow.sklearn.load_model(f"models:/{MODEL}/1")
    new_model = mlflow.sklearn.load_model(f"models:/{MODEL}/2")
    serving_auc = roc_auc_score(y, predict_positive(serving_model, x))
    assert session.data.metrics["serving_holdout_roc_auc"] == pytest.approx(serving_auc)
    assert lineage["serving"]["holdout_roc_auc"] == pytest.approx(serving_auc)
    assert meta["metrics"]["test_roc_auc"] == pytest.approx(roc_auc_score(y, predict_positive(new_model, x)))
    # The serving model never trained on the original part: its AUC there is its own registered hold-out figure.
    v1_run = client.get_run(client.get_model_version(MODEL, "1").run_id)
    original_part = slice(0, 200)
    assert roc_auc_score(y.iloc[original_part], predict_positive(serving_model, x.iloc[original_part])) == (
        pytest.approx(v1_run.data.metrics["test_roc_auc"])
    )

    assert "retrain summary" in out and f"common hold-out: {lineage['holdout']['rows']} rows" in out
    assert "gate passed" in out and "make deploy MODEL=2" in out and "make switch-" in out

    # The same rows again (the next scheduled run with no new outcome): nothing new to learn from.
    assert retrain(store, retrain_config(store), "--labeled", str(labeled_file)) == 1
    assert "was trained on these very labeled rows" in capsys.readouterr().err
    assert versions(store) == ["1", "2"]


def test_a_refusal_of_the_gate_registers_nothing(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = versions(store)
    rows = labeled_rows(80, seed=11, first_id=500)
    (store / "refused.csv").write_text(rows.to_csv(index=False))
    assert retrain(store, retrain_config(store, min_auc_gain=0.5), "--labeled", str(store / "refused.csv")) == 1
    captured = capsys.readouterr()
    assert "quality gate refused the champion" in captured.err and "min_auc_gain 0.5000" in captured.err
    assert "nothing registered or exported" in captured.out and "gate refused" in captured.out
    assert "ROC AUC on it: new 0." in captured.out and "vs serving v" in captured.out
    assert versions(store) == before


def test_too_few_labeled_rows_exit_1_with_nothing_written_or_registered(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = versions(store)
    (store / "few.csv").write_text(labeled_rows(49, seed=3, first_id=900).to_csv(index=False))
    work = store / "few"
    work.mkdir()
    assert retrain(work, retrain_config(work), "--labeled", str(store / "few.csv")) == 1
    err = capsys.readouterr().err.strip()
    assert "49 matured labeled rows, retrain.min_labeled_rows is 50: too few" in err and len(err.splitlines()) == 1
    assert not (work / "outcomes").exists()
    assert versions(store) == before


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(("key", "status"), [("unknown-key", "401"), (SCORE_ONLY_KEY, "403")])
def test_a_refused_key_exit_2_naming_the_scope(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], key: str, status: str
) -> None:
    monkeypatch.setenv("API_KEY", key)
    with outcomes_server(labeled_rows(60).to_csv(index=False).encode()) as (url, seen):
        assert retrain(tmp_path, retrain_config(tmp_path), "--url", url) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"HTTP {status}" in err and "scope audit" in err
    assert not (tmp_path / "outcomes").exists()


def test_no_key_or_a_service_down_exit_2_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("API_KEY", raising=False)
    url = f"http://127.0.0.1:{free_port()}/api"
    assert retrain(tmp_path, retrain_config(tmp_path), "--url", url, "--key-file", str(tmp_path / "none")) == 2
    assert "no API key with the scope audit" in capsys.readouterr().err
    monkeypatch.setenv("API_KEY", GOOD_KEY)
    assert retrain(tmp_path, retrain_config(tmp_path), "--url", url) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"cannot reach {url}/outcomes/labeled" in err and "make up" in err
