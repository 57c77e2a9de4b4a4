"""The reason table: each feature in an analyst's words, and the statement a principal reason makes of it.

A numeric feature has a `high` and a `low` text (the applicant's value above or below the typical applicant's,
the training median); a categorical feature has a text per category under `categories`, or a `template` for
the categories without one. Texts may use `{value}` (the applicant's value, as text) and `{label}`
(the feature's label). The table must name exactly the features of the data (features dropped by
`data.drop_features` may stay in it); checked against the data before anything is trained or logged.
"""

from __future__ import annotations

import string
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_REASONS = 4  # the batch CSV has reason_1..reason_4
PLACEHOLDERS = {"value", "label"}


class FeatureReasonConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, description="the feature in the analyst's words")
    high: str | None = Field(None, min_length=1, description="numeric: the value is above the typical applicant's")
    low: str | None = Field(None, min_length=1, description="numeric: the value is below the typical applicant's")
    categories: dict[str, str] = Field(default_factory=dict, description="categorical: a text per category")
    template: str | None = Field(None, min_length=1, description="categorical: for categories without a text")

    @field_validator("high", "low", "template")
    @classmethod
    def _known_placeholders(cls, text: str | None) -> str | None:
        if text is not None:
            check_placeholders(text)
        return text

    @field_validator("categories")
    @classmethod
    def _category_texts(cls, texts: dict[str, str]) -> dict[str, str]:
        for category, text in texts.items():
            if not text:
                raise ValueError(f"category '{category}' has an empty text")
            check_placeholders(text)
        return texts


class ReasonTableConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_reasons: int = Field(MAX_REASONS, ge=1, le=MAX_REASONS, description="principal reasons per applicant")
    features: dict[str, FeatureReasonConfig] = Field(min_length=1)


def check_placeholders(text: str) -> None:
    """ValueError naming a placeholder other than {value} and {label} (or a malformed brace)."""
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(text) if field is not None]
    except ValueError as exc:
        raise ValueError(f"malformed text {text!r}: {exc}") from None
    unknown = [field for field in fields if field not in PLACEHOLDERS]
    if unknown:
        raise ValueError(f"unknown placeholder {{{unknown[0]}}} in {text!r} (use {{value}} or {{label}})")


def table_problems(table: ReasonTableConfig, schema: list[dict[str, Any]], dropped: list[str]) -> list[str]:
    """Every way the table does not fit the data's feature schema (`schema`: training.data.infer_schema;
    `dropped`: the features data.drop_features removed, which the table may still name)."""
    known = {f["name"]: f for f in schema}
    problems = []
    unknown = [name for name in table.features if name not in known and name not in dropped]
    if unknown:
        problems.append(f"reasons.features names unknown feature(s): {', '.join(unknown)}")
    missing = [name for name in known if name not in table.features]
    if missing:
        problems.append(f"reasons.features has no entry for feature(s): {', '.join(missing)}")
    for name, entry in table.features.items():
        if name in known:
            problems += _entry_problems(f"reasons.features.{name}", entry, known[name])
    return problems


def _entry_problems(where: str, entry: FeatureReasonConfig, feature: dict[str, Any]) -> list[str]:
    if feature["type"] == "numeric":
        problems = [
            f"{where}: a numeric feature needs a `{key}` text" for key in ("high", "low") if not getattr(entry, key)
        ]
        if entry.categories or entry.template:
            problems.append(f"{where}: a numeric feature takes `high` and `low`, not `categories` or `template`")
        samples = [feature["min"], feature["max"], feature["example"]]
        texts = [text for text in (entry.high, entry.low) if text]
    else:
        problems = []
        if entry.high or entry.low:
            problems.append(f"{where}: a categorical feature takes `categories` or `template`, not `high` or `low`")
        unknown = [c for c in entry.categories if c not in feature["categories"]]
        if unknown:
            problems.append(f"{where}.categories names unknown value(s): {', '.join(map(repr, unknown))}")
        uncovered = [c for c in feature["categories"] if c not in entry.categories]
        if uncovered and not entry.template:
            problems.append(
                f"{where}: no text for categories {', '.join(map(repr, uncovered))} (add them or a `template`)"
            )
        samples = feature["categories"][:1]
        texts = [entry.template] if entry.template else []
    for text in texts:
        for sample in samples:
            try:
                text.format(value=str(sample), label=entry.label)
            except (ValueError, TypeError, IndexError) as exc:
                problems.append(f"{where}: {text!r} cannot be filled in with {sample!r}: {exc}")
                break
    return problems


def reasons_metadata(table: ReasonTableConfig, schema: list[dict[str, Any]]) -> dict[str, Any]:
    """The table as the bundle stores it: per served feature its label and either its `high`/`low` texts and
    the typical value they compare with, or the text of every category (templates filled in)."""
    features: dict[str, Any] = {}
    for feature in schema:
        entry = table.features[feature["name"]]
        if feature["type"] == "numeric":
            features[feature["name"]] = {
                "type": "numeric",
                "label": entry.label,
                "typical": feature["example"],
                "high": entry.high,
                "low": entry.low,
            }
        else:
            features[feature["name"]] = {
                "type": "categorical",
                "label": entry.label,
                "categories": {
                    category: entry.categories.get(category)
                    or str(entry.template).format(value=category, label=entry.label)
                    for category in feature["categories"]
                },
            }
    return {"max_reasons": table.max_reasons, "features": features}
