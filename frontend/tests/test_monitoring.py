"""The monitoring page's pieces: drift table order, status colors and labels, volume, figures."""

from __future__ import annotations

import re
from datetime import timezone

import pytest

from analyst_ui import monitoring_charts
from analyst_ui.monitoring import (
    STATUS_COLORS,
    bucket_text,
    counts_text,
    drift_rule,
    drift_table,
    drifting_in_psi_order,
    p_value_text,
    drift_advice,
    expected_flagged_share,
    flagged_delta,
    period_text,
    zone_of,
    share_text,
    status_cell_style,
    status_markdown,
    status_of,
    styled_drift_table,
    versions_text,
    volume_frame,
)

THRESHOLDS = {"warn": 0.1, "alert": 0.25, "min_rows": 30}


def drift(psi: float | None, status: str, kind: str = "numeric", rows: int = 50, p_value: float = 0.0001) -> dict:
    return {
        "kind": kind,
        "psi": psi,
        "p_value": None if psi is None else p_value,
        "status": status,
        "rows": rows,
        "bins": ["< 1", "1 – 2", ">= 2"],
        "reference": [0.2, 0.5, 0.3],
        "current": [0.1, 0.3, 0.6],
    }


FEATURES = {
    "b_ok": drift(0.02, "ok", p_value=0.42),
    "a_alert": drift(0.9, "alert"),
    "empty": drift(None, "insufficient_data", rows=0),
    "c_warn": drift(0.12, "warn", kind="categorical"),
    "a_tie": drift(0.12, "warn"),
}


def test_drift_table_puts_the_largest_psi_first_ties_by_name_and_unmeasured_last() -> None:
    table = drift_table(FEATURES)
    assert table.columns.tolist() == ["feature", "kind", "psi", "p_value", "rows", "status"]
    assert table["feature"].tolist() == ["a_alert", "a_tie", "c_warn", "b_ok", "empty"]
    assert table["status"].tolist() == ["alert", "warn", "warn", "ok", "insufficient_data"]
    assert table["psi"].isna().tolist() == [False, False, False, False, True]
    assert table.loc[2, "kind"] == "categorical" and table.loc[4, "rows"] == 0


def test_an_empty_summary_gives_an_empty_table() -> None:
    assert drift_table({}).empty


def test_unknown_statuses_count_as_insufficient_data() -> None:
    assert status_of("exploded") == status_of(None) == "insufficient_data"
    assert status_of("warn") == "warn"


def test_status_cells_are_tinted_in_their_own_color() -> None:
    assert status_cell_style("alert").startswith("background-color: rgba(198, 40, 40, 0.35)")
    assert status_cell_style("ok").startswith("background-color: rgba(46, 125, 50, 0.35)")
    assert status_cell_style("insufficient data").startswith("background-color: rgba(158, 158, 158, 0.35)")
    assert len({status_cell_style(label) for label in ("ok", "warn", "alert", "insufficient data")}) == 4


def test_the_styled_table_shows_readable_labels_and_colors_only_the_status_column() -> None:
    styled = styled_drift_table(drift_table(FEATURES))
    assert styled.data["status"].tolist() == ["alert", "warn", "warn", "ok", "insufficient data"]
    html = styled.to_html()
    assert "0.900" in html and "—" in html  # PSI to three decimals, a missing PSI as a dash
    styled_columns = set(re.findall(r"_row\d+_col(\d+)\s*\{", html))
    assert styled_columns == {"5"}
    assert ">< 0.001<" in html and ">0.420<" in html  # p-values


def test_p_values_counts_and_the_drift_rule_in_words() -> None:
    assert [p_value_text(p) for p in (None, float("nan"), 0.0004, 0.0123)] == ["—", "—", "< 0.001", "0.012"]
    assert counts_text({"blue": 10, "green": 110}, " deployment") == "green deployment: 110 · blue deployment: 10"
    assert counts_text({}) is None
    rule = drift_rule({**THRESHOLDS, "max_p_value": 0.01})
    assert rule == (
        "PSI from 0.1 is warn, from 0.25 alert, when the change is significant (chi-square p-value below 0.01); "
        "with fewer than 30 rows the data is insufficient."
    )
    assert "p-value" not in drift_rule(THRESHOLDS)  # an older backend without the test


def test_status_markdown_is_colored_with_an_icon() -> None:
    assert status_markdown("alert") == ":red[:material/error: alert]"
    assert status_markdown("ok") == ":green[:material/check_circle: ok]"
    assert status_markdown("insufficient_data") == ":gray[:material/hourglass_empty: insufficient data]"


def test_drifting_features_come_largest_psi_first_and_unknown_names_are_skipped() -> None:
    summary = {"features": FEATURES, "drifting_features": ["a_tie", "c_warn", "a_alert", "gone"]}
    assert drifting_in_psi_order(summary) == ["a_alert", "a_tie", "c_warn"]


def test_volume_splits_flagged_and_not_flagged() -> None:
    frame = volume_frame(
        [
            {"start": "2026-05-12T09:00:00+00:00", "count": 7, "flagged": 2},
            {"start": "2026-05-12T09:05:00+00:00", "count": 0, "flagged": 0},
        ]
    )
    assert frame["not_flagged"].tolist() == [5, 0]
    assert str(frame["start"].dt.tz) == "UTC"


