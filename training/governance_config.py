"""The governance sections of the training config: fairness groups and gate, behavioral tests, the model card.

Kept apart from config.py (which embeds them as `fairness`, `behavioral_tests` and `model_card`) so the
pipeline's settings and the reviewer-facing ones evolve separately.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

NAME_PATTERN = r"^[A-Za-z0-9_.-]+$"  # attribute and test names end up in MLflow metric names


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GroupConfig(_Strict):
    """One protected attribute: a column mapped to groups (`map`) or numeric bins (`bins`)."""

    column: str
    map: dict[str, list[str]] | None = Field(
        None, description="group -> the column's categories in it (every category of the data must be in one)"
    )
    bins: list[float] | None = Field(
        None, description="increasing edges of right-open intervals [a, b) that must cover every value"
    )
    labels: list[str] | None = Field(None, description="one label per bin (default '[a, b)')")

    @model_validator(mode="after")
    def _one_kind(self) -> GroupConfig:
        if (self.map is None) == (self.bins is None):
            raise ValueError(f"group column {self.column!r}: give exactly one of `map` or `bins`")
        if self.bins is not None:
            if len(self.bins) < 3:
                raise ValueError(f"bins of {self.column!r} need at least 3 edges (2 groups)")
            if any(high <= low for low, high in zip(self.bins, self.bins[1:])):
                raise ValueError(f"bins of {self.column!r} must be strictly increasing, got {self.bins}")
            if self.labels is not None and len(set(self.labels)) != len(self.bins) - 1:
                raise ValueError(f"{self.column!r}: {len(self.bins) - 1} bins need as many distinct labels")
        elif self.labels is not None:
            raise ValueError(f"{self.column!r}: labels apply to bins only")
        if self.map is not None and len(self.map) < 2:
            raise ValueError(f"map of {self.column!r} needs at least 2 groups")
        return self


class BootstrapConfig(_Strict):
    n_boot: int = Field(100, ge=10, le=5000, description="bootstrap resamples for the champion's intervals")
    confidence: float = Field(0.95, gt=0.5, lt=1.0)

    @property
    def quantiles(self) -> list[float]:
        tail = (1.0 - self.confidence) / 2
        return [round(tail, 6), round(1.0 - tail, 6)]


class FairnessGateConfig(_Strict):
    action: Literal["warn", "refuse"] = "warn"
    predictions: Literal["out_of_fold", "holdout"] = Field(
        "out_of_fold", description="which predictions the thresholds judge (out-of-fold: four times the rows)"
    )
    min_demographic_parity_ratio: float | None = Field(0.8, ge=0.0, le=1.0)
    max_demographic_parity_difference: float | None = Field(None, ge=0.0, le=1.0)
    max_equalized_odds_difference: float | None = Field(0.1, ge=0.0, le=1.0)


class FairnessConfig(_Strict):
    groups: dict[Annotated[str, StringConstraints(pattern=NAME_PATTERN)], GroupConfig] = Field(default_factory=dict)
    min_group_size: int = Field(30, ge=2, description="smaller groups are reported as too small to measure")
    bootstrap: BootstrapConfig = BootstrapConfig()
    gate: FairnessGateConfig = FairnessGateConfig()


class _Expectation(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    enforce: bool = Field(True, description="a failure refuses the model (false: reported only)")


class DirectionalTest(_Expectation):
    """Raising `feature` (by `add`, or times `multiply`) must not lower P(default), others fixed."""

    type: Literal["directional"]
    feature: str
    add: float | None = None
    multiply: float | None = Field(None, gt=0)
    direction: Literal["not_lower", "not_higher"] = "not_lower"
    tolerance: float = Field(0.01, ge=0.0, le=1.0, description="a change this small counts as none")
    min_share: float = Field(0.9, gt=0.0, le=1.0, description="share of applicants that must meet it")

    @model_validator(mode="after")
    def _one_change(self) -> DirectionalTest:
        if (self.add is None) == (self.multiply is None):
            raise ValueError(f"directional test {self.name!r}: give exactly one of `add` or `multiply`")
        return self


class InvarianceTest(_Expectation):
    """Setting `feature` to each of `values` (default: every category) moves P(default) by at most `max_delta`."""

    type: Literal["invariance"]
    feature: str
    values: list[Any] | None = None
    max_delta: float = Field(0.05, ge=0.0, le=1.0)
    min_share: float = Field(1.0, gt=0.0, le=1.0, description="share of applicants that must stay within it")


class MinimumFunctionalityTest(_Expectation):
    """A textbook applicant (unnamed features: the typical applicant) must get the expected decision."""

    type: Literal["minimum_functionality"]
    applicant: dict[str, Any] = Field(min_length=1)
    expect: Literal["approved", "flagged"]


BehavioralTest = Annotated[DirectionalTest | InvarianceTest | MinimumFunctionalityTest, Field(discriminator="type")]


class DataCardConfig(_Strict):
    """What the model card states about the data (another dataset states its own)."""

    name: str = "unnamed dataset"
    source: str = "not stated"
    licence: str = "not stated"
    period: str = "not stated"
    currency: str | None = None
    label_definition: str = "not stated"
    outcome: str = Field("positive class", description="what the model predicts, in a word (e.g. default)")


class ModelCardConfig(_Strict):
    owner: str = "not stated"
    intended_use: str = "not stated"
    out_of_scope: list[str] = Field(default_factory=list)
    limitations: list[str] = Field(default_factory=list)
    data: DataCardConfig = DataCardConfig()


def _unique_names(tests: list[Any]) -> list[Any]:
    """Behavioral test names identify their results: they must be unique."""
    names = [t.name for t in tests]
    if len(names) != len(set(names)):
        raise ValueError(f"behavioral test names must be unique, got {names}")
    return tests


BehavioralTests = Annotated[list[BehavioralTest], AfterValidator(_unique_names)]
