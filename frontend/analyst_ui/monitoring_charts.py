"""Plotly figures of the monitoring page: volume over time, now vs training distributions, PSI per feature."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timezone, tzinfo
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from analyst_ui.charts import MARGINS, TOWARDS_DEFAULT, readable, shorten
from analyst_ui.monitoring import (
    STATUS_COLORS,
    bucket_text,
    p_value_text,
    psi_text,
    status_label,
    status_of,
    zone_name,
)

NOT_FLAGGED_COLOR = "#1565c0"
REFERENCE_COLOR = "#b0bec5"
LABEL_LIMIT = 32


def volume_chart(frame: pd.DataFrame, bucket_seconds: int, zone: tzinfo = timezone.utc) -> go.Figure:
    """Predictions per bucket as stacked bars: flagged (predicted default, red) on top of the others (blue); times
    in the analyst's time zone."""
    width_ms = bucket_seconds * 1000
    frame = frame.assign(start=frame["start"].dt.tz_convert(zone))
    ends = frame["start"] + pd.Timedelta(seconds=bucket_seconds)
    hover = [f"{start:%d %b %H:%M}–{end:%H:%M} {zone_name(zone)}" for start, end in zip(frame["start"], ends)]
    figure = go.Figure()
    for column, name, color in (
        ("not_flagged", "not flagged", NOT_FLAGGED_COLOR),
        ("flagged", "flagged (predicted default)", TOWARDS_DEFAULT),
    ):
        figure.add_trace(
            go.Bar(
                x=frame["start"].dt.tz_localize(None).tolist(),  # wall-clock time of the zone
                y=frame[column].tolist(),
                name=name,
                marker_color=color,
                width=width_ms * 0.9,
                offset=0,
                customdata=hover,
                hovertemplate="%{customdata}<br>%{y} " + name + "<extra></extra>",
            )
        )
    figure.update_layout(
        title=f"Predictions per {bucket_text(bucket_seconds)}",
        barmode="stack",
        height=300,
        margin=MARGINS,
        xaxis={"title": f"time ({zone_name(zone)})", "type": "date"},
        yaxis={"title": "predictions", "rangemode": "tozero"},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
    )
    return readable(figure)


def distribution_chart(title: str, drift: Mapping[str, Any], reference: str = "training") -> go.Figure:
    """Share per bin in the `reference` data (grey: the training data for a feature, the hold-out for the score)
    and in the window (the drift status color), side by side; PSI and status
    under the title. Numeric bins read left to right; categories are listed top to bottom, names shortened."""
    status = status_of(drift.get("status"))
    bins = [str(b) for b in drift.get("bins") or []]
    horizontal = drift.get("kind") == "categorical"
    labels = [shorten(b, LABEL_LIMIT) for b in bins] if horizontal else bins
    figure = go.Figure()
    for shares, name, color in (
        (drift.get("reference") or [], reference, REFERENCE_COLOR),
        (drift.get("current") or [], "this window", STATUS_COLORS[status]),
    ):
        axes = {"y": labels, "x": shares, "orientation": "h"} if horizontal else {"x": labels, "y": shares}
        figure.add_trace(
            go.Bar(
                **axes,
                name=name,
                marker_color=color,
                customdata=bins,
                hovertemplate="%{customdata}<br>"
                + name
                + ": %{"
                + ("x" if horizontal else "y")
                + ":.1%}<extra></extra>",
            )
        )
    share_axis = {"tickformat": ".0%", "title": "share", "rangemode": "tozero"}
    bin_axis = {"automargin": True, "autorange": "reversed"} if horizontal else {"type": "category"}
    figure.update_layout(
        title={"text": title, "subtitle": {"text": _drift_facts(drift, status)}},
        barmode="group",
        height=max(330, 120 + 45 * len(bins)) if horizontal else 350,
        margin={**MARGINS, "t": 80},
        xaxis=share_axis if horizontal else bin_axis,
        yaxis=bin_axis if horizontal else share_axis,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
    )
    return readable(figure)


def psi_chart(table: pd.DataFrame, thresholds: Mapping[str, float]) -> go.Figure:
    """PSI per feature as bars in the status colors, largest on top, the warn and alert thresholds as lines
    (a bar past a line stays green when the change is not significant). The axis stops at four times the
    alert threshold: longer bars are cut there and show their value."""
    measured = table.dropna(subset=["psi"])
    alert = float(thresholds.get("alert", 0.25))
    reach = min(max([2 * alert, *measured["psi"]]), 4 * alert) * 1.05
    values = measured["psi"].tolist()
    figure = go.Figure(
        go.Bar(
            x=[min(value, reach) for value in values],
            y=[shorten(name, LABEL_LIMIT) for name in measured["feature"]],
            orientation="h",
            marker_color=[STATUS_COLORS[status_of(status)] for status in measured["status"]],
            text=[f"{value:.2f} ▸" if value > reach else "" for value in values],
            textposition="inside",
            insidetextanchor="end",
            textfont={"color": "white"},
            customdata=[
                [name, value, p_value_text(p), status_label(status)]
                for name, value, p, status in zip(measured["feature"], values, measured["p_value"], measured["status"])
            ],
            hovertemplate="%{customdata[0]}<br>PSI %{customdata[1]:.3f} · p %{customdata[2]} · %{customdata[3]}"
            "<extra></extra>",
        )
    )
    for name in ("warn", "alert"):
        if name in thresholds:
            figure.add_vline(
                x=thresholds[name],
                line_dash="dash",
                line_color=STATUS_COLORS[name],
                annotation_text=f"{name} {thresholds[name]:g}",
                annotation_position="top",
            )
    figure.update_layout(
        title="PSI per feature",
        height=120 + 24 * max(len(measured), 1),
        margin=MARGINS,
        xaxis={"title": "population stability index", "range": [0, reach]},
        yaxis={"automargin": True, "autorange": "reversed"},
        showlegend=False,
    )
    return readable(figure)


def _drift_facts(drift: Mapping[str, Any], status: str) -> str:
    """'PSI 0.515 · p < 0.001 · alert' (the p-value only when the backend gave one)."""
    facts = [f"PSI {psi_text(drift.get('psi'))}"]
    if "p_value" in drift:
        facts.append(f"p {p_value_text(drift['p_value'])}")
    return " · ".join([*facts, status_label(status)])
