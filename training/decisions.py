"""What training adds to the bundle for decisions: the policy and the reason table, checked and resolved."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from training.config import TrainingConfig
from training.data import Dataset, infer_schema
from training.decision_policy import policy_metadata
from training.errors import TrainingInputError
from training.input_rules import rule_problems
from training.reason_codes import reasons_metadata, table_problems
from training.report import log

if TYPE_CHECKING:
    from training.candidate import CandidateResult


def check_reason_table(cfg: TrainingConfig, dataset: Dataset) -> None:
    """TrainingInputError (exit 2, before anything is logged) listing every way the reason table does not
    fit the data: unknown features or categories, features without a text; and every input rule that does not."""
    schema = infer_schema(dataset)
    problems = table_problems(cfg.reasons, schema, cfg.data.drop_features) + rule_problems(cfg.inputs, schema)
    if problems:
        raise TrainingInputError("; ".join(problems))


def decision_keys(
    cfg: TrainingConfig, metadata: dict[str, Any], champion: CandidateResult, y_test: np.ndarray
) -> dict[str, Any]:
    """`decision_policy` and `reason_codes` of metadata.json, for the champion (a progress line says how
    the policy splits the hold-out set)."""
    policy = policy_metadata(
        cfg.decision_policy,
        cfg.threshold,
        champion.threshold,
        metadata["risk_bands"]["medium"],
        np.asarray(y_test),
        champion.test_proba,
    )
    shares = ", ".join(f"{o['name']} {o['holdout_share']:.0%}" for o in policy["outcomes"])
    log(f"decision policy on the hold-out set: {shares}")
    return {"decision_policy": policy, "reason_codes": reasons_metadata(cfg.reasons, metadata["features"])}
