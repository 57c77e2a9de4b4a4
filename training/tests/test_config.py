"""Code tests: the training config loader."""

from pathlib import Path

import pytest
import yaml

from training.config import load_config
from training.errors import TrainingInputError

ROOT = Path(__file__).resolve().parents[2]


def test_repository_config_is_valid() -> None:
    cfg = load_config(ROOT / "training" / "params.yaml")
    assert cfg.registered_model_name == "credit-default"
    assert cfg.data.target == "creditability" and cfg.data.positive_label == "bad"
    assert {c.type for c in cfg.candidates} == {"decision_tree", "logistic_regression", "random_forest", "catboost"}
    assert cfg.quality_gate.min_test_roc_auc == 0.70
    assert cfg.selection_metric == "cv_roc_auc_mean"


def test_models_dir_env_overrides_export_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BUNDLES_DIR", str(tmp_path / "elsewhere"))
    assert load_config(ROOT / "training" / "params.yaml").export_dir == tmp_path / "elsewhere"


def test_tracking_uri_defaults_to_local_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert load_config(ROOT / "training" / "params.yaml").tracking_uri == "sqlite:///mlruns/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow:5000")
    assert load_config(ROOT / "training" / "params.yaml").tracking_uri == "http://mlflow:5000"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("data: [unclosed", "not valid YAML"),
        ("- just\n- a list\n", "must be a YAML mapping"),
        ("data: {path: x.csv, target: t}\ncandidates: []\n", "positive_label"),
        ("data: {path: x.csv, target: t, positive_label: y}\ncandidates: []\n", "candidates"),
        (
            "data: {path: x.csv, target: t, positive_label: y}\nsplit: {test_size: 0.9}\n"
            "candidates: [{name: a, type: catboost}]\n",
            "split.test_size",
        ),
        (
            "data: {path: x.csv, target: t, positive_label: y}\n" "candidates: [{name: a, type: xgboost}]\n",
            "candidates.0.type",
        ),
        (
            "data: {path: x.csv, target: t, positive_label: y}\n"
            "candidates: [{name: a, type: catboost}, {name: a, type: catboost}]\n",
            "unique",
        ),
        (
            "data: {path: x.csv, target: t, positive_label: y, typo: 1}\n" "candidates: [{name: a, type: catboost}]\n",
            "data.typo",
        ),
    ],
)
def test_malformed_config_names_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "params.yaml"
    path.write_text(text)
    with pytest.raises(TrainingInputError, match=message.replace(".", r"\.")):
        load_config(path)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(TrainingInputError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")


def test_config_round_trips_through_yaml(tmp_path: Path) -> None:
    raw = yaml.safe_load((ROOT / "training" / "params.yaml").read_text())
    raw["data"]["drop_features"] = ["age_in_years"]
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(raw))
    assert load_config(path).data.drop_features == ["age_in_years"]
