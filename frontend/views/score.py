"""Score an applicant: a form generated from the model's schema, then the score and its reasons."""

from __future__ import annotations

from datetime import datetime, timezone

import streamlit as st

from analyst_ui.applicant_form import clear_inputs, forget_inputs_of_other_schema, render_applicant_form
from analyst_ui.client import BackendError
from analyst_ui.context import ready_backend, schema_and_card, show_backend_error
from analyst_ui.score_result import render_score

RESULT_KEY = "score.result"
SCORED_AT_KEY = "score.scored_at"

st.title("Score an applicant")
client, status = ready_backend()
schema, card = schema_and_card(client, status)

forget_inputs_of_other_schema(f"{status.url} v{status.model_version}")
form_column, result_column = st.columns([3, 2], gap="medium")
with form_column:
    st.caption("Every field starts with a real applicant from the training data; change what differs.")
    applicant = render_applicant_form(schema["features"], schema["example"])
    st.button("Reset to the example applicant", icon=":material/restart_alt:", on_click=clear_inputs)

with result_column:
    if applicant is not None:
        try:
            with st.spinner("Scoring…"):
                st.session_state[RESULT_KEY] = client.predict(applicant)
                st.session_state[SCORED_AT_KEY] = datetime.now(timezone.utc)
        except BackendError as error:
            st.session_state.pop(RESULT_KEY, None)
            show_backend_error(error)
    result = st.session_state.get(RESULT_KEY)
    if result is not None:
        render_score(result, card, st.session_state.get(SCORED_AT_KEY) or datetime.now(timezone.utc))
    elif applicant is None:
        st.info("Fill in the form and press **Score applicant**.", icon=":material/arrow_back:")
