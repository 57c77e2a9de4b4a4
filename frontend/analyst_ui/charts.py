"""Plotly figures: probability gauge, top factors, batch histogram, risk bands, candidate comparison."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

BAND_COLORS = {"low": "#2e7d32", "medium": "#f9a825", "high": "#c62828"}
BAND_ORDER = ("low", "medium", "high")
TOWARDS_DEFAULT = "#c62828"
AWAY_FROM_DEFAULT = "#2e7d32"
THRESHOLD_COLOR = "#263238"
MARGINS = dict(l=10, r=10, t=40, b=10)
CHART_CONFIG = {"displayModeBar": False}  # st.plotly_chart(config=...): no toolbar over the titles

# Streamlit's chart theme draws tick labels, axis titles and legends in a grey of about 3.7:1 on white, under
# WCAG AA's 4.5:1 for text: every chart sets its text to the app's own text color (12.6:1) instead.
TEXT_COLOR = "#31333F"


def readable(figure: go.Figure) -> go.Figure:
    """The figure with every text in TEXT_COLOR (axes, legend, titles, a gauge's ticks and number)."""
    figure.update_layout(font_color=TEXT_COLOR, legend_font_color=TEXT_COLOR, title_font_color=TEXT_COLOR)
    figure.update_xaxes(tickfont_color=TEXT_COLOR, title_font_color=TEXT_COLOR)
    figure.update_yaxes(tickfont_color=TEXT_COLOR, title_font_color=TEXT_COLOR)
    figure.update_traces(
        gauge_axis_tickfont_color=TEXT_COLOR, number_font_color=TEXT_COLOR, selector={"type": "indicator"}
    )
    return figure


def band_ranges(risk_bands: dict[str, float]) -> dict[str, tuple[float, float]]:
    """Probability range of each band: low < medium <= medium-band < high <= high-band."""
    return {
        "low": (0.0, risk_bands["medium"]),
        "medium": (risk_bands["medium"], risk_bands["high"]),
        "high": (risk_bands["high"], 1.0),
    }


def probability_gauge(probability: float, threshold: float, risk_bands: dict[str, float]) -> go.Figure:
    """Probability of default in percent on a dial colored by risk band, the threshold as a line."""
    steps = [
        {"range": [low * 100, high * 100], "color": tint(BAND_COLORS[band])}
        for band, (low, high) in band_ranges(risk_bands).items()
    ]
    figure = go.Figure(
        go.Indicator(
            mode="gauge+number",
            value=probability * 100,
            number={"suffix": " %", "valueformat": ".1f"},
            title={"text": "Probability of default"},
            gauge={
                "axis": {"range": [0, 100], "ticksuffix": " %"},
                "bar": {"color": THRESHOLD_COLOR, "thickness": 0.3},
                "steps": steps,
                "threshold": {
                    "line": {"color": TOWARDS_DEFAULT, "width": 4},
                    "thickness": 0.9,
                    "value": threshold * 100,
                },
            },
        )
    )
    figure.update_layout(height=250, margin=dict(l=40, r=50, t=50, b=10))
    return readable(figure)


def factors_chart(factors: Sequence[dict[str, Any]], feature_labels: dict[str, str] | None = None) -> go.Figure:
    """Horizontal bars of signed contributions: red pushes towards default, green away from it. Features are
    named in the analyst's words (`feature_labels`, from GET /model), else by their name with spaces."""
    ordered = list(reversed(factors))  # largest at the top
    names = feature_labels or {}
    labels = [
        f"<b>{names.get(f['feature']) or f['feature'].replace('_', ' ')}</b><br>{shorten(str(f['value']))}"
        for f in ordered
    ]
    contributions = [float(f["contribution"]) for f in ordered]
    reach = max((abs(c) for c in contributions), default=1.0) or 1.0
    figure = go.Figure(
        go.Bar(
            x=contributions,
            y=labels,
            orientation="h",
            marker_color=[TOWARDS_DEFAULT if c > 0 else AWAY_FROM_DEFAULT for c in contributions],
            text=[f"{c:+.2f}" for c in contributions],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}<br>contribution %{x:+.4f}<extra></extra>",
        )
    )
    figure.add_vline(x=0, line_color=THRESHOLD_COLOR, line_width=1)
    figure.update_layout(
        title="Top factors of this score",
        height=90 + 55 * max(len(ordered), 1),
        margin=dict(l=10, r=30, t=40, b=10),
        xaxis={
            "range": [-reach * 1.35, reach * 1.35],
            "zeroline": False,
            "title": "contribution (red: towards default)",
        },
        yaxis={"automargin": True},
        showlegend=False,
    )
    return readable(figure)


