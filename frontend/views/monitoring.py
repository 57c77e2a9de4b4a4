"""Monitoring: prediction volume, share flagged, drift of the score and the features against training, and the
realized performance against observed outcomes."""

from __future__ import annotations

import streamlit as st

from analyst_ui import cache, charts, realized
from analyst_ui.context import or_stop, ready_backend
from analyst_ui.model_card import table_height
from analyst_ui.monitoring import (
    DEFAULT_WINDOW,
    WINDOWS,
    drift_advice,
    drift_rule,
    drift_table,
    drifting_in_psi_order,
    expected_flagged_share,
    flagged_delta,
    period_text,
    share_text,
    status_markdown,
    styled_drift_table,
    versions_text,
    volume_frame,
    zone_of,
)
from analyst_ui.monitoring_charts import distribution_chart, psi_chart, volume_chart

WINDOW_KEY = "window"  # also the URL query parameter: /monitoring?window=24h
TRAFFIC_KEY = "monitoring.traffic"
TRAFFIC = {"all": "All", "single": "Scored one at a time", "batch": "Batch uploads"}
EMPTY_MESSAGE = "No predictions in this window yet — score applicants or run `make simulate-traffic`."

st.title("Monitoring")
client, status = ready_backend()
with st.container(horizontal=True, vertical_alignment="bottom"):
    window = st.segmented_control(
        "Window", WINDOWS, default=DEFAULT_WINDOW, required=True, key=WINDOW_KEY, bind="query-params"
    )
    traffic = st.segmented_control(
        "Applicants",
        list(TRAFFIC),
        format_func=TRAFFIC.get,
        default="all",
        required=True,
        key=TRAFFIC_KEY,
        help="Batch uploads are often reviews of past cases: look at applicants scored one at a time to see today's",
    )
    st.button("Refresh", icon=":material/refresh:", key="monitoring.refresh")
with st.spinner("Reading the prediction log…"):
    summary = or_stop(client.monitoring_summary, window or DEFAULT_WINDOW, traffic or "all")

volume = volume_frame(summary["volume"])
thresholds = summary["thresholds"]
zone = zone_of(st.context.timezone)  # the analyst's browser's
card = or_stop(cache.model_card, client.settings, status.model_version)
count_column, flagged_column, status_column, version_column = st.columns(4)
count_column.metric("Predictions in window", summary["count"])
flagged_column.metric(
    "Share flagged",
    share_text(summary["share_flagged"]),
    delta=flagged_delta(summary["share_flagged"], expected_flagged_share(card)),
    delta_color="off",
    delta_arrow="off",
)
status_column.metric("Drift status", status_markdown(summary["status"]))
version_column.metric("Model version", versions_text(summary["model_versions"]))
st.caption(
    f"Last {summary['window']}: {period_text(summary['from'], summary['to'], zone)}. "
    f"{summary['flagged']} applicants predicted to default; the hold-out figure is what the model flagged on "
    "applicants kept aside at training."
)

if summary["count"] == 0:
    st.info(EMPTY_MESSAGE, icon=":material/hourglass_empty:")
    realized.render(client)
    st.stop()
if summary["count"] < thresholds["min_rows"]:
    st.warning(
        f"Only {summary['count']} predictions in this window: drift needs at least {thresholds['min_rows']}. "
        "Pick a longer window or wait for more traffic.",
        icon=":material/hourglass_top:",
    )

advice = {"ok": st.success, "warn": st.warning, "alert": st.warning}.get(summary["status"])
if advice is not None:  # too few rows: the warning above says so
    advice(drift_advice(summary, card.get("feature_labels") or {}))
with st.expander("How drift is measured"):
    st.markdown(
        "The population stability index (PSI) compares the share of applicants in each range or category now "
        "with the training data: 0 means the same mix. " + drift_rule(thresholds)
    )
st.plotly_chart(
    volume_chart(volume, summary["bucket_seconds"], zone), key="monitoring_volume", config=charts.CHART_CONFIG
)

table = drift_table(summary["features"])
score_column, psi_column = st.columns(2, gap="large")
with score_column:
    st.subheader("Score now vs hold-out")
    served = summary.get("served_version")
    if served:
        st.caption(f"Probabilities of model v{served}, the one served now, against its hold-out scores.")
    st.plotly_chart(
        distribution_chart("Probability of default", summary["score"], reference="hold-out"),
        key="monitoring_score",
        config=charts.CHART_CONFIG,
    )
with psi_column:
    st.subheader("Feature drift")
    st.plotly_chart(psi_chart(table, thresholds), key="monitoring_psi", config=charts.CHART_CONFIG)
    if thresholds.get("max_p_value") is not None:
        st.caption(
            "A bar past a line stays green when the change may be sampling noise "
            f"(p-value of {thresholds['max_p_value']:g} or more)."
        )

st.dataframe(
    styled_drift_table(table),
    hide_index=True,
    height=table_height(len(table)),
    column_config={
        "feature": st.column_config.TextColumn("feature", width="large"),
        "psi": st.column_config.NumberColumn("PSI", help="population stability index against training"),
        "p_value": st.column_config.NumberColumn(
            "p-value", help="chi-square test of the change: below the cut-off it is not sampling noise"
        ),
        "rows": st.column_config.NumberColumn("rows", help="predictions in the window with this feature"),
        "status": st.column_config.TextColumn("status", width="medium"),
    },
)

drifting = drifting_in_psi_order(summary)
st.subheader(f"Drifting features ({len(drifting)})")
if not drifting:
    st.success("No feature drifts. " + drift_rule(thresholds), icon=":material/check_circle:")
feature_columns = st.columns(2)
for index, name in enumerate(drifting):
    with feature_columns[index % 2]:
        st.plotly_chart(
            distribution_chart(name, summary["features"][name]),
            key=f"monitoring_feature_{name}",
            config=charts.CHART_CONFIG,
        )
st.caption("Grey bars: the training data. Colored bars: this window, in the color of the status.")

realized.render(client)
