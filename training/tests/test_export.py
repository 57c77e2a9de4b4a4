"""The bundle directory: the atomic `latest` pointer, the overwrite guards, the exported model."""

import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from conftest import fast_config
from mlflow.tracking import MlflowClient

from training.bundle_digest import DIGEST_TAG, compute_digest, recorded_digest, write_digest
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
def test_the_bundle_digest_is_written_into_the_bundle_and_recorded_in_mlflow(full_run: Path, tmp_path: Path) -> None:
    bundle = (full_run / "models" / "credit-default" / "latest").resolve()
    digest = recorded_digest(bundle)
    assert digest == compute_digest(bundle) and len(digest) == 64
    client = client_for(full_run)
    version = client.get_model_version("credit-default", bundle.name)
    assert version.tags[DIGEST_TAG] == digest == client.get_run(version.run_id).data.tags[DIGEST_TAG]
    fetched = Path(
        mlflow.artifacts.download_artifacts(run_id=version.run_id, artifact_path="bundle", dst_path=str(tmp_path))
    )
    assert compute_digest(fetched) == digest, "the registry holds the very bundle that was exported"


def test_the_digest_changes_with_any_file_and_ignores_the_digest_file(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "model.cb").write_bytes(b"trees")
    (tmp_path / "metadata.json").write_text('{"threshold": 0.3}')
    first = write_digest(tmp_path)
    assert compute_digest(tmp_path) == first, "the digest file is not part of the digest"
    (tmp_path / "metadata.json").write_text('{"threshold": 0.001}')
    assert compute_digest(tmp_path) != first


@pytest.mark.slow
def test_a_second_store_imports_the_bundles_it_lacks_then_registers_the_next_version(
    store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """The host's mlruns/ and the stack's server export into one directory: neither refuses because of where an
    earlier version was registered; the second one catches up with the bundles first, under the same numbers."""
    cfg = fast_config(store, ["logistic_regression"])
    assert train(store, cfg) == 0
    bundles = store / "models" / "credit-default"
    first_bundle = (bundles / "1" / "metadata.json").read_bytes()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store}/other-store/mlflow.db")
    assert train(store, cfg) == 0
    assert "imported the exported bundles this store lacked: v1" in capsys.readouterr().out
    assert (bundles / "1" / "metadata.json").read_bytes() == first_bundle
    assert sorted(p.name for p in bundles.iterdir()) == ["1", "2", "latest"]
    other = MlflowClient(tracking_uri=f"sqlite:///{store}/other-store/mlflow.db")
    versions = {str(v.version): v for v in other.search_model_versions("name='credit-default'")}
    assert sorted(versions) == ["1", "2"]
    assert versions["1"].tags[DIGEST_TAG] == recorded_digest(bundles / "1")
    assert versions["2"].tags[DIGEST_TAG] == recorded_digest(bundles / "2")


@pytest.mark.slow
def test_a_store_that_registered_another_model_under_a_bundles_number_is_refused(
    store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    cfg = fast_config(store, ["logistic_regression"])
    assert train(store, cfg) == 0
    bundles = store / "models" / "credit-default"
    before = sorted(p.name for p in bundles.iterdir())
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store}/other-store/mlflow.db")
    monkeypatch.setenv("BUNDLES_DIR", str(store / "elsewhere"))
    assert train(store, cfg, name="other.yaml") == 0  # the other store's own v1, exported elsewhere
    monkeypatch.delenv("BUNDLES_DIR")
    assert train(store, cfg) == 2
    err = capsys.readouterr().err
    assert "is not the model" in err and "v1" in err and "BUNDLES_DIR" in err
    assert sorted(p.name for p in bundles.iterdir()) == before
    other = MlflowClient(tracking_uri=f"sqlite:///{store}/other-store/mlflow.db")
    assert [str(v.version) for v in other.search_model_versions("name='credit-default'")] == ["1"]
