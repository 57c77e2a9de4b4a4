"""Model card: what the served model is and is for, its data, how well it did, where its threshold sits, how it
treats groups, its behavioral tests, its plots, limitations and lineage (the sections of the bundle's
model_card.md, from GET /model)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analyst_ui import cache, charts
from analyst_ui.client import BackendError
from analyst_ui.context import or_stop, ready_backend
from analyst_ui.model_card import (
    SET_TITLES,
    behavioral_table,
    disparity_table,
    group_table,
    lineage_table,
    metrics_table,
    ordered_plots,
    ordered_sets,
    overall_table,
    plot_title,
    sorted_candidates,
    table_height,
)

st.title("Model card")
client, status = ready_backend()
card = or_stop(cache.model_card, client.settings, status.model_version)

metrics = card.get("metrics", {})
statements = card.get("model_card") or {}
gate = card.get("gate") or {}
st.markdown(
    f"**{card['name']}** version **{card['version']}** · algorithm **{card['algorithm']}** · "
    f"trained {card.get('trained_at', '?')} by {(card.get('lineage') or {}).get('trained_by', '?')} · "
    f"run `{card.get('run_id', '?')}` · owner: {statements.get('owner', 'not stated')} · "
    f"quality gate: **{gate.get('decision', 'not recorded')}**"
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

st.subheader("Intended use")
st.markdown(statements.get("intended_use", "Not stated in this bundle."))
out_of_scope = statements.get("out_of_scope") or []
if out_of_scope:
    st.markdown("**Out of scope:**\n" + "\n".join(f"- {item}" for item in out_of_scope))

threshold = float(card["threshold"])
st.subheader("Threshold and risk bands")
st.plotly_chart(
    charts.risk_band_strip(card["risk_bands"], threshold), key="model_risk_bands", config=charts.CHART_CONFIG
)
strategy = card.get("threshold_strategy")
st.caption(
    f"An applicant is predicted to default at a probability of {threshold:.3f} or more"
    + (f" (threshold chosen by the {strategy} strategy)." if strategy else ".")
)

dropped = card.get("dropped_features") or []
st.subheader("Features left out")
if dropped:
    st.markdown("Dropped before training (e.g. protected attributes): " + ", ".join(f"`{name}`" for name in dropped))
else:
    st.markdown("None: the model uses every feature of the dataset, protected attributes included.")
dataset = card.get("dataset") or {}
about = statements.get("data") or {}
st.subheader("Data")
st.markdown(
    f"- **{about.get('name', 'dataset')}**, file `{dataset.get('file')}`: {dataset.get('rows')} rows, target "
    f"`{dataset.get('target')}`, positive class `{dataset.get('positive_label')}` "
    f"({dataset.get('positive_rate', 0):.0%} of rows)\n"
    f"- source: {about.get('source', 'not stated')}; licence: {about.get('licence', 'not stated')}\n"
    f"- period: {about.get('period', 'not stated')}; currency: {about.get('currency') or 'not stated'}\n"
    f"- label: {about.get('label_definition', 'not stated')}"
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

fairness = card.get("fairness") or {}
overall = (fairness.get("overall") or {}).get("holdout")
if overall:
    st.caption("Hold-out figures with their bootstrap intervals:")
    st.dataframe(overall_table(overall), hide_index=True)

st.subheader("Fairness by group")
if not fairness.get("attributes"):
    st.markdown("Not measured: no groups are configured for this model.")
else:
    fairness_gate = fairness.get("gate") or {}
    st.markdown(
        f"Fairness gate: **{fairness_gate.get('decision', '?')}** (action `{fairness_gate.get('action', '?')}`, "
        f"judged on the {SET_TITLES.get(fairness_gate.get('predictions', ''), '?').lower()})."
    )
    for finding in fairness_gate.get("findings", []):
        st.warning(finding, icon=":material/balance:")
    for tab, set_name in zip(st.tabs([SET_TITLES.get(s, s) for s in ordered_sets(fairness)]), ordered_sets(fairness)):
        with tab:
            attributes = fairness["sets"][set_name]
            for attribute, report in attributes.items():
                st.markdown(f"**{attribute}** (column `{fairness['attributes'][attribute]['column']}`)")
                st.dataframe(group_table(report), hide_index=True)
            limits = fairness_gate.get("limits") if set_name == fairness_gate.get("predictions") else None
            st.dataframe(disparity_table(attributes, limits), hide_index=True)

st.subheader("Behavioral tests")
behavioral = card.get("behavioral_tests") or []
if behavioral:
    st.dataframe(behavioral_table(behavioral), hide_index=True)
else:
    st.markdown("None declared for this model.")

st.subheader("Evaluation plots")
plot_columns = st.columns(2)
for index, name in enumerate(ordered_plots(card.get("plots") or [])):
    with plot_columns[index % 2]:
        try:
            st.image(
                cache.plot(client.settings, status.model_version, name),
                caption=plot_title(name),
                alt=f"{plot_title(name)} of model v{status.model_version} (the figures are in the tables above)",
            )
        except BackendError as error:
            st.warning(f"{plot_title(name)}: {error.message}", icon=":material/image_not_supported:")

st.subheader("Limitations")
limitations = statements.get("limitations") or []
st.markdown("\n".join(f"- {item}" for item in limitations) or "None stated in this bundle.")

st.subheader("Lineage")
if card.get("lineage"):
    st.dataframe(lineage_table(card["lineage"]), hide_index=True)
else:
    st.markdown("Not recorded in this bundle.")

st.subheader("Deployment")
st.markdown(
    f"Served now by the **{card.get('color', '?')}** stack. Who promoted which version and when is in the "
    "deploy history (`make status`)."
)
