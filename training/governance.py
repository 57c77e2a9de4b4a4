"""Model governance of a session: assess each candidate (fairness by group, behavioral tests), review the
champion (bootstrap intervals, the fairness gate), combine with the quality gate, record it in MLflow."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow
import pandas as pd
from sklearn.base import BaseEstimator

from training.behavioral import BehavioralResult, Test, run_tests, typical_applicant, validate_tests
from training.config import TrainingConfig
from training.data import Dataset, Splits
from training.fairness import (
    FairnessVerdict,
    Predictions,
    by_group_table,
    check_fairness_gate,
    flat_metrics,
    measure,
    overall_figures,
)
from training.fairness_plot import save_fairness_plot
from training.gate import GateDecision, GateVerdict
from training.groups import Groups, load_groups

if TYPE_CHECKING:
    from training.candidate import CandidateResult

FAIRNESS_PLOT = "fairness"
PredictionSets = dict[str, tuple[Predictions, pd.Index]]


@dataclass(frozen=True)
class GovernanceInputs:
    """What validation prepares once per session: the groups of every row, the declared tests, a typical applicant."""

    groups: Groups
    tests: list[Test]
    typical: pd.Series


def prepare_governance(cfg: TrainingConfig, dataset: Dataset, x_train: pd.DataFrame) -> GovernanceInputs:
    """Check the fairness groups and the behavioral tests against the data; TrainingInputError names a problem."""
    groups = load_groups(cfg.fairness.groups, cfg.data, dataset.features.index)
    validate_tests(cfg.behavioral_tests, dataset, cfg.data.drop_features)
    return GovernanceInputs(groups, list(cfg.behavioral_tests), typical_applicant(x_train, dataset.numeric))


def prediction_sets(splits: Splits, out_of_fold: Any, test_proba: Any, threshold: float) -> PredictionSets:
    """The hold-out and the out-of-fold predictions, each with the rows it covers."""
    x_train, x_test, y_train, y_test = splits
    return {
        "holdout": (Predictions(y_test.to_numpy(), test_proba, threshold), x_test.index),
        "out_of_fold": (Predictions(y_train.to_numpy(), out_of_fold, threshold), x_train.index),
    }


@dataclass(frozen=True)
class Assessment:
    """A candidate's fairness figures (no intervals: they cost a bootstrap) and behavioral results."""

    fairness: dict[str, dict[str, Any]]
    behavior: list[BehavioralResult]

    def metrics(self) -> dict[str, float]:
        """MLflow metrics: every disparity, and 1/0 per behavioral test."""
        passed = {f"behavioral_{r.name}_passed": float(r.passed) for r in self.behavior}
        return {**flat_metrics(self.fairness), **passed}


def assess_candidate(
    cfg: TrainingConfig, inputs: GovernanceInputs, model: BaseEstimator, sets: PredictionSets, x_test: pd.DataFrame
) -> Assessment:
    """Fairness point figures on both prediction sets and the behavioral tests on the hold-out applicants."""
    threshold = sets["holdout"][0].threshold
    fairness = measure(sets, inputs.groups, cfg.fairness, bootstrap=False, seed=cfg.split.seed)
    outcome = cfg.model_card.data.outcome
    behavior = run_tests(inputs.tests, model, x_test, inputs.typical, threshold, cfg.data.drop_features, outcome)
    return Assessment(fairness, behavior)


def log_assessment(assessment: Assessment) -> None:
    """On the active (candidate) run: the metrics, the by-group table and the behavioral results."""
    mlflow.log_metrics(assessment.metrics())
    if assessment.fairness and any(assessment.fairness.values()):
        mlflow.log_text(by_group_table(assessment.fairness).to_csv(index=False), "fairness/by_group.csv")
    mlflow.log_dict([r.as_dict() for r in assessment.behavior], "behavioral_tests.json")


