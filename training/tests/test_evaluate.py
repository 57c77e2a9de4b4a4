"""Code tests: metrics and the decision threshold."""

import numpy as np
import pytest

from training.config import ThresholdConfig
from training.evaluate import choose_threshold, holdout_metrics, save_plots, PLOT_NAMES


def test_holdout_metrics_on_a_known_case() -> None:
    y = np.array([0, 0, 1, 1])
    proba = np.array([0.1, 0.6, 0.4, 0.9])
    metrics = holdout_metrics(y, proba, threshold=0.5)
    assert metrics["test_accuracy"] == 0.5
    assert metrics["test_precision"] == 0.5 and metrics["test_recall"] == 0.5
    assert metrics["test_roc_auc"] == 0.75
    assert metrics["test_brier"] == pytest.approx((0.01 + 0.36 + 0.36 + 0.01) / 4)


def test_f1_threshold_separates_a_separable_sample() -> None:
    y = np.array([0] * 50 + [1] * 50)
    proba = np.concatenate([np.linspace(0.0, 0.3, 50), np.linspace(0.6, 1.0, 50)])
    threshold = choose_threshold(y, proba, ThresholdConfig(strategy="f1"))
    assert 0.3 < threshold <= 0.6


def test_cost_threshold_goes_lower_when_missed_defaults_cost_more() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000)
    proba = np.clip(0.5 * y + rng.normal(0.25, 0.2, 2000), 0, 1)
    cheap = choose_threshold(y, proba, ThresholdConfig(strategy="cost", cost_false_negative=1, cost_false_positive=1))
    dear = choose_threshold(y, proba, ThresholdConfig(strategy="cost", cost_false_negative=5, cost_false_positive=1))
    assert dear < cheap


def test_plots_are_written_as_png(tmp_path) -> None:
    y = np.array([0, 1] * 20)
    proba = np.linspace(0.05, 0.95, 40)
    paths = save_plots(tmp_path, "demo", y, proba, 0.5, {"a": 0.2, "b": 0.1})
    assert set(paths) == set(PLOT_NAMES)
    for path in paths.values():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
