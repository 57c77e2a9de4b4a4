"""Principal reasons: an applicant's top adverse factors as plain-language statements.

The adverse factors are the features with a positive contribution (towards default), largest first, at
most `max_reasons` (4, the columns reason_1..reason_4 of the batch CSV). Their statements come from the
bundle's reason table (`reason_codes` in metadata.json, written by training/reason_codes.py): a numeric
feature's `high` or `low` text (the value above or below the typical applicant's, the training median),
a categorical feature's text for the category. A bundle without a table (older bundles) gets generic
statements: "<Feature> above the typical applicant's (<value>)", "<Feature>: <value>", with the feature's
name as the label (underscores as spaces).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from app.core.applicant import MISSING_CATEGORY, Row
from app.core.bundle import CategoricalFeature, NumericFeature
from app.core.bundle_decisions import MAX_REASONS, CategoricalReason, NumericReason, ReasonTableInfo

NOT_GIVEN = "not given"
Wording = Callable[[Any], str]


def feature_label(name: str) -> str:
    """A feature's generic label: its name with spaces, capitalised."""
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def value_text(value: Any) -> str:
    """A value as a reason states it: whole numbers without decimals."""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class ReasonWriter:
    """Turns the contributions of rows into their principal reasons (texts), from a feature's wording per
    column of the rows."""

    def __init__(self, wordings: Sequence[Wording], labels: dict[str, str], max_reasons: int, derived: bool) -> None:
        self.wordings = list(wordings)
        self.labels = labels
        self.max_reasons = max_reasons
        self.derived = derived  # True: the bundle had no reason table of its own

    @classmethod
    def of_bundle(
        cls, table: ReasonTableInfo | None, features: Sequence[NumericFeature | CategoricalFeature]
    ) -> ReasonWriter:
        """For the bundle's features (schema entries in the model's column order); ValueError when the
        table does not cover them."""
        if table is None:
            wordings = [_generic_wording(f) for f in features]
            return cls(wordings, {f.name: feature_label(f.name) for f in features}, MAX_REASONS, derived=True)
        missing = [f.name for f in features if f.name not in table.features]
        if missing:
            raise ValueError(f"reason_codes has no entry for feature(s): {', '.join(missing)}")
        wordings = [_table_wording(f, table.features[f.name]) for f in features]
        labels = {f.name: table.features[f.name].label for f in features}
        return cls(wordings, labels, table.max_reasons, derived=False)

    def reasons(self, applicants: Sequence[Row], contributions: np.ndarray) -> list[list[str]]:
        """Per applicant, the statements of its positive contributions, largest first (at most max_reasons)."""
        order = np.argsort(-contributions, axis=1, kind="stable")[:, : self.max_reasons]
        adverse = (np.take_along_axis(contributions, order, axis=1) > 0).tolist()
        return [
            [self.wordings[column](applicant[column]) for column, keep in zip(columns, keeps) if keep]
            for applicant, columns, keeps in zip(applicants, order.tolist(), adverse)
        ]


def _generic_wording(feature: NumericFeature | CategoricalFeature) -> Wording:
    label = feature_label(feature.name)
    if isinstance(feature, CategoricalFeature):
        return lambda value: f"{label}: {NOT_GIVEN if value is None or value == MISSING_CATEGORY else value}"
    return _numeric_wording(
        label,
        feature.example,
        f"{label} above the typical applicant's ({{value}})",
        f"{label} below the typical applicant's ({{value}})",
    )


def _table_wording(feature: NumericFeature | CategoricalFeature, entry: NumericReason | CategoricalReason) -> Wording:
    if isinstance(entry, NumericReason):
        if not isinstance(feature, NumericFeature):
            raise ValueError(f"reason_codes: '{feature.name}' is categorical, its entry numeric")
        typical = entry.typical if entry.typical is not None else feature.example
        return _numeric_wording(entry.label, typical, entry.high, entry.low)
    if not isinstance(feature, CategoricalFeature):
        raise ValueError(f"reason_codes: '{feature.name}' is numeric, its entry categorical")
    uncovered = [c for c in feature.categories if c not in entry.categories]
    if uncovered:
        raise ValueError(f"reason_codes: no text for '{feature.name}' = {uncovered[0]!r}")
    texts, label = dict(entry.categories), entry.label

    def categorical(value: Any) -> str:
        if value is None:
            return texts.get(MISSING_CATEGORY, f"{label}: {NOT_GIVEN}")
        return texts.get(value, f"{label}: {value}")

    return categorical


def _numeric_wording(label: str, typical: float | None, high: str, low: str) -> Wording:
    """`high` or `low` with the value filled in, by the value against the typical one; a value equal to
    it (or no typical value) is stated as "<label>: <value>"."""

    def numeric(value: Any) -> str:
        if value is None:
            return f"{label}: {NOT_GIVEN}"
        text = value_text(value)
        if typical is None or value == typical:
            return f"{label}: {text}"
        try:
            return (high if value > typical else low).format(value=text, label=label)
        except (ValueError, KeyError, IndexError):  # a text the training checks should have refused
            return f"{label}: {text}"

    return numeric
