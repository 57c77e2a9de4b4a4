"""The applicant form, generated from GET /schema: one widget per feature, values kept in session state, what each
field accepts in a caption under it and, for a value it does not accept, a message right there."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from analyst_ui.field_rules import bounds, codes, field_help, field_label, is_integer, option_text, problem_of

KEY_PREFIX = "applicant."
SCHEMA_ID_KEY = "applicant_form.schema_id"


def field_key(name: str) -> str:
    """The session-state key of a feature's widget."""
    return f"{KEY_PREFIX}{name}"


def example_values(features: Sequence[Mapping[str, Any]], example: Mapping[str, Any]) -> dict[str, Any]:
    """The value each widget starts with: the example applicant's, fitted to what the widget offers."""
    return {f["name"]: _fitted(f, example.get(f["name"], f.get("example"))) for f in features}


def reset_to_example(features: Sequence[Mapping[str, Any]], example: Mapping[str, Any]) -> None:
    """An on_click callback: every widget shows the example applicant again. The values are set (not deleted) before
    the widgets render, so the browser's copy of the old values cannot bring them back."""
    for name, value in example_values(features, example).items():
        st.session_state[field_key(name)] = value


def clear_inputs() -> None:
    """Forget every entered value: the form shows the example applicant again when it next renders."""
    for key in [k for k in st.session_state if str(k).startswith(KEY_PREFIX)]:
        del st.session_state[key]


def schema_fingerprint(features: Sequence[Mapping[str, Any]]) -> str:
    """What decides whether entered values still fit: each feature's name, type, categories and accepted bounds
    and input rule (not its example or observed range, which change with every training). A switch to a model
    version with the same schema keeps an analyst's inputs."""
    kept = ("name", "type", "dtype", "categories", "lower_bound", "upper_bound", "nullable", "input")
    return json.dumps([{key: feature.get(key) for key in kept} for feature in features], sort_keys=True)


def forget_inputs_of_other_schema(schema_id: str) -> None:
    """Values entered for another schema may not fit its categories and bounds: drop them."""
    if st.session_state.get(SCHEMA_ID_KEY) != schema_id:
        clear_inputs()
        st.session_state[SCHEMA_ID_KEY] = schema_id


def render_applicant_form(features: Sequence[Mapping[str, Any]], example: Mapping[str, Any]) -> dict[str, Any]:
    """Widgets for every feature, two per row (so Tab goes left to right, then down); the values as entered."""
    defaults = example_values(features, example)
    values: dict[str, Any] = {}
    for start in range(0, len(features), 2):
        for column, feature in zip(st.columns(2), features[start : start + 2]):
            with column:
                values[feature["name"]] = _input_of(feature, defaults[feature["name"]])
    return values


def _fitted(feature: Mapping[str, Any], value: Any) -> Any:
    """The example's value as the widget holds it: a listed choice, a number of the right type."""
    options = _options(feature)
    if options is not None:
        return value if value in options else options[0]
    if value is None:
        return None
    return int(value) if is_integer(feature) else float(value)


def _options(feature: Mapping[str, Any]) -> list[Any] | None:
    """The choices of a categorical or coded field (None for a free number)."""
    if feature["type"] == "categorical":
        options: list[Any] = list(feature["categories"])
    elif codes(feature):
        options = list(codes(feature))
    else:
        return None
    return options + [None] if feature.get("nullable") else options


def _input_of(feature: Mapping[str, Any], default: Any) -> Any:
    key = field_key(feature["name"])
    options = _options(feature)
    if key not in st.session_state:
        st.session_state[key] = default
    if options is not None:
        value = st.selectbox(
            field_label(feature),
            options,
            format_func=lambda option: option_text(feature, option),
            key=key,
            persist_state="session",
        )
    else:
        low, high = bounds(feature)
        value = st.number_input(
            field_label(feature),
            step=1 if is_integer(feature) else None,
            format="%d" if is_integer(feature) else None,
            placeholder=f"{low} to {high}",
            key=key,
            persist_state="session",
        )
    problem = problem_of(feature, value)
    if problem:  # visible at once, under the field, not in a tooltip
        st.error(problem)
    elif field_help(feature, value):
        st.caption(field_help(feature, value))
    return value
