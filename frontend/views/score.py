"""Score an applicant: a form generated from the model's schema, then the score and its reasons. A result is kept
with the inputs that produced it and shown only beside those inputs: any edit marks it out of date."""

from __future__ import annotations

from datetime import datetime, timezone

import streamlit as st

from analyst_ui.announce import announce
from analyst_ui.applicant_form import (
    forget_inputs_of_other_schema,
    render_applicant_form,
    reset_to_example,
    schema_fingerprint,
)
from analyst_ui.client import BackendError
from analyst_ui.context import ready_backend, schema_and_card, show_backend_error
from analyst_ui.field_rules import field_label, problems
from analyst_ui.score_result import render_score, result_headline

RESULT_KEY = "score.result"
INPUTS_KEY = "score.inputs"  # the inputs RESULT_KEY was scored from
SCORED_AT_KEY = "score.scored_at"


def forget_result() -> None:
    for key in (RESULT_KEY, INPUTS_KEY, SCORED_AT_KEY):
        st.session_state.pop(key, None)


st.title("Score an applicant")
client, status = ready_backend()
schema, card = schema_and_card(client, status)
features = schema["features"]

forget_inputs_of_other_schema(schema_fingerprint(features))
form_column, result_column = st.columns([3, 2], gap="medium")
with form_column:
    st.caption("Every field starts with a real applicant from past data; change what differs.")
    values = render_applicant_form(features, schema["example"])
    with st.container(horizontal=True):
        score = st.button("Score applicant", type="primary", key="score.submit")
        st.button(
            "Reset to the example applicant",
            key="score.reset",
            on_click=reset_to_example,
            args=(features, schema["example"]),
        )

with result_column:
    if score:
        invalid = problems(features, values)
        if invalid:  # never a silent no-op, and never an old result beside the new inputs
            forget_result()
            announce(f"Not scored: {len(invalid)} field(s) need a different value.")
            st.error(
                f"Not scored: {len(invalid)} field(s) need a different value (see the messages under them).\n\n"
                + "\n".join(f"- {message}" for message in invalid.values())
            )
        else:
            try:
                with st.spinner("Scoring…"):
                    result = client.predict(values)
                st.session_state.update(
                    {RESULT_KEY: result, INPUTS_KEY: dict(values), SCORED_AT_KEY: datetime.now(timezone.utc)}
                )
            except BackendError as error:
                forget_result()
                announce("Not scored: the scoring service did not answer.")
                show_backend_error(error)
    result, inputs = st.session_state.get(RESULT_KEY), st.session_state.get(INPUTS_KEY)
    if result is not None and inputs == values:
        announce(result_headline(result))
        render_score(result, card, st.session_state.get(SCORED_AT_KEY) or datetime.now(timezone.utc))
    elif result is not None:
        changed = [field_label(f) for f in features if inputs.get(f["name"]) != values.get(f["name"])]
        announce("The result is out of date: score again.")
        st.warning(
            "**Out of date — score again.** The form changed since the last result "
            f"({', '.join(changed)}), so that result is not shown.",
        )
    elif not score:
        st.info("Fill in the form and press **Score applicant**.")
