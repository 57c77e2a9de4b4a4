"""How one scored applicant is shown: the decision, gauge, prediction at the threshold, risk band, top factors,
the principal reasons and a copyable decision summary."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import streamlit as st

from analyst_ui import charts
from analyst_ui.decision import decision_color, decision_summary


def probability_text(probability: float) -> str:
    """The probability as the page prints it."""
    return f"{probability:.1%}"


def result_headline(result: dict[str, Any]) -> str:
    """One sentence for the live region: the decision and the probability."""
    decision = (result.get("decision") or {}).get("label")
    probability = probability_text(float(result["probability_default"]))
    return f"Scored: {decision + ', ' if decision else ''}probability of default {probability}."


def factors_text(factors: list[dict[str, Any]], labels: dict[str, str]) -> str:
    """The factor chart in words (its text alternative, and no color needed to read it)."""
    return "\n".join(
        f"- **{labels.get(f['feature']) or f['feature'].replace('_', ' ')}** ({f['value']}): "
        f"{'towards' if float(f['contribution']) > 0 else 'away from'} default, {float(f['contribution']):+.2f}"
        for f in factors
    )


def render_decision(result: dict[str, Any], card: dict[str, Any]) -> None:
    """The policy's outcome as a colored headline, with what it means."""
    decision = result.get("decision")
    if not decision:  # a backend older than decision policies
        return
    outcomes = (card.get("decision_policy") or {}).get("outcomes") or []
    st.subheader(f":{decision_color(decision['name'], outcomes)}[{decision['label']}]", anchor=False)
    st.markdown(decision.get("wording", ""))


def render_score(result: dict[str, Any], card: dict[str, Any], scored_at: datetime) -> None:
    """The score of one applicant; `card` (GET /model) gives the risk bands, the class names, the decision
    policy and the features in an analyst's words; `scored_at` goes into the decision summary."""
    probability, threshold = float(result["probability_default"]), float(result["threshold"])
    render_decision(result, card)
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
    reference = f" · prediction id `{result['prediction_id']}`" if result.get("prediction_id") else ""
    st.caption(f"Threshold {threshold:.3f} · answered by model **v{result.get('model_version')}**{reference}")
    factors = result.get("top_factors") or []
    labels = card.get("feature_labels") or {}
    if factors:
        st.plotly_chart(charts.factors_chart(factors, labels), key="score_factors", config=charts.CHART_CONFIG)
        st.caption(
            "Bars to the right (red) push this applicant towards default, bars to the left (green) away from it."
        )
        with st.expander("The factors as text"):
            st.markdown(factors_text(factors, labels))
    reasons = result.get("reasons")
    if reasons is not None:
        st.markdown("**Principal reasons** (the factors raising the risk most, largest first)")
        st.markdown("\n".join(f"{n}. {reason}" for n, reason in enumerate(reasons, 1)) or "None: no factor raises it.")
    if result.get("decision"):
        st.markdown("**Decision summary** (copy it with the icon at its top right)")
        st.code(decision_summary(result, card, scored_at), language=None, wrap_lines=True)
        render_policy(card)


def render_policy(card: dict[str, Any]) -> None:
    """How decisions are made: the outcomes over the probability and why the threshold is where it is."""
    policy = card.get("decision_policy") or {}
    outcomes = policy.get("outcomes") or []
    if not outcomes:
        return
    with st.expander("How the decision is made"):
        st.markdown(
            "\n".join(
                f"- **{o['label']}**: probability of default from {o['from']:.1%} "
                f"{'up to ' + format(o['to'], '.1%') if o['to'] < 1 else 'up'}. {o.get('wording', '')}"
                for o in outcomes
            )
        )
        if policy.get("threshold_rationale"):
            st.caption(policy["threshold_rationale"])
