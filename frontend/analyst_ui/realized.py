"""The monitoring page's "Realized performance" section: how the served model did against observed outcomes
(GET /outcomes/performance), in an analyst's words, with a calibration chart and the confusion table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analyst_ui import charts
from analyst_ui.charts import MARGINS, TOWARDS_DEFAULT, readable
from analyst_ui.client import BackendError

REALIZED_WINDOW = "30d"
PREDICTED_COLOR = "#90a4ae"
LOAD_HINT = "Outcomes are loaded with `make load-outcomes FILE=...` (or `make simulate-outcomes` for the demo)."


def served_entry(performance: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The figures of the served model version, if its predictions are in the window."""
    served = performance.get("served_version")
    return next((v for v in performance.get("versions", []) if v["model_version"] == served), None)


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def auc_text(auc: Mapping[str, Any]) -> str:
    """ "0.78 (0.71–0.84)": the AUC and its 95% bootstrap interval."""
    if auc.get("value") is None:
        return "–"
    if auc.get("ci_low") is None:
        return f"{auc['value']:.2f}"
    return f"{auc['value']:.2f} ({auc['ci_low']:.2f}–{auc['ci_high']:.2f})"


def not_enough_text(entry: Mapping[str, Any] | None, min_labeled: int) -> str | None:
    """Why the figures cannot be trusted yet (None when they can)."""
    if entry is None or entry["labeled"] == 0:
        return "Not enough outcomes yet: no outcome of the served model's predictions has been observed. " + LOAD_HINT
    if entry["status"] != "ok":
        return f"Not enough outcomes yet: {entry['reason']}. The figures below are indicative at best."
    return None


def calibration_chart(bands: list[Mapping[str, Any]]) -> go.Figure:
    """Per risk band: the mean predicted probability of default next to the observed default rate."""
    frame = pd.DataFrame(bands)
    counts = [f"{count} outcomes" for count in frame["count"]]
    figure = go.Figure()
    for column, name, color in (
        ("predicted", "predicted default rate", PREDICTED_COLOR),
        ("observed", "observed default rate", TOWARDS_DEFAULT),
    ):
        figure.add_trace(
            go.Bar(
                x=frame["band"].tolist(),
                y=frame[column].tolist(),
                name=name,
                marker_color=color,
                customdata=counts,
                hovertemplate="%{x} risk: %{y:.1%} " + name + " (%{customdata})<extra></extra>",
            )
        )
    figure.update_layout(
        title="Predicted vs observed default rate per risk band",
        barmode="group",
        yaxis={"tickformat": ".0%", "rangemode": "tozero"},
        xaxis={"title": "risk band"},
        margin=MARGINS,
        legend={"orientation": "h", "y": -0.25},
    )
    return readable(figure)


def confusion_table(confusion: Mapping[str, int]) -> pd.DataFrame:
    """Observed outcome (rows) by the model's flag at its threshold (columns)."""
    return pd.DataFrame(
        {
            "flagged as likely default": [confusion["true_positive"], confusion["false_positive"]],
            "not flagged": [confusion["false_negative"], confusion["true_negative"]],
        },
        index=["defaulted", "repaid"],
    )


def render(client: Any) -> None:
    """The section: headline figures, calibration per band and the confusion table, or why there is nothing yet."""
    st.subheader("Realized performance")
    try:
        performance = client.realized_performance(REALIZED_WINDOW)
    except BackendError as exc:
        st.warning(f"Realized performance is unavailable: {exc}", icon=":material/warning:")
        return
    entry = served_entry(performance)
    maturity = performance["maturity_days"]
    st.caption(
        f"How model v{performance['served_version']} did against what really happened to its applicants scored in "
        f"the last {performance['window']}"
        + (f" (an outcome counts {maturity} days after the prediction)." if maturity else ".")
    )
    problem = not_enough_text(entry, performance["min_labeled"])
    if problem:
        st.info(problem, icon=":material/hourglass_top:")
    if entry is None or entry["labeled"] == 0:
        return
    labeled, defaults, flagged, auc = st.columns(4)
    labeled.metric(
        "Outcomes known",
        entry["labeled"],
        help=f"{percent(entry['labeled_share'])} of the {entry['predictions']} predictions in the window"
        + (f"; {entry['immature']} more observed too early to count" if entry["immature"] else ""),
    )
    defaults.metric(
        "Observed default rate",
        percent(entry["realized_default_rate"]),
        help=f"The model expected {percent(entry['expected_default_rate'])} (its mean predicted probability).",
    )
    flagged.metric(
        "Share flagged",
        percent(entry["realized_flagged_share"]),
        help=f"On the training hold-out the model flagged {percent(entry['expected_flagged_share'])}.",
    )
    auc.metric(
        "Ranking quality (AUC)",
        auc_text(entry["roc_auc"]),
        help="How often a defaulter scored higher than a repayer (0.5: no better than chance). In brackets: the "
        f"95% range from {entry['roc_auc']['n']} outcomes.",
    )
    chart_column, table_column = st.columns(2, gap="large")
    with chart_column:
        if entry["calibration_bands"]:
            st.plotly_chart(
                calibration_chart(entry["calibration_bands"]), key="monitoring_calibration", config=charts.CHART_CONFIG
            )
    with table_column:
        if entry["confusion"]:
            st.markdown("**Flags against outcomes**")
            st.dataframe(confusion_table(entry["confusion"]))
            if entry["brier"] is not None:
                st.caption(f"Brier score {entry['brier']:.3f} (0 is perfect; lower is better).")
