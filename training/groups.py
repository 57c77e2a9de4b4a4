"""Protected-attribute groups from the config: a column's categories mapped to groups, or numeric bins.

The groups are read from the CSV itself, so an attribute dropped from the model's features
(`data.drop_features`) is still measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from training.config import DataConfig
from training.data import MISSING_CATEGORY
from training.errors import TrainingInputError
from training.governance_config import GroupConfig

MISSING_GROUP = "(missing)"


@dataclass(frozen=True)
class Groups:
    """One column of group labels per attribute (rows aligned with the dataset), and how each was defined."""

    labels: pd.DataFrame
    definitions: dict[str, dict[str, Any]]

    def of(self, index: pd.Index) -> pd.DataFrame:
        """The labels of the given rows (e.g. a split's)."""
        return self.labels.loc[index]


def load_groups(groups: dict[str, GroupConfig], data: DataConfig, rows: pd.Index) -> Groups:
    """Read the attributes' columns and assign every row a group; TrainingInputError names any problem."""
    if not groups:
        return Groups(pd.DataFrame(index=rows), {})
    path = Path(data.path)
    header = pd.read_csv(path, nrows=0).columns
    for name, group in groups.items():
        if group.column not in header:
            raise TrainingInputError(
                f"fairness.groups.{name}: column '{group.column}' is not in {path} (columns: {', '.join(header)})"
            )
        if group.column == data.target:
            raise TrainingInputError(f"fairness.groups.{name}: '{group.column}' is the target, not an attribute")
    raw = pd.read_csv(path, usecols=sorted({g.column for g in groups.values()}))
    if len(raw) != len(rows):
        raise TrainingInputError(f"{path} changed while it was read ({len(raw)} rows, expected {len(rows)})")
    raw.index = rows
    labels, definitions = {}, {}
    for name, group in groups.items():
        assign = _bin_groups if group.bins is not None else _mapped_groups
        labels[name], definitions[name] = assign(name, group, raw[group.column])
    return Groups(pd.DataFrame(labels, index=rows), definitions)


def _mapped_groups(name: str, group: GroupConfig, column: pd.Series) -> tuple[pd.Series, dict[str, Any]]:
    """Each category to its group; every category must be in exactly one group, and exist."""
    assert group.map is not None
    values = column.astype(object).where(column.notna(), MISSING_CATEGORY).map(str)
    to_group: dict[str, str] = {}
    for label, categories in group.map.items():
        for category in map(str, categories):
            if category in to_group:
                raise TrainingInputError(
                    f"fairness.groups.{name}: category '{category}' is in both '{to_group[category]}' and '{label}'"
                )
            to_group[category] = label
    present = set(values.unique())
    unmapped = sorted(present - set(to_group))
    if unmapped:
        raise TrainingInputError(
            f"fairness.groups.{name}: categories of '{group.column}' in no group: {', '.join(map(repr, unmapped))}"
        )
    unknown = sorted(set(to_group) - present)
    if unknown:
        raise TrainingInputError(
            f"fairness.groups.{name}: {', '.join(map(repr, unknown))} are not values of '{group.column}'"
        )
    definition = {"column": group.column, "kind": "map", "groups": list(group.map), "definition": group.map}
    return values.map(to_group), definition


def _bin_groups(name: str, group: GroupConfig, column: pd.Series) -> tuple[pd.Series, dict[str, Any]]:
    """Right-open intervals [a, b); the edges must cover every (non-missing) value."""
    assert group.bins is not None
    if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        raise TrainingInputError(f"fairness.groups.{name}: bins need a numeric column, '{group.column}' is not")
    edges = group.bins
    present = column.dropna()
    low, high = float(present.min()), float(present.max())
    if low < edges[0] or high >= edges[-1]:
        raise TrainingInputError(
            f"fairness.groups.{name}: bins {edges} do not cover the values of '{group.column}' "
            f"(from {low:g} to {high:g}; intervals are [a, b))"
        )
    labels = group.labels or [f"[{_number(a)}, {_number(b)})" for a, b in zip(edges, edges[1:])]
    binned = pd.cut(column, bins=edges, right=False, labels=labels).astype(object)
    assigned = binned.where(column.notna(), MISSING_GROUP)
    definition = {
        "column": group.column,
        "kind": "bins",
        "groups": labels,
        "definition": {label: [a, b] for label, a, b in zip(labels, edges, edges[1:])},
    }
    return assigned, definition


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
