"""What every page needs: the client and backend status app.py just checked, and a stop on backend errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from analyst_ui import cache
from analyst_ui.batch import problems_table
from analyst_ui.client import BackendClient, BackendError, BackendStatus

BACKEND_KEY = "backend"
T = TypeVar("T")


def remember_backend(client: BackendClient, status: BackendStatus) -> None:
    """Keep this run's client and status for the page (app.py runs before every page)."""
    st.session_state[BACKEND_KEY] = (client, status)


def ready_backend() -> tuple[BackendClient, BackendStatus]:
    """The client and status of a ready backend; otherwise a friendly message and the page stops."""
    client, status = st.session_state[BACKEND_KEY]
    if not status.ready:
        st.error(status.message, icon=":material/cloud_off:")
        st.caption("This page works again as soon as the scoring service is ready.")
        st.button("Try again", icon=":material/refresh:")
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
    """The error's message and, when the backend named rows or fields, a table of them."""
    st.error(error.message, icon=":material/error:")
    if error.problems:
        st.dataframe(
            problems_table(error.problems),
            hide_index=True,
            column_config={
                "row": st.column_config.NumberColumn(width="small"),
                "column": st.column_config.TextColumn(width="medium"),
                "problem": st.column_config.TextColumn(width="large"),
            },
        )
        if any(problem.row is not None for problem in error.problems):
            st.caption("Rows count from 0: row 0 is the first line under the header.")
