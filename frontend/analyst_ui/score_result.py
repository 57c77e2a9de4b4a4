"""How one scored applicant is shown: gauge, decision at the threshold, risk band, top factors."""

from __future__ import annotations

from typing import Any

import streamlit as st

from analyst_ui import charts


def probability_text(probability: float) -> str:
    """The probability as the page prints it."""
    return f"{probability:.1%}"


def render_score(result: dict[str, Any], card: dict[str, Any]) -> None:
    """The score of one applicant; `card` (GET /model) gives the risk bands and the class names."""
    probability, threshold = float(result["probability_default"]), float(result["threshold"])
    st.plotly_chart(
        charts.probability_gauge(probability, threshold, card["risk_bands"]),
        key="score_gauge",
        config=charts.CHART_CONFIG,
    )
    dataset = card.get("dataset") or {}
    positive, negative = dataset.get("positive_label", "default"), dataset.get("negative_label", "no default")
    probability_column, prediction_column, band_column = st.columns(3)
    probability_column.metric("Probability", probability_text(probability))
    prediction_column.metric(
        "Prediction",
        positive if result["label"] == 1 else negative,
        help=f"{positive} (= default) when the probability is at least the threshold {threshold:.3f}",
    )
    band_column.metric("Risk band", str(result["risk_band"]))
    st.caption(
        f"Threshold {threshold:.3f} · answered by model **v{result.get('model_version')}** "
        f"on the **{result.get('color')}** deployment"
    )
    factors = result.get("top_factors") or []
    if factors:
        st.plotly_chart(charts.factors_chart(factors), key="score_factors", config=charts.CHART_CONFIG)
        st.caption("Red bars push this applicant towards default, green bars away from it (in the model's units).")
