"""The quality gate: whether the session's champion may be registered and exported, and what --force changes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import mlflow

from training.config import QualityGateConfig
from training.errors import QualityGateError
from training.registry import RegisteredChampion
from training.report import log

GateDecision = Literal["passed", "forced", "refused"]


@dataclass(frozen=True)
class GateVerdict:
    """The reasons to refuse the champion (none means it passes) and findings that only warn."""

    reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.reasons

    @property
    def summary(self) -> str:
        return "; ".join(self.reasons)

    def decision(self, force: bool) -> GateDecision:
        if self.passed:
            return "passed"
        return "forced" if force else "refused"


def check_gate(
    gate: QualityGateConfig, metrics: Mapping[str, float], incumbent: RegisteredChampion | None
) -> GateVerdict:
    """Judge the champion's hold-out metrics against the minimum and against the registered champion."""
    reasons = []
    auc = metrics["test_roc_auc"]
    if auc < gate.min_test_roc_auc:
        reasons.append(f"test ROC AUC {auc:.4f} is below the minimum {gate.min_test_roc_auc:.4f}")
    if incumbent and incumbent.test_roc_auc is not None and auc < incumbent.test_roc_auc - gate.max_drop_vs_champion:
        reasons.append(
            f"test ROC AUC {auc:.4f} is worse than the registered champion v{incumbent.version} "
            f"({incumbent.test_roc_auc:.4f}) by more than {gate.max_drop_vs_champion:.4f}"
        )
    return GateVerdict(tuple(reasons))


def enforce_gate(verdict: GateVerdict, force: bool) -> GateDecision:
    """Tag the session run with the decision; raise QualityGateError when refused, say so when forced or warned."""
    decision = verdict.decision(force)
    mlflow.set_tag("quality_gate", decision)
    for warning in verdict.warnings:
        log(f"quality gate warning: {warning}")
    if decision == "refused":
        raise QualityGateError(verdict.summary)
    if decision == "forced":
        log(f"quality gate overridden by --force: {verdict.summary}")
    return decision


def check_against_serving(
    gate: QualityGateConfig, metrics: Mapping[str, float], serving_version: str, serving_auc: float, min_gain: float
) -> GateVerdict:
    """`make retrain`'s verdict: the minimum ROC AUC, and the new champion against the serving model on the same
    common hold-out (both models scored on the rows neither trained on): it must reach serving + min_gain."""
    reasons = list(check_gate(gate, metrics, None).reasons)
    auc = metrics["test_roc_auc"]
    if auc < serving_auc + min_gain:
        reasons.append(
            f"ROC AUC {auc:.4f} on the common hold-out does not reach the serving model v{serving_version}'s "
            f"{serving_auc:.4f} + retrain.min_auc_gain {min_gain:.4f}"
        )
    return GateVerdict(tuple(reasons))
