"""What every page needs: the client and backend status app.py just checked, and a stop on backend errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from analyst_ui import cache
from analyst_ui.batch import problems_table
from analyst_ui.client import BackendClient, BackendError, BackendStatus

BACKEND_KEY = "backend"
NOT_READY = (
    "**No model is ready to score yet.** The scoring service is running but has no model loaded. "
    "Please try again in a few minutes; if this lasts, tell the team."
)
T = TypeVar("T")


def remember_backend(client: BackendClient, status: BackendStatus) -> None:
    """Keep this run's client and status for the page (app.py runs before every page)."""
    st.session_state[BACKEND_KEY] = (client, status)


def ready_backend() -> tuple[BackendClient, BackendStatus]:
    """The client and status of a ready backend; otherwise a friendly message and the page stops. A service up
    without a model gets plain words, its own reason (e.g. a model library's error) folded away for the team."""
    client, status = st.session_state[BACKEND_KEY]
    if not status.ready:
        if status.reachable:
            st.warning(NOT_READY)
            with st.expander("Details for the team"):
                st.code(status.message, language=None, wrap_lines=True)
        else:
            st.error(status.message)
        st.caption("This page works again as soon as the scoring service is ready.")
        st.button("Try again")
        st.stop()
    return client, status


def or_stop(call: Callable[..., T], *args: Any) -> T:
    """`call(*args)`; on a BackendError the page shows it and stops."""
    try:
        return call(*args)
    except BackendError as error:
        show_backend_error(error)
        st.stop()


def schema_and_card(client: BackendClient, status: BackendStatus) -> tuple[dict[str, Any], dict[str, Any]]:
    """GET /schema and /model of the served version (cached); on a BackendError the page shows it and stops."""
    schema = or_stop(cache.schema, client.settings, status.model_version)
    return schema, or_stop(cache.model_card, client.settings, status.model_version)


def show_backend_error(error: BackendError) -> None:
    """The error's message and, when the backend named lines or fields, a table of them (a static table: long
    messages wrap instead of being cut off)."""
    st.error(error.message)
    if error.problems:
        show_problems(problems_table(error.problems))


def show_problems(table: pd.DataFrame) -> None:
    """Problems by line (the spreadsheet's numbering: the header is line 1), column and message, wrapped."""
    shown = table.astype({"line": "string"}).fillna({"line": ""})
    st.table(shown.set_index("line") if shown["line"].ne("").any() else shown.drop(columns="line").set_index("column"))
