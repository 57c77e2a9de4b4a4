"""Principal reasons: the top positive contributions, in the reason table's words (generic without one)."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.bundle import BundleMetadata
from app.core.bundle_decisions import ReasonTableInfo
from app.core.reasons import ReasonWriter, feature_label

# small_metadata: kind (a/b), note (__missing__/x, nullable), count (integer, typical 3), rate (float, typical 1.5)
TABLE = {
    "max_reasons": 4,
    "features": {
        "kind": {"type": "categorical", "label": "Kind", "categories": {"a": "Kind A", "b": "Kind B"}},
        "note": {"type": "categorical", "label": "Note", "categories": {"__missing__": "No note", "x": "Note x"}},
        "count": {"type": "numeric", "label": "Count", "typical": 3, "high": "Many ({value})", "low": "Few ({value})"},
        "rate": {"type": "numeric", "label": "Rate", "typical": 1.5, "high": "{label} high: {value}", "low": "Low"},
    },
}


def writer(small_metadata: BundleMetadata, table: dict | None = TABLE) -> ReasonWriter:
    info = None if table is None else ReasonTableInfo.model_validate(table)
    return ReasonWriter.of_bundle(info, small_metadata.ordered_features())


def test_reasons_are_the_positive_contributions_largest_first(small_metadata: BundleMetadata) -> None:
    rows = [("b", "x", 5, 0.5), ("a", None, 3, None)]
    contributions = np.array([[0.1, -0.4, 0.9, 0.3], [-0.1, 0.2, 0.05, 0.4]])
    assert writer(small_metadata).reasons(rows, contributions) == [
        ["Many (5)", "Low", "Kind B"],  # note pushes away from default: no reason
        ["Rate: not given", "No note", "Count: 3"],  # a value equal to the typical one is stated as it is
    ]


def test_at_most_max_reasons(small_metadata: BundleMetadata) -> None:
    table = {**TABLE, "max_reasons": 2}
    rows = [("a", "x", 9, 2.5)]
    assert writer(small_metadata, table).reasons(rows, np.array([[0.1, 0.2, 0.3, 0.4]])) == [
        ["Rate high: 2.5", "Many (9)"]
    ]
    assert writer(small_metadata).reasons(rows, np.array([[-0.1, 0.0, -0.3, -0.4]])) == [[]]


def test_a_bundle_without_a_table_gets_generic_statements(small_metadata: BundleMetadata) -> None:
    generic = writer(small_metadata, None)
    assert generic.derived and generic.labels == {
        name: feature_label(name) for name in ("kind", "note", "count", "rate")
    }
    rows = [("b", None, 7, 1.0)]
    assert generic.reasons(rows, np.array([[0.4, 0.3, 0.2, 0.1]])) == [
        [
            "Kind: b",
            "Note: not given",
            "Count above the typical applicant's (7)",
            "Rate below the typical applicant's (1)",
        ]
    ]


@pytest.mark.parametrize(
    "edit, problem",
    [
        (lambda t: t["features"].pop("rate"), "no entry for feature"),
        (lambda t: t["features"]["note"]["categories"].pop("x"), "no text for 'note'"),
        (lambda t: t["features"].update(count=t["features"]["kind"]), "'count' is numeric"),
        (lambda t: t["features"].update(kind=t["features"]["count"]), "'kind' is categorical"),
    ],
)
def test_a_table_that_does_not_fit_the_schema_is_refused(small_metadata: BundleMetadata, edit, problem: str) -> None:
    table = {"max_reasons": 4, "features": {k: {**v} for k, v in TABLE["features"].items()}}
    table["features"]["note"]["categories"] = dict(TABLE["features"]["note"]["categories"])
    edit(table)
    with pytest.raises(ValueError, match=problem):
        writer(small_metadata, table)
