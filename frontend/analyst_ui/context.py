"""What every page needs: a client for BACKEND_URL and the backend status the sidebar just checked."""

from __future__ import annotations

import streamlit as st

from analyst_ui.batch import problems_table
from analyst_ui.client import BackendClient, BackendError, BackendStatus
from analyst_ui.settings import Settings

STATUS_KEY = "backend_status"


def remember_status(status: BackendStatus) -> None:
    st.session_state[STATUS_KEY] = status


def ready_backend() -> tuple[BackendClient, BackendStatus]:
    """The client and status of a ready backend; otherwise a friendly message and the page stops."""
    status: BackendStatus = st.session_state[STATUS_KEY]
    if not status.ready:
        st.error(status.message, icon=":material/cloud_off:")
        st.caption("This page works again as soon as the scoring service is ready.")
        st.button("Try again", icon=":material/refresh:")
        st.stop()
    return BackendClient(Settings.from_env()), status


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