@pytest.mark.parametrize(
    ("versions", "text"),
    [({}, "—"), ({"3": 10}, "v3"), ({"2": 4, "3": 10}, "v3 (10) · v2 (4)")],
)
def test_model_versions_are_listed_most_used_first(versions: dict, text: str) -> None:
    assert versions_text(versions) == text


def test_texts_for_shares_buckets_and_periods() -> None:
    assert (share_text(None), share_text(0.3216)) == ("—", "32.2%")
    assert [bucket_text(s) for s in (60, 900, 3600, 21_600, 86_400, 172_800)] == [
        "1 min",
        "15 min",
        "1 h",
        "6 h",
        "1 day",
        "2 days",
    ]
    assert period_text("2026-05-12T09:15:00+00:00", "2026-05-12T10:15:00+00:00") == "12 May 09:15 – 10:15 UTC"
    assert period_text("2026-05-11T10:15:00+00:00", "2026-05-12T10:15:00+00:00") == "11 May 10:15 – 12 May 10:15 UTC"
    berlin = zone_of("Europe/Berlin")  # the analyst's time zone
    assert period_text("2026-05-12T09:15:00+00:00", "2026-05-12T10:15:00+00:00", berlin) == (
        "12 May 11:15 – 12:15 (Europe/Berlin)"
    )
    assert zone_of("Not/AZone") is timezone.utc and zone_of(None) is timezone.utc


def test_the_flagged_share_is_compared_with_the_hold_out_and_drift_is_put_in_words() -> None:
    card = {"decision_policy": {"holdout": {"flagged_share": 0.385}}}
    assert flagged_delta(0.492, expected_flagged_share(card)) == "+10.7 points vs 38.5% on the hold-out"
    assert flagged_delta(0.4, expected_flagged_share({})) is None
    summary = {
        "status": "alert",
        "score": {"status": "ok", "psi": 0.02},
        "features": FEATURES,
        "drifting_features": ["a_alert"],
    }
    advice = drift_advice(summary, {"a_alert": "Loan duration"})
    assert "**Loan duration** (a large change, PSI" in advice and "Tell the model owner" in advice
    calm = drift_advice({"status": "ok", "score": {}, "features": {}, "drifting_features": []}, {})
    assert "No field of the applicants differs much" in calm and "Nothing to do" in calm


def test_volume_chart_stacks_flagged_on_the_others() -> None:
    frame = volume_frame([{"start": "2026-05-12T09:00:00+00:00", "count": 7, "flagged": 2}])
    figure = monitoring_charts.volume_chart(frame, 300)
    assert figure.layout.barmode == "stack"
    assert [list(trace.y) for trace in figure.data] == [[5], [2]]
    assert figure.data[1].marker.color == monitoring_charts.TOWARDS_DEFAULT
    assert figure.layout.title.text == "Predictions per 5 min"


def test_distribution_chart_compares_training_with_the_window_in_the_status_color() -> None:
    figure = monitoring_charts.distribution_chart("duration", FEATURES["a_alert"])
    training, window = figure.data
    assert (list(training.y), list(window.y)) == ([0.2, 0.5, 0.3], [0.1, 0.3, 0.6])
    assert window.marker.color == STATUS_COLORS["alert"] and training.marker.color == monitoring_charts.REFERENCE_COLOR
    assert (figure.layout.title.text, figure.layout.title.subtitle.text) == (
        "duration",
        "PSI 0.900 · p < 0.001 · alert",
    )


def test_categories_are_drawn_as_horizontal_bars_with_short_labels() -> None:
    long_name = "critical account/ other credits existing (not at this bank)"
    categorical = {
        **FEATURES["c_warn"],
        "bins": [long_name, "(unseen)"],
        "reference": [1.0, 0.0],
        "current": [0.5, 0.5],
    }
    bars = monitoring_charts.distribution_chart("credit history", categorical).data[1]
    assert bars.orientation == "h"
    assert len(bars.y[0]) == monitoring_charts.LABEL_LIMIT and bars.y[0].endswith("…")
    assert list(bars.customdata) == [long_name, "(unseen)"]  # the full name on hover


def test_psi_chart_colors_bars_by_status_and_cuts_huge_values_at_four_times_the_alert() -> None:
    table = drift_table({**FEATURES, "huge": drift(6.5, "alert")})
    bars = monitoring_charts.psi_chart(table, THRESHOLDS).data[0]
    assert list(bars.y) == ["huge", "a_alert", "a_tie", "c_warn", "b_ok"]  # no bar without a PSI
    assert list(bars.marker.color) == [STATUS_COLORS[s] for s in ("alert", "alert", "warn", "warn", "ok")]
    reach = 4 * THRESHOLDS["alert"] * 1.05
    assert list(bars.x) == pytest.approx([reach, 0.9, 0.12, 0.12, 0.02])
    assert bars.text[0] == "6.50 ▸" and bars.text[1] == ""
