"""The decision parts of the bundle contract: `decision_policy` and `reason_codes` of metadata.json.

Both are optional (bundles older than them have neither; see app.core.decisions and app.core.reasons for
what the service derives then) and lenient like the rest of the contract: unknown keys are kept.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_REASONS = 4  # the batch CSV has the columns reason_1..reason_4


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


class OutcomeInfo(_Lenient):
    """One outcome: probabilities from `from` (included) up to `to` (excluded; the last one includes 1)."""

    name: str = Field(min_length=1)
    label: str = Field(min_length=1)
    wording: str = ""
    lower: float = Field(alias="from", ge=0.0, le=1.0)
    upper: float = Field(alias="to", ge=0.0, le=1.0)


class HoldoutInfo(_Lenient):
    """What the policy did on the training hold-out (training records it with the policy)."""

    flagged_share: float | None = Field(None, ge=0.0, le=1.0)


class DecisionPolicyInfo(_Lenient):
    outcomes: list[OutcomeInfo] = Field(min_length=1)
    threshold_rationale: str = ""
    holdout: HoldoutInfo | None = None


class NumericReason(_Lenient):
    type: Literal["numeric"]
    label: str = Field(min_length=1)
    typical: float | None = None
    high: str = Field(min_length=1)
    low: str = Field(min_length=1)


class CategoricalReason(_Lenient):
    type: Literal["categorical"]
    label: str = Field(min_length=1)
    categories: dict[str, str]


class ReasonTableInfo(_Lenient):
    max_reasons: int = Field(MAX_REASONS, ge=1, le=MAX_REASONS)
    features: dict[str, Annotated[NumericReason | CategoricalReason, Field(discriminator="type")]]
