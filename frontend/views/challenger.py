"""Challenger: the idle model scored copies of live requests (shadow traffic); how differently it would have decided
on the applicants the serving model scored, for analysts and model-risk reviewers before a switch."""

from __future__ import annotations

import streamlit as st

from analyst_ui import charts
from analyst_ui.challenger import NO_DATA, points, speed_table, summary_text, transition_table
from analyst_ui.challenger_chart import transition_heatmap
from analyst_ui.context import or_stop, ready_backend
from analyst_ui.monitoring import DEFAULT_WINDOW, WINDOWS, period_text, share_text, zone_of

WINDOW_KEY = "window"  # also the URL query parameter: /challenger?window=24h

st.title("Challenger")
st.caption(
    "While shadow traffic is on, the idle model (the challenger) scores a copy of every live request. Its answers "
    "are never shown to anyone and change nothing; this page compares them with the answers that were given."
)
client, _ = ready_backend()
with st.container(horizontal=True, vertical_alignment="bottom"):
    window = st.segmented_control(
        "Window", WINDOWS, default=DEFAULT_WINDOW, required=True, key=WINDOW_KEY, bind="query-params"
    )
    st.button("Refresh", icon=":material/refresh:", key="challenger.refresh")
with st.spinner("Comparing the two models…"):
    report = or_stop(client.shadow_report, window or DEFAULT_WINDOW)

st.caption(f"Last {report['window']}: {period_text(report['from'], report['to'], zone_of(st.context.timezone))}.")
if not report["rows_compared"]:
    st.info(NO_DATA, icon=":material/hourglass_empty:")
    st.stop()

compared, labels, decisions, delta = st.columns(4)
compared.metric("Applicants compared", report["rows_compared"])
labels.metric("Same flag", share_text(report["label_agreement"]), help="flagged or not, on both models")
decisions.metric("Same decision", share_text(report["decision_agreement"]))
delta.metric(
    "Probability difference",
    points(report["mean_abs_delta"]),
    help=f"mean absolute difference; 95% of applicants differ by at most {points(report['p95_abs_delta'])}",
)
st.markdown(summary_text(report))

st.plotly_chart(transition_heatmap(report), key="challenger_bands", config=charts.CHART_CONFIG)
st.caption("The same counts as a table (rows: the serving model's band; columns: the challenger's):")
st.dataframe(transition_table(report), hide_index=True, key="challenger_band_table")
if report["decisions"]:
    st.subheader("Decisions")
    st.dataframe(transition_table(report, "decision"), hide_index=True, key="challenger_decision_table")

st.subheader("Speed and failures")
st.dataframe(speed_table(report), hide_index=True, key="challenger_speed")
st.caption(
    "Time spent in each model's service per request. Unanswered: requests one model answered and the other did "
    "not (an error, or the challenger too slow for the copy's short time limit)."
)
