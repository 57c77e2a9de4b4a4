"""The bundle directory: the atomic `latest` pointer, the overwrite guards, the exported model."""

import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from conftest import fast_config
from training.errors import TrainingInputError
from training.export import export_bundle, point_latest
from training.tests.sessions import client_for, train


def test_latest_is_a_relative_symlink_that_moves(tmp_path: Path) -> None:
    for version in ("1", "2"):
        (tmp_path / version).mkdir()
        (tmp_path / version / "metadata.json").write_text(version)
    point_latest(tmp_path, "1")
    assert (tmp_path / "latest" / "metadata.json").read_text() == "1"
    point_latest(tmp_path, "2")
    link = tmp_path / "latest"
    assert link.is_symlink() and str(link.readlink()) == "2"
    assert (link / "metadata.json").read_text() == "2"
    assert not (tmp_path / ".latest.tmp").exists()


def test_export_refuses_to_replace_a_bundle_of_another_run(tmp_path: Path) -> None:
    existing = tmp_path / "credit-default" / "1"
    existing.mkdir(parents=True)
    (existing / "metadata.json").write_text(json.dumps({"run_id": "run-a"}))
    # Found before anything is downloaded or staged.
    with pytest.raises(TrainingInputError, match="already holds version 1 of run run-a"):
        export_bundle(tmp_path, "credit-default", "1", {"run_id": "run-b"}, {})
    assert json.loads((existing / "metadata.json").read_text()) == {"run_id": "run-a"}
    assert sorted(p.name for p in (tmp_path / "credit-default").iterdir()) == ["1"]


@pytest.mark.slow
def test_bundle_model_predicts_like_the_registry(full_run: Path) -> None:
    bundle = full_run / "models" / "credit-default" / "latest"
    meta = json.loads((bundle / "metadata.json").read_text())
    row = pd.DataFrame([meta["example"]]).astype(
        {f["name"]: "float64" for f in meta["features"] if f["type"] == "numeric"}
    )
    from_bundle = mlflow.pyfunc.load_model(str(bundle / "model")).predict(row)
    client_for(full_run)
    from_registry = mlflow.pyfunc.load_model("models:/credit-default@champion").predict(row)
    assert np.allclose(np.asarray(from_bundle, dtype=float), np.asarray(from_registry, dtype=float))


@pytest.mark.slow
def test_a_second_store_never_overwrites_bundles_it_did_not_register(
    store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    cfg = fast_config(store, ["logistic_regression"])
    assert train(store, cfg) == 0
    bundle_meta = store / "models" / "credit-default" / "1" / "metadata.json"
    before = bundle_meta.read_bytes()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store}/other-store/mlflow.db")
    assert train(store, cfg) == 2
    err = capsys.readouterr().err
    assert "did not register: v1 (run" in err and "MLFLOW_TRACKING_URI" in err
    assert bundle_meta.read_bytes() == before
    assert sorted(p.name for p in (store / "models" / "credit-default").iterdir()) == ["1", "latest"]
