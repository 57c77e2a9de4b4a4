"""scripts/metrics_table.py and the train job's step that publishes its output."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from scripts.metrics_table import main
from tests.ci.step_runner import find_step, run_step
from tests.ci.workflow_checks import ROOT, WORKFLOWS_DIR, load_workflow

METADATA: dict[str, Any] = {
    "name": "credit-default",
    "version": "7",
    "algorithm": "logistic_regression",
    "candidate": "logistic_regression",
    "threshold": 0.3662,
    "metrics": {"test_roc_auc": 0.8112},
    "candidates": [
        {"candidate": "decision_tree", "champion": False, "cv_roc_auc_mean": 0.7052, "test_roc_auc": 0.6649},
        {"candidate": "logistic_regression", "champion": True, "cv_roc_auc_mean": 0.769, "seconds": 2.14},
    ],
}


def bundle(tmp_path: Path, metadata: Any) -> Path:
    path = tmp_path / "bundle"
    path.mkdir()
    text = metadata if isinstance(metadata, str) else json.dumps(metadata)
    (path / "metadata.json").write_text(text)
    return path


def test_the_table_has_one_row_per_candidate_with_the_champion_in_bold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(bundle(tmp_path, METADATA)), "--out", str(tmp_path / "report")]) == 0
    printed = capsys.readouterr().out
    assert printed == (tmp_path / "report" / "metrics.md").read_text()
    assert printed.startswith("### Trained credit-default v7: champion `logistic_regression` (logistic_regression)")
    assert "test ROC AUC 0.8112, decision threshold 0.3662" in printed
    rows = [line for line in printed.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| candidate | CV ROC AUC |")
    assert rows[1].startswith("| --- | ---: |")
    assert rows[2].startswith("| decision_tree | 0.7052 | – |")
    assert rows[3].startswith("| **logistic_regression** (champion) | **0.7690** | **–** |")
    assert rows[3].endswith("| **2.1** |")
    assert len({row.count("|") for row in rows}) == 1, "every row has every column"
    table = list(csv.DictReader(io.StringIO((tmp_path / "report" / "metrics.csv").read_text())))
    assert [row["candidate"] for row in table] == ["decision_tree", "logistic_regression"]
    assert table[0]["test_roc_auc"] == "0.6649" and table[1]["test_roc_auc"] == ""
    assert table[1]["seconds"] == "2.14"


FAIRNESS = {
    "gate": {"action": "warn", "predictions": "out_of_fold", "decision": "warned", "findings": ["age: ratio 0.5"]},
    "sets": {
        "out_of_fold": {
            "age": {
                "groups": [
                    {
                        "group": "young",
                        "count": 40,
                        "base_rate": 0.4,
                        "measured": True,
                        "flagged_rate": 0.5,
                        "flagged_rate_ci": [0.41, 0.6],
                        "tpr": 0.8,
                        "fpr": 0.3,
                    },
                    {"group": "old", "count": 9, "base_rate": 0.2, "measured": False, "note": "too small to measure"},
                ],
                "disparities": {
                    "demographic_parity_ratio": {"value": 0.5, "ci": [0.3, 0.7]},
                    "demographic_parity_difference": {"value": 0.25, "ci": None},
                    "equalized_odds_difference": {"value": 0.3, "ci": None},
                },
            }
        },
        "holdout": {"age": {"groups": [{"group": "young", "count": 10, "base_rate": 0.3, "measured": True}]}},
    },
}


def test_the_fairness_table_of_the_gates_predictions_follows_the_metrics(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    metadata = {**METADATA, "fairness": FAIRNESS, "gate": {"decision": "passed", "warnings": ["age: ratio 0.5"]}}
    assert main([str(bundle(tmp_path, metadata)), "--out", str(tmp_path / "report")]) == 0
    printed = capsys.readouterr().out
    assert "decision threshold 0.3662 (passed, 1 warning(s) recorded)." in printed
    assert "#### Fairness by group (out-of-fold predictions): gate **warned** (action `warn`)" in printed
    assert "| age | young | 40 | 0.400 | 0.500 (0.410–0.600) | 0.800 | 0.300 |" in printed
    assert "| age | old | 9 | 0.200 | too small to measure | – | – |" in printed
    assert "| age | 0.500 (0.300–0.700) | 0.250 | 0.300 |" in printed and printed.endswith("- age: ratio 0.5\n")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "report" / "fairness.csv").read_text())))
    assert [(r["set"], r["group"]) for r in rows] == [
        ("out_of_fold", "young"),
        ("out_of_fold", "old"),
        ("holdout", "young"),
    ]
    assert "flagged_rate_ci" not in rows[0]


def test_a_bundle_without_fairness_has_no_fairness_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(bundle(tmp_path, METADATA)), "--out", str(tmp_path / "report")]) == 0
    assert "Fairness" not in capsys.readouterr().out and not (tmp_path / "report" / "fairness.csv").exists()


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        (None, "does not exist (train a model first: make train)"),
        ("{not json", "is not readable JSON"),
        ([1, 2], "expected a JSON object"),
        ({k: v for k, v in METADATA.items() if k != "candidates"}, "missing key 'candidates'"),
        ({**METADATA, "candidates": []}, "'candidates' must be a non-empty list of objects"),
        ({**METADATA, "candidates": [{"test_roc_auc": 0.8}]}, "candidates[0] has no 'candidate' name"),
    ],
)
def test_bad_metadata_exits_2_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], metadata: Any, message: str
) -> None:
    path = tmp_path / "nowhere" if metadata is None else bundle(tmp_path, metadata)
    assert main([str(path), "--out", str(tmp_path / "report")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert not (tmp_path / "report").exists()


@pytest.mark.slow
def test_the_train_job_step_publishes_a_real_bundles_metrics(tmp_path: Path, catboost_bundle: Path) -> None:
    """The workflow's own step, run in a checkout-like directory where `make train` has just exported a bundle."""
    (tmp_path / "models" / "credit-default").mkdir(parents=True)
    (tmp_path / "models" / "credit-default" / "latest").symlink_to(catboost_bundle)
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    (tmp_path / "scripts").symlink_to(ROOT / "scripts")
    step = find_step(
        load_workflow(WORKFLOWS_DIR / "ci.yml"), "train", "Metrics and fairness tables (job summary and artifact)"
    )
    result = run_step(step, tmp_path)
    assert result.returncode == 0, result.stderr
    report = tmp_path / "train-report"
    metadata = json.loads((catboost_bundle / "metadata.json").read_text())
    assert result.summary == (report / "metrics.md").read_text()
    assert f"v{metadata['version']}: champion `catboost`" in result.summary
    assert "| **catboost** (champion) |" in result.summary
    assert (
        "#### Fairness by group (out-of-fold predictions): gate" in result.summary
        and "| sex | female |" in result.summary
    )
    for card in ("model_card.md", "model_card.html"):
        assert (report / card).read_text() == (catboost_bundle / card).read_text()
    assert json.loads((report / "metadata.json").read_text()) == metadata
    assert {path.name for path in (report / "plots").iterdir()} == {
        Path(name).name for name in metadata["plots"].values()
    }
    rows = list(csv.DictReader(io.StringIO((report / "metrics.csv").read_text())))
    assert [row["candidate"] for row in rows] == [row["candidate"] for row in metadata["candidates"]]
