"""Console report: the comparison table of the candidates and how it is printed."""

from __future__ import annotations

import numpy as np
import pytest

from training.candidate import CandidateResult
from training.report import comparison_table, print_table


def result(name: str, auc: float, seconds: float) -> CandidateResult:
    metrics = {
        "cv_roc_auc_mean": auc,
        "cv_roc_auc_std": 0.01234,
        "cv_pr_auc_mean": 0.5,
        "test_accuracy": 0.7,
        "test_f1": 0.6,
        "test_roc_auc": auc,
        "test_pr_auc": 0.55,
        "test_brier": 0.18,
        "threshold": 0.35,
    }
    return CandidateResult(name, "logistic_regression", "run", "uri", metrics, 0.35, {}, {}, np.zeros(1), seconds)


def test_the_table_marks_the_champion_and_rounds(capsys: pytest.CaptureFixture) -> None:
    table = comparison_table([result("small", 0.712345, 1.26), result("big", 0.8, 3.0)], champion="big")
    assert table["candidate"].tolist() == ["small", "big"] and table["champion"].tolist() == [False, True]
    assert table.loc[0, "cv_roc_auc_mean"] == 0.7123 and table.loc[0, "seconds"] == 1.3
    print_table(table)
    lines = capsys.readouterr().out.splitlines()
    header = "candidate cv_roc_auc cv_roc_auc_std test_roc_auc test_pr_auc test_accuracy test_f1 test_brier"
    assert lines[0].split() == [*header.split(), "threshold", "seconds"]
    assert lines[1].startswith("   small") and lines[2].startswith(" * big")
    assert lines[2].split()[2:4] == ["0.8000", "0.0123"]
    assert lines[-1] == "   (* = champion)"
