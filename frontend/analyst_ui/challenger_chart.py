"""The challenger page's picture: a heat map of applicants by risk band on the serving model (rows) and on the
challenger (columns), each cell's count written in it (the page also shows the same numbers as a table)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import plotly.graph_objects as go

from analyst_ui.charts import MARGINS, readable

SCALE = [[0.0, "#f5f7fa"], [1.0, "#1565c0"]]


def transition_heatmap(report: Mapping[str, Any]) -> go.Figure:
    """Counts per (serving band, challenger band); the diagonal is 'no change'."""
    bands = list(report["risk_bands"])
    matrix = report["band_transitions"]
    peak = max((value for row in matrix for value in row), default=0)
    figure = go.Figure(
        go.Heatmap(
            z=matrix,
            x=bands,
            y=bands,
            colorscale=SCALE,
            zmin=0,
            zmax=max(peak, 1),
            text=[[str(value) for value in row] for row in matrix],
            texttemplate="%{text}",
            textfont={"size": 16},
            showscale=False,
            hovertemplate="serving model: %{y}<br>challenger: %{x}<br>%{z} applicants<extra></extra>",
        )
    )
    figure.update_layout(
        title="Risk band: serving model (rows) vs challenger (columns)",
        height=340,
        margin=MARGINS,
        xaxis={"title": "challenger", "side": "bottom"},
        yaxis={"title": "serving model", "autorange": "reversed"},
    )
    return readable(figure)
