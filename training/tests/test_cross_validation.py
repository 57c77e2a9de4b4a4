"""Cross-validation: out-of-fold probabilities for every training row, per-fold scores and progress lines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.config import CandidateConfig
from training.cross_validation import cross_validate
from training.models import build_candidate


def sample(n: int = 240) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(7)
    x = pd.DataFrame({"income": rng.normal(50, 15, n), "region": rng.choice(["north", "south"], n).astype(object)})
    y = pd.Series((x["income"] + rng.normal(0, 10, n) < 45).astype(int), name="default")
    return x, y


def test_every_row_gets_an_out_of_fold_probability_and_each_fold_a_line(capsys: pytest.CaptureFixture) -> None:
    x, y = sample()
    estimator = build_candidate(CandidateConfig(name="lr", type="logistic_regression"), ["income"], ["region"], 0)
    cv = cross_validate(estimator, x, y, folds=4, seed=0, label="[1/1] lr")
    assert cv.out_of_fold.shape == (len(y),) and ((cv.out_of_fold > 0) & (cv.out_of_fold < 1)).all()
    assert len(cv.roc_auc) == 4 and len(cv.pr_auc) == 4
    assert min(cv.roc_auc) > 0.7, "income separates the classes in every fold"
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [f"  [1/1] lr fold {i}/4" for i in range(1, 5)]
    metrics = cv.metrics()
    assert list(metrics) == ["cv_roc_auc_mean", "cv_roc_auc_std", "cv_pr_auc_mean"]
    assert metrics["cv_roc_auc_mean"] == pytest.approx(np.mean(cv.roc_auc))


def test_the_same_seed_gives_the_same_folds() -> None:
    x, y = sample()
    estimator = build_candidate(CandidateConfig(name="lr", type="logistic_regression"), ["income"], ["region"], 0)
    first = cross_validate(estimator, x, y, folds=3, seed=5, label="a")
    second = cross_validate(estimator, x, y, folds=3, seed=5, label="b")
    assert np.array_equal(first.out_of_fold, second.out_of_fold)
