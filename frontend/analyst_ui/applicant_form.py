"""The applicant form, generated from GET /schema: one widget per feature, values kept in session state."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import streamlit as st

KEY_PREFIX = "applicant."
SCHEMA_ID_KEY = "applicant_form.schema_id"
MISSING_LABEL = "(missing)"


def field_key(name: str) -> str:
    """The session-state key of a feature's widget."""
    return f"{KEY_PREFIX}{name}"


def label_of(name: str) -> str:
    """`duration_in_month` -> `Duration in month`."""
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def clear_inputs() -> None:
    """Forget every entered value: the form shows the example applicant again."""
    for key in [k for k in st.session_state if str(k).startswith(KEY_PREFIX)]:
        del st.session_state[key]


def schema_fingerprint(features: Sequence[dict[str, Any]]) -> str:
    """What decides whether entered values still fit: each feature's name, type, categories and accepted bounds
    (not its example or observed range, which change with every training). A switch to a model version with
    the same schema keeps an analyst's inputs."""
    kept = ("name", "type", "dtype", "categories", "lower_bound", "upper_bound", "nullable")
    return json.dumps([{key: feature.get(key) for key in kept} for feature in features], sort_keys=True)


def forget_inputs_of_other_schema(schema_id: str) -> None:
    """Values entered for another schema may not fit its categories and bounds: drop them."""
    if st.session_state.get(SCHEMA_ID_KEY) != schema_id:
        clear_inputs()
        st.session_state[SCHEMA_ID_KEY] = schema_id


def render_applicant_form(features: Sequence[dict[str, Any]], example: dict[str, Any]) -> dict[str, Any] | None:
    """Widgets for every feature in a form (two columns); the applicant on submit, else None."""
    values: dict[str, Any] = {}
    with st.form("applicant_form", border=False):
        columns = st.columns(2)
        for index, feature in enumerate(features):
            with columns[index % 2]:
                values[feature["name"]] = _input_of(feature, example.get(feature["name"], feature.get("example")))
        submitted = st.form_submit_button("Score applicant", type="primary", icon=":material/calculate:")
    return values if submitted else None


def _input_of(feature: dict[str, Any], default: Any) -> Any:
    if feature["type"] == "categorical":
        return _category_input(feature, default)
    return _number_input(feature, default)


def _category_input(feature: dict[str, Any], default: Any) -> Any:
    options: list[Any] = list(feature["categories"])
    if feature.get("nullable"):
        options.append(None)
    return st.selectbox(
        label_of(feature["name"]),
        options,
        index=options.index(default) if default in options else 0,
        format_func=lambda option: MISSING_LABEL if option is None else str(option),
        key=field_key(feature["name"]),
        help=f"One of {len(feature['categories'])} categories.",
        persist_state="session",
    )


def _number_input(feature: dict[str, Any], default: Any) -> int | float | None:
    integer = feature.get("dtype") == "integer"
    low, high = feature.get("lower_bound"), feature.get("upper_bound")
    if integer:
        low = None if low is None else math.ceil(low)
        high = None if high is None else math.floor(high)
    else:
        low = None if low is None else float(low)
        high = None if high is None else float(high)
    value = None if default is None else _clamp(int(default) if integer else float(default), low, high)
    return st.number_input(
        label_of(feature["name"]),
        min_value=low,
        max_value=high,
        value=value,
        step=1 if integer else None,
        format="%d" if integer else None,
        key=field_key(feature["name"]),
        help=_number_help(feature, low, high),
        persist_state="session",
    )


def _clamp(value: int | float, low: int | float | None, high: int | float | None) -> int | float:
    if low is not None and value < low:
        return low
    if high is not None and value > high:
        return high
    return value


def _number_help(feature: dict[str, Any], low: Any, high: Any) -> str:
    kind = "Whole number" if feature.get("dtype") == "integer" else "Number"
    parts = [f"{kind} from {low} to {high}."]
    if feature.get("min") is not None and feature.get("max") is not None:
        parts.append(f"Training applicants had {feature['min']} to {feature['max']}.")
    return " ".join(parts)
