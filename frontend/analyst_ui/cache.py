"""Answers that only change with the model: cached per backend URL and model version."""

from __future__ import annotations

from typing import Any

import streamlit as st

from analyst_ui.client import BackendClient
from analyst_ui.settings import Settings

TTL_SECONDS = 600


@st.cache_data(ttl=TTL_SECONDS, max_entries=16, show_spinner=False)
def schema(settings: Settings, model_version: str) -> dict[str, Any]:
    """GET /schema of this model version."""
    return BackendClient(settings).schema()


@st.cache_data(ttl=TTL_SECONDS, max_entries=16, show_spinner=False)
def model_card(settings: Settings, model_version: str) -> dict[str, Any]:
    """GET /model of this model version."""
    return BackendClient(settings).model_card()


@st.cache_data(ttl=TTL_SECONDS, max_entries=64, show_spinner=False)
def plot(settings: Settings, model_version: str, name: str) -> bytes:
    """GET /model/plots/{name} of this model version."""
    return BackendClient(settings).plot(name)
