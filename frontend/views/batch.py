"""Batch scoring: upload a CSV of applicants, see problems or scores, download the scored CSV."""

from __future__ import annotations

import streamlit as st

from analyst_ui import charts
from analyst_ui.batch import SHOWN_FIRST, score_upload, summarize, template_csv
from analyst_ui.batch_file import UnreadableFile
from analyst_ui.client import BackendError
from analyst_ui.context import ready_backend, schema_and_card, show_backend_error, show_problems

OUTCOME_KEY = "batch.outcome"

st.title("Batch scoring")
client, status = ready_backend()
schema, card = schema_and_card(client, status)

st.markdown(
    "Upload a CSV with a header row naming every feature (any column order; comma- or semicolon-separated, UTF-8 "
    "or Windows-1252). Other columns, such as an application ID, are kept beside the results but not scored. "
    "Start from the template: it holds one real applicant. Rows with problems are listed by their line in the file "
    "(the header is line 1); the other rows are scored. The scored CSV adds each applicant's probability, label, "
    "risk band, decision and up to four principal reasons, with the threshold, the model version and the time "
    "of scoring."
)
st.download_button(
    "Download the template CSV",
    template_csv(schema["features"], schema["example"]),
    file_name="applicants_template.csv",
    mime="text/csv",
    on_click="ignore",
)
upload = st.file_uploader("Applicants CSV", type=["csv"], key="batch.upload")
if upload is None:
    st.session_state.pop(OUTCOME_KEY, None)
    st.stop()

outcome_id = f"{upload.file_id} {status.url} v{status.model_version}"
if st.session_state.get(OUTCOME_KEY, (None, None))[0] != outcome_id:
    try:
        with st.spinner(f"Scoring {upload.name}…"):
            outcome = score_upload(client, upload.getvalue(), [f["name"] for f in schema["features"]])
    except (BackendError, UnreadableFile) as error:
        outcome = error
    st.session_state[OUTCOME_KEY] = (outcome_id, outcome)
outcome = st.session_state[OUTCOME_KEY][1]
stem = upload.name.removesuffix(".csv")
if isinstance(outcome, UnreadableFile):
    st.subheader(f"{upload.name} was not scored")
    st.error(f"The file cannot be read: {outcome}.")
    st.stop()
if isinstance(outcome, BackendError):
    st.subheader(f"{upload.name} was not scored")
    show_backend_error(outcome)
    st.stop()

read_as = f"Read as {outcome.file.describe()}."
if outcome.passed_through:
    read_as += f" Kept beside the results, not scored: {', '.join(outcome.passed_through)}."
st.caption(read_as)
if len(outcome.refused):
    lines = outcome.refused["line"].dropna().nunique()
    st.subheader(f"{lines} row(s) not scored")
    st.warning("These rows have problems: fix them in the file and upload them again. The other rows are scored below.")
    show_problems(outcome.refused)
    st.download_button(
        "Download the rows not scored",
        outcome.refused_csv,
        file_name=f"{stem}_not_scored.csv",
        mime="text/csv",
        on_click="ignore",
    )
if outcome.scored is None:
    st.stop()

scored = outcome.scored
summary = summarize(scored.table)
threshold = float(card["threshold"])
st.subheader(f"{upload.name}: {summary.count} applicants scored")
count_column, above_column, mean_column, band_column, decision_column = st.columns(5)
count_column.metric("Applicants", summary.count)
above_column.metric(
    "At or above the threshold",
    f"{summary.share_above_threshold:.1%}",
)
mean_column.metric("Mean probability", f"{summary.mean_probability:.1%}")
band_column.metric("Low / medium / high", " / ".join(str(summary.band_counts[band]) for band in charts.BAND_ORDER))
outcomes = [o["name"] for o in (card.get("decision_policy") or {}).get("outcomes", [])]
if outcomes:
    decision_column.metric(
        " / ".join(name.capitalize() for name in outcomes),
        " / ".join(str(summary.decision_counts.get(name, 0)) for name in outcomes),
    )
st.caption(
    f"{summary.above_threshold} applicants have a probability of at least {threshold:.3f} (the threshold); "
    "the decisions follow the policy explained on the score page."
)
st.plotly_chart(
    charts.probability_histogram(scored.table, threshold), key="batch_histogram", config=charts.CHART_CONFIG
)
st.dataframe(
    scored.table,
    hide_index=True,
    column_config={
        "line": st.column_config.NumberColumn("line", help="the row's line in the uploaded file (header = line 1)"),
        "probability_default": st.column_config.ProgressColumn(
            "probability of default", min_value=0.0, max_value=1.0, format="percent"
        ),
        "label": st.column_config.NumberColumn("label", help="1 = default expected at the threshold"),
        "risk_band": st.column_config.TextColumn("risk band"),
        "decision": st.column_config.TextColumn("decision"),
        **{f"reason_{i}": st.column_config.TextColumn(f"reason {i}") for i in range(1, 5)},
    },
    column_order=[
        "line",
        *outcome.passed_through,
        *(c for c in SHOWN_FIRST if c in scored.table.columns),
        *(c for c in scored.table.columns if c not in SHOWN_FIRST and c != "line" and c not in outcome.passed_through),
    ],
)
st.download_button(
    "Download the scored CSV",
    scored.csv,
    file_name=f"{stem}_scored.csv",
    mime="text/csv",
    type="primary",
    on_click="ignore",
)
st.caption(f"Scored by model v{scored.model_version}.")