def shorten(text: str, limit: int = 28) -> str:
    """The text, cut to `limit` characters with an ellipsis when longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def probability_histogram(scored: pd.DataFrame, threshold: float) -> go.Figure:
    """Distribution of a batch's probabilities, stacked by risk band, with the threshold line."""
    figure = px.histogram(
        scored,
        x="probability_default",
        color="risk_band",
        color_discrete_map=BAND_COLORS,
        category_orders={"risk_band": list(BAND_ORDER)},
        nbins=20,
        range_x=[0, 1],
        labels={"probability_default": "probability of default", "risk_band": "risk band"},
    )
    figure.update_traces(xbins={"start": 0.0, "end": 1.0, "size": 0.05})
    figure.add_vline(
        x=threshold,
        line_dash="dash",
        line_color=THRESHOLD_COLOR,
        annotation_text=f"threshold {threshold:.2f}",
        annotation_position="top",
    )
    figure.update_layout(
        title="Probabilities of this batch", height=330, margin=MARGINS, bargap=0.05, yaxis_title="applicants"
    )
    return readable(figure)


def risk_band_strip(risk_bands: dict[str, float], threshold: float) -> go.Figure:
    """The probability axis cut into the low / medium / high bands."""
    figure = go.Figure()
    for band, (low, high) in band_ranges(risk_bands).items():
        figure.add_trace(
            go.Bar(
                x=[high - low],
                base=[low],
                y=["risk band"],
                orientation="h",
                name=band,
                marker_color=BAND_COLORS[band],
                text=f"{band}: {low:.2f}–{high:.2f}",
                textposition="inside",
                insidetextanchor="middle",
                hoverinfo="text",
            )
        )
    figure.add_vline(x=threshold, line_color=THRESHOLD_COLOR, line_width=3)
    figure.add_annotation(
        x=threshold, y=1.0, yref="paper", text=f"threshold {threshold:.3f}", showarrow=False, yanchor="bottom"
    )
    figure.update_layout(
        barmode="stack",
        height=130,
        margin=dict(l=10, r=10, t=30, b=10),
        showlegend=False,
        xaxis={"range": [0, 1], "title": "probability of default"},
        yaxis={"visible": False},
    )
    return readable(figure)


def candidates_chart(candidates: Sequence[dict[str, Any]]) -> go.Figure:
    """Cross-validated ROC AUC of every candidate (± one standard deviation), champion highlighted.
    Bars start at 0.5, the AUC of a coin flip."""
    names = [str(c.get("candidate", "?")) for c in candidates]
    scores = [float(c.get("cv_roc_auc_mean") or 0.5) for c in candidates]
    figure = go.Figure(
        go.Bar(
            x=[score - 0.5 for score in scores],
            base=0.5,
            y=names,
            orientation="h",
            error_x={"type": "data", "array": [c.get("cv_roc_auc_std") or 0 for c in candidates]},
            marker_color=["#1565c0" if c.get("champion") else "#90a4ae" for c in candidates],
            text=[f"{score:.3f}" for score in scores],
            textposition="inside",
            insidetextanchor="start",
            textfont={"color": "white"},
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    )
    figure.update_layout(
        title="Cross-validated ROC AUC (champion in blue)",
        height=110 + 50 * len(names),
        margin=MARGINS,
        xaxis={"range": [0.5, 1.0]},
        yaxis={"automargin": True, "autorange": "reversed"},
    )
    return readable(figure)


def tint(hex_color: str, alpha: float = 0.35) -> str:
    """'#c62828' -> 'rgba(198, 40, 40, 0.35)'."""
    red, green, blue = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"