@dataclass(frozen=True)
class ChampionReview:
    """The champion's fairness report with intervals and its verdict, and its behavioral results."""

    fairness: dict[str, Any]
    verdict: FairnessVerdict
    behavior: list[BehavioralResult]

    @property
    def behavior_failures(self) -> tuple[str, ...]:
        return tuple(
            f"behavioral test {r.name} failed: {r.summary}" for r in self.behavior if r.enforced and not r.passed
        )


def review_champion(
    cfg: TrainingConfig, inputs: GovernanceInputs, champion: CandidateResult, sets: PredictionSets
) -> ChampionReview:
    """Bootstrap intervals for the champion's figures, the whole hold-out's figures, the fairness gate."""
    seed = cfg.split.seed
    by_set = measure(sets, inputs.groups, cfg.fairness, bootstrap=True, seed=seed)
    verdict = check_fairness_gate(by_set, cfg.fairness.gate)
    gate = cfg.fairness.gate
    fairness = {
        "attributes": inputs.groups.definitions,
        "min_group_size": cfg.fairness.min_group_size,
        "bootstrap": {"n_boot": cfg.fairness.bootstrap.n_boot, "confidence": cfg.fairness.bootstrap.confidence},
        "sets": by_set,
        "overall": {"holdout": overall_figures(sets["holdout"][0], cfg.fairness, seed)},
        "gate": {
            "action": gate.action,
            "predictions": gate.predictions,
            "limits": gate.model_dump(exclude={"action", "predictions"}),
            "decision": verdict.decision,
            "findings": list(verdict.findings),
        },
    }
    behavior = champion.assessment.behavior if champion.assessment else []
    return ChampionReview(fairness, verdict, behavior)


def combined_verdict(quality: GateVerdict, review: ChampionReview) -> GateVerdict:
    """The quality gate's reasons, the failed enforced behavioral tests, and the fairness findings (refusing or
    warning, as configured)."""
    refusing = review.verdict.findings if review.verdict.decision == "refused" else ()
    warning = review.verdict.findings if review.verdict.decision == "warned" else ()
    return GateVerdict(quality.reasons + review.behavior_failures + refusing, quality.warnings + warning)


def log_review(review: ChampionReview, verdict: GateVerdict, plot_dir: Path) -> Path | None:
    """On the session run: fairness report, table and plot, behavioral results, the gate's findings and tags.
    Returns the fairness plot (None without groups)."""
    mlflow.set_tags(
        {
            "fairness_gate": review.verdict.decision if review.fairness["attributes"] else "no groups configured",
            "behavioral_tests": "failed" if review.behavior_failures else "passed",
        }
    )
    mlflow.log_dict(review.fairness, "fairness/fairness.json")
    mlflow.log_dict([r.as_dict() for r in review.behavior], "behavioral_tests.json")
    mlflow.log_dict({"reasons": list(verdict.reasons), "warnings": list(verdict.warnings)}, "gate.json")
    if not review.fairness["attributes"]:
        return None
    mlflow.log_text(by_group_table(review.fairness["sets"]).to_csv(index=False), "fairness/by_group.csv")
    mlflow.log_metrics({f"champion_{k}": v for k, v in flat_metrics(review.fairness["sets"]).items()})
    predictions = review.fairness["gate"]["predictions"]
    plot = save_fairness_plot(
        review.fairness["sets"][predictions],
        f"Fairness by group ({predictions.replace('_', '-')} predictions)",
        plot_dir / f"{FAIRNESS_PLOT}.png",
    )
    mlflow.log_artifact(str(plot), artifact_path="fairness")
    return plot


def review_metadata(review: ChampionReview, verdict: GateVerdict, decision: GateDecision) -> dict[str, Any]:
    """The bundle's `fairness`, `behavioral_tests` and `gate` keys."""
    return {
        "fairness": review.fairness,
        "behavioral_tests": [r.as_dict() for r in review.behavior],
        "gate": {
            "decision": decision,
            "reasons": list(verdict.reasons),
            "warnings": list(verdict.warnings),
            "fairness": review.verdict.decision,
            "behavioral": "failed" if review.behavior_failures else "passed",
        },
    }
