"""Model card: what the served model is, how well it did, where its threshold sits, its plots."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analyst_ui import cache, charts
from analyst_ui.client import BackendError
from analyst_ui.context import or_stop, ready_backend
from analyst_ui.model_card import metrics_table, ordered_plots, plot_title, sorted_candidates, table_height

st.title("Model card")
client, status = ready_backend()
card = or_stop(cache.model_card, client.settings, status.model_version)

metrics = card.get("metrics", {})
st.markdown(
    f"**{card['name']}** version **{card['version']}** · algorithm **{card['algorithm']}** · "
    f"trained {card.get('trained_at', '?')} · run `{card.get('run_id', '?')}`"
)
headline = st.columns(4)
for column, (key, label) in zip(
    headline,
    [
        ("test_roc_auc", "Test ROC AUC"),
        ("test_pr_auc", "Test PR AUC"),
        ("test_recall", "Test recall"),
        ("test_brier", "Test Brier"),
    ],
):
    column.metric(label, f"{metrics[key]:.3f}" if key in metrics else "—")

threshold = float(card["threshold"])
st.subheader("Threshold and risk bands")
st.plotly_chart(
    charts.risk_band_strip(card["risk_bands"], threshold), key="model_risk_bands", config=charts.CHART_CONFIG
)
strategy = card.get("threshold_strategy")
st.caption(
    f"An applicant is predicted to default at a probability of {threshold:.3f} or more"
    + (f" (threshold chosen by `{strategy}`)." if strategy else ".")
)

dropped = card.get("dropped_features") or []
st.subheader("Features left out")
if dropped:
    st.markdown("Dropped before training (e.g. protected attributes): " + ", ".join(f"`{name}`" for name in dropped))
else:
    st.markdown("None: the model uses every feature of the dataset, protected attributes included.")
dataset = card.get("dataset") or {}
if dataset:
    st.caption(
        f"Dataset `{dataset.get('file')}`: {dataset.get('rows')} rows, target `{dataset.get('target')}`, "
        f"positive class `{dataset.get('positive_label')}` ({dataset.get('positive_rate', 0):.0%} of rows)."
    )

metrics_column, candidates_column = st.columns(2, gap="large")
with metrics_column:
    st.subheader("Metrics")
    table = metrics_table(metrics)
    st.dataframe(
        table,
        hide_index=True,
        height=table_height(len(table)),
        column_config={"value": st.column_config.NumberColumn(format="%.4f")},
    )
candidates = sorted_candidates(card.get("candidates") or [])
with candidates_column:
    st.subheader("Candidates")
    if candidates:
        st.plotly_chart(charts.candidates_chart(candidates), key="model_candidates", config=charts.CHART_CONFIG)
if candidates:
    st.dataframe(pd.DataFrame(candidates), hide_index=True)

st.subheader("Evaluation plots")
plot_columns = st.columns(2)
for index, name in enumerate(ordered_plots(card.get("plots") or [])):
    with plot_columns[index % 2]:
        try:
            st.image(cache.plot(client.settings, status.model_version, name), caption=plot_title(name))
        except BackendError as error:
            st.warning(f"{plot_title(name)}: {error.message}", icon=":material/image_not_supported:")
