"""Fairness by group: the figures are fairlearn's own, small groups are reported, the gate reads the limits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn import metrics as fl
from sklearn.metrics import precision_score, roc_auc_score

from training.fairness import Predictions, check_fairness_gate, measure_attribute, overall_figures
from training.governance_config import FairnessConfig, FairnessGateConfig


def known_groups(seed: int = 5, n: int = 600) -> tuple[Predictions, pd.Series]:
    """Three groups of different sizes whose scores separate the classes to different degrees."""
    rng = np.random.default_rng(seed)
    groups = pd.Series(rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2]))
    y = rng.binomial(1, groups.map({"a": 0.2, "b": 0.35, "c": 0.5}).to_numpy())
    noise = groups.map({"a": 0.15, "b": 0.3, "c": 0.45}).to_numpy()
    proba = np.clip(0.3 + 0.3 * (y - 0.5) + rng.normal(0, noise), 0, 1)
    return Predictions(y, proba, 0.35), groups


def test_a_hand_computed_case() -> None:
    y = np.array([1, 1, 0, 0, 1, 0, 0, 0])
    proba = np.array([0.9, 0.2, 0.7, 0.1, 0.8, 0.6, 0.1, 0.2])
    groups = pd.Series(["a"] * 4 + ["b"] * 4)
    report = measure_attribute(Predictions(y, proba, 0.5), groups, FairnessConfig(min_group_size=2), False, 0)
    a, b = report["groups"]
    assert (a["count"], a["base_rate"], a["flagged_rate"], a["tpr"], a["fpr"], a["precision"]) == (
        4,
        0.5,
        0.5,
        0.5,
        0.5,
        0.5,
    )
    assert (b["flagged_rate"], b["tpr"], b["fpr"], b["precision"]) == (0.5, 1.0, pytest.approx(1 / 3), 0.5)
    assert a["roc_auc"] == 0.75 and b["roc_auc"] == 1.0
    disparities = report["disparities"]
    assert disparities["demographic_parity_ratio"]["value"] == 1.0
    assert disparities["equalized_odds_difference"]["value"] == 0.5  # TPR 0.5 vs 1.0


def test_figures_and_intervals_equal_fairlearns_own() -> None:
    predictions, groups = known_groups()
    cfg = FairnessConfig(min_group_size=10, bootstrap={"n_boot": 30, "confidence": 0.9})
    report = measure_attribute(predictions, groups, cfg, bootstrap=True, seed=11)
    flagged = predictions.flagged
    reference = fl.MetricFrame(
        metrics={
            "flagged_rate": fl.selection_rate,
            "tpr": fl.true_positive_rate,
            "fpr": fl.false_positive_rate,
            "precision": lambda t, p: precision_score(t, p, zero_division=np.nan),
        },
        y_true=predictions.y_true,
        y_pred=flagged,
        sensitive_features=groups.to_numpy(),
    )
    by_group = {row["group"]: row for row in report["groups"]}
    for label in ("a", "b", "c"):
        members = (groups == label).to_numpy()
        for metric in ("flagged_rate", "tpr", "fpr", "precision"):
            assert by_group[label][metric] == pytest.approx(reference.by_group.loc[label, metric]), (label, metric)
        expected_auc = roc_auc_score(predictions.y_true[members], predictions.proba[members])
        assert by_group[label]["roc_auc"] == pytest.approx(expected_auc)
        assert by_group[label]["count"] == members.sum()
    disparities = report["disparities"]
    sensitive = {"sensitive_features": groups.to_numpy()}
    assert disparities["demographic_parity_ratio"]["value"] == pytest.approx(
        fl.demographic_parity_ratio(predictions.y_true, flagged, **sensitive)
    )
    assert disparities["demographic_parity_difference"]["value"] == pytest.approx(
        fl.demographic_parity_difference(predictions.y_true, flagged, **sensitive)
    )
    assert disparities["equalized_odds_difference"]["value"] == pytest.approx(
        fl.equalized_odds_difference(predictions.y_true, flagged, **sensitive)
    )
    # The intervals are fairlearn's bootstrap (MetricFrame n_boot / ci_quantiles, same seed).
    boot = fl.MetricFrame(
        metrics={"flagged_rate": fl.selection_rate, "tpr": fl.true_positive_rate},
        y_true=predictions.y_true,
        y_pred=flagged,
        sensitive_features=groups.to_numpy(),
        n_boot=30,
        ci_quantiles=[0.05, 0.95],
        random_state=11,
    )
    for label in ("a", "b", "c"):
        assert by_group[label]["flagged_rate_ci"] == pytest.approx(
            [q.loc[label, "flagged_rate"] for q in boot.by_group_ci]
        )
        assert by_group[label]["tpr_ci"] == pytest.approx([q.loc[label, "tpr"] for q in boot.by_group_ci])
    assert disparities["demographic_parity_ratio"]["ci"] == pytest.approx([q["flagged_rate"] for q in boot.ratio_ci()])


def test_the_same_seed_gives_the_same_intervals() -> None:
    predictions, groups = known_groups()
    cfg = FairnessConfig(min_group_size=10, bootstrap={"n_boot": 15})
    assert measure_attribute(predictions, groups, cfg, True, 3) == measure_attribute(predictions, groups, cfg, True, 3)


def test_a_group_too_small_to_measure_is_reported_not_measured() -> None:
    predictions, groups = known_groups(n=400)
    groups.iloc[:6] = "tiny"
    report = measure_attribute(predictions, groups, FairnessConfig(min_group_size=20), bootstrap=True, seed=1)
    tiny = next(g for g in report["groups"] if g["group"] == "tiny")
    assert tiny["measured"] is False and tiny["count"] == 6
    assert tiny["note"] == "too small to measure (6 rows < 20)" and "tpr" not in tiny
    assert report["measured_groups"] == 3 and report["disparities"] is not None
    kept = (groups != "tiny").to_numpy()
    assert report["disparities"]["demographic_parity_ratio"]["value"] == pytest.approx(
        fl.demographic_parity_ratio(
            predictions.y_true[kept], predictions.flagged[kept], sensitive_features=groups[kept].to_numpy()
        )
    )


def test_one_class_or_one_group_gives_notes_instead_of_a_crash() -> None:
    y = np.array([0] * 40 + [0, 1] * 20)
    proba = np.linspace(0, 1, 80)
    groups = pd.Series(["no defaults"] * 40 + ["mixed"] * 40)
    report = measure_attribute(Predictions(y, proba, 0.5), groups, FairnessConfig(min_group_size=10), True, 0)
    by_group = {g["group"]: g for g in report["groups"]}
    assert by_group["no defaults"]["note"] == "too small to measure (no positives)"
    assert by_group["mixed"]["measured"] and by_group["mixed"]["tpr_ci"] is not None
    assert report["disparities"] is None and "fewer than two measurable groups (1)" in report["note"]


def test_overall_figures_have_intervals_around_them() -> None:
    predictions, _ = known_groups()
    overall = overall_figures(predictions, FairnessConfig(bootstrap={"n_boot": 40}), seed=2)
    assert overall["roc_auc"]["value"] == pytest.approx(roc_auc_score(predictions.y_true, predictions.proba))
    low, high = overall["roc_auc"]["ci"]
    assert low < overall["roc_auc"]["value"] < high


def report_with(ratio: float, eo: float) -> dict:
    disparities = {
        "demographic_parity_ratio": {"value": ratio, "ci": [ratio - 0.1, ratio + 0.1]},
        "demographic_parity_difference": {"value": 0.2, "ci": None},
        "equalized_odds_difference": {"value": eo, "ci": None},
    }
    return {"out_of_fold": {"age": {"disparities": disparities}, "tiny": {"disparities": None}}, "holdout": {}}


def test_the_gate_names_each_breached_limit_and_follows_its_action() -> None:
    warn = FairnessGateConfig(min_demographic_parity_ratio=0.8, max_equalized_odds_difference=0.1)
    verdict = check_fairness_gate(report_with(0.6, 0.3), warn)
    assert verdict.decision == "warned"
    assert verdict.findings == (
        "age: demographic-parity ratio 0.600 (interval 0.500–0.700) is below the limit 0.800 (out-of-fold predictions)",
        "age: equalized-odds difference 0.300 is above the limit 0.100 (out-of-fold predictions)",
    )
    refuse = warn.model_copy(update={"action": "refuse"})
    assert check_fairness_gate(report_with(0.6, 0.05), refuse).decision == "refused"
    assert check_fairness_gate(report_with(0.9, 0.05), refuse).decision == "passed"
    off = FairnessGateConfig(min_demographic_parity_ratio=None, max_equalized_odds_difference=None, action="refuse")
    assert check_fairness_gate(report_with(0.1, 0.9), off).decision == "passed"
    on_holdout = warn.model_copy(update={"predictions": "holdout"})
    assert check_fairness_gate(report_with(0.1, 0.9), on_holdout).decision == "passed", "holdout has no attributes"
