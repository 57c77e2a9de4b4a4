"""What an analyst may enter per feature, beyond the data's observed range (`inputs:` in params.yaml): business
bounds (ages from 18, amounts above 0), units, and codes of coded numeric fields. The bundle's feature schema
carries them (GET /schema), with each feature's label and its categories in the analyst's words from the reason
table, so the UI can say what a field means and check it where the analyst types."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from training.reason_codes import ReasonTableConfig


class InputRule(BaseModel):
    """One feature's entry rules; None leaves the schema's bound."""

    model_config = ConfigDict(extra="forbid")

    min: float | None = Field(None, description="smallest value an analyst may enter (a business bound)")
    max: float | None = Field(None, description="largest value an analyst may enter")
    unit: str | None = Field(None, min_length=1, description="shown beside the field, e.g. DM, months, years")
    codes: dict[int, str] = Field(
        default_factory=dict, description="a coded numeric field: code -> its meaning ('' when none is documented)"
    )
    help: str | None = Field(None, min_length=1, description="one sentence shown under the field")

    @model_validator(mode="after")
    def _ordered(self) -> InputRule:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        return self


def rule_problems(rules: dict[str, InputRule], schema: list[dict[str, Any]]) -> list[str]:
    """Every rule that does not fit the data's schema: an unknown feature, bounds or codes on a categorical one."""
    types = {feature["name"]: feature["type"] for feature in schema}
    problems = []
    for name, rule in rules.items():
        if name not in types:
            problems.append(f"inputs: {name!r} is not a feature of the data")
        elif types[name] == "categorical" and (rule.min is not None or rule.max is not None or rule.codes):
            problems.append(f"inputs: {name!r} is categorical: bounds and codes apply to numeric features only")
    return problems


def annotate_schema(
    schema: list[dict[str, Any]], rules: dict[str, InputRule], reasons: ReasonTableConfig
) -> list[dict[str, Any]]:
    """The schema with each feature's `label`, its `input` rule (only the fields set) and, for categorical
    features, `category_labels` (category -> the reason table's text for it, where it has one)."""
    annotated = []
    for feature in schema:
        entry = dict(feature)
        reason = reasons.features.get(feature["name"])
        if reason is not None:
            entry["label"] = reason.label
            if feature["type"] == "categorical" and reason.categories:
                entry["category_labels"] = {
                    c: reason.categories[c] for c in feature["categories"] if c in reason.categories
                }
        rule = rules.get(feature["name"])
        if rule is not None:
            entry["input"] = rule.model_dump(exclude_none=True, exclude_defaults=True)
        annotated.append(entry)
    return annotated
