"""Figures and model-card tables built from backend answers."""

from __future__ import annotations

import pytest

from datetime import datetime, timezone

from analyst_ui import charts
from analyst_ui.field_rules import label_of
from analyst_ui.decision import decision_color, decision_summary
from analyst_ui.model_card import METRIC_NAMES, metrics_table, ordered_plots, sorted_candidates

BANDS = {"medium": 0.15, "high": 0.3}


def test_bands_cover_the_probability_axis_without_gaps() -> None:
    assert charts.band_ranges(BANDS) == {"low": (0.0, 0.15), "medium": (0.15, 0.3), "high": (0.3, 1.0)}


def test_gauge_shows_percent_with_the_threshold_marked() -> None:
    gauge = charts.probability_gauge(0.42, 0.3, BANDS).data[0]
    assert gauge.value == pytest.approx(42.0)
    assert gauge.gauge.threshold.value == pytest.approx(30.0)
    assert [step.range for step in gauge.gauge.steps] == [(0, 15), (15, 30), (30, 100)]


def test_factor_bars_are_red_towards_default_and_green_away_largest_on_top() -> None:
    factors = [
        {"feature": "checking", "value": "< 0", "contribution": 0.9},
        {"feature": "purpose", "value": "car", "contribution": -0.4},
    ]
    bars = charts.factors_chart(factors).data[0]
    assert list(bars.x) == [-0.4, 0.9]  # plotly draws the last bar at the top
    assert list(bars.marker.color) == [charts.AWAY_FROM_DEFAULT, charts.TOWARDS_DEFAULT]
    assert [label.split("<br>")[0] for label in bars.y] == ["<b>purpose</b>", "<b>checking</b>"]
    named = charts.factors_chart(factors, {"checking": "Checking account"}).data[0]
    assert [label.split("<br>")[0] for label in named.y] == ["<b>purpose</b>", "<b>Checking account</b>"]


POLICY = [{"name": "approve"}, {"name": "refer"}, {"name": "decline"}]


@pytest.mark.parametrize(
    "name, outcomes, color",
    [
        ("approve", POLICY, "green"),
        ("refer", POLICY, "orange"),
        ("decline", POLICY, "red"),
        ("yes", [{"name": "yes"}, {"name": "no"}], "green"),
        ("unknown", POLICY, "orange"),
    ],
)
def test_the_decision_headline_is_green_for_the_lowest_outcome_red_for_the_highest(
    name: str, outcomes: list, color: str
) -> None:
    assert decision_color(name, outcomes) == color


def test_the_decision_summary_holds_decision_reasons_model_and_time() -> None:
    result = {
        "probability_default": 0.4213,
        "threshold": 0.28,
        "risk_band": "high",
        "decision": {"name": "decline", "label": "Decline", "wording": "High risk."},
        "reasons": ["Checking account is overdrawn", "Long loan duration (36 months)"],
        "model_version": "3",
    }
    card = {"name": "credit-default", "algorithm": "catboost"}
    text = decision_summary(result, card, datetime(2026, 11, 23, 20, 15, 7, tzinfo=timezone.utc))
    assert text.splitlines() == [
        "Decision: Decline",
        "Probability of default: 42.1% (threshold 28.0%, risk band high)",
        "Principal reasons:",
        "  1. Checking account is overdrawn",
        "  2. Long loan duration (36 months)",
        "Model: credit-default v3 (catboost)",
        "Scored: 2026-11-23 20:15:07 UTC",
    ]
    assert "none (no factor raises the risk)" in decision_summary({**result, "reasons": []}, card, datetime.now())


def test_metrics_table_uses_readable_names_and_keeps_unknown_metrics() -> None:
    table = metrics_table({"test_roc_auc": 0.8, "custom_metric": 1.0, "cv_roc_auc_mean": 0.79})
    assert table["metric"].tolist() == [METRIC_NAMES["cv_roc_auc_mean"], METRIC_NAMES["test_roc_auc"], "custom_metric"]
    assert table["value"].tolist() == [0.79, 0.8, 1.0]


def test_curves_come_first_then_unknown_plots() -> None:
    assert ordered_plots(["zeta", "feature_importance", "roc_curve"]) == ["roc_curve", "feature_importance", "zeta"]


def test_candidates_best_first() -> None:
    ranked = sorted_candidates(
        [{"candidate": "tree", "cv_roc_auc_mean": 0.7}, {"candidate": "cb", "cv_roc_auc_mean": 0.8}]
    )
    assert [c["candidate"] for c in ranked] == ["cb", "tree"]


def test_labels_are_readable() -> None:
    assert label_of("duration_in_month") == "Duration in month"


def test_every_chart_draws_its_text_in_the_app_text_color() -> None:
    """Streamlit's chart theme greys chart text to about 3.7:1: each builder sets TEXT_COLOR (12.6:1) explicitly."""
    figures = [
        charts.probability_gauge(0.4, 0.3, {"medium": 0.14, "high": 0.28}),
        charts.factors_chart([{"feature": "age_in_years", "value": 30, "contribution": 0.2}]),
        charts.risk_band_strip({"medium": 0.14, "high": 0.28}, 0.3),
        charts.candidates_chart([{"name": "catboost", "cv_roc_auc_mean": 0.8, "test_roc_auc": 0.82}]),
    ]
    for figure in figures:
        layout = figure.layout
        assert layout.font.color == charts.TEXT_COLOR and layout.xaxis.tickfont.color == charts.TEXT_COLOR
        assert layout.yaxis.tickfont.color == charts.TEXT_COLOR and layout.legend.font.color == charts.TEXT_COLOR
    assert figures[0].data[0].gauge.axis.tickfont.color == charts.TEXT_COLOR
