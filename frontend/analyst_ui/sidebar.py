"""The sidebar of every page: is the scoring service up and which model version answers (in an analyst's words:
which deployment color serves is the operators' business, shown on their dashboards, not here)."""

from __future__ import annotations

import streamlit as st

from analyst_ui.client import BackendStatus


def render_sidebar(status: BackendStatus, ui_revision: str) -> None:
    with st.sidebar:
        st.subheader("Scoring service")
        with st.container(horizontal=True):
            if status.ready:
                st.badge("Ready", icon=":material/check_circle:", color="green")
            elif status.reachable:
                st.badge("No model ready yet", icon=":material/hourglass_top:", color="orange")
            else:
                st.badge("Unreachable", icon=":material/cloud_off:", color="red")
        st.metric("Model version", status.model_version or "—")
        st.caption(f"Backend: `{status.url}`")
        st.caption(f"Release: UI `{short(ui_revision)}` · scoring service `{short(status.revision or 'unknown')}`")


def short(revision: str) -> str:
    """A git revision as people read it (12 characters, plus any `-dirty-…` suffix)."""
    head, _, rest = revision.partition("-")
    return head[:12] + (f"-{rest}" if rest else "")
