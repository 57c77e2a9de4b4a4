"""Analyst UI entry point: `streamlit run frontend/app.py` (BACKEND_URL says where the scoring service is).
Nothing but the sign-in shows until an analyst is signed in; the pages then call the backend on their behalf."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from analyst_ui.client import BackendClient
from analyst_ui.context import remember_backend
from analyst_ui.navigation import go_on_to, navigation
from analyst_ui.settings import Settings, SettingsError
from analyst_ui.sidebar import render_sidebar
from analyst_ui.sign_in import render_account, requested_url, signed_in_analyst

st.set_page_config(
    page_title="Credit risk · analyst",
    page_icon=str(Path(__file__).parent / "assets" / "favicon.png"),  # served by the UI itself: no font host
    layout="wide",
    initial_sidebar_state="expanded",
)
try:
    settings = Settings.from_env().for_route(st.context.headers.get("X-Stack-Route"))
except SettingsError as exc:
    st.error(f"The UI is misconfigured: {exc}.", icon=":material/settings:")
    st.stop()
analyst = signed_in_analyst(settings)  # renders the sign-in and stops until someone is signed in
page = navigation()
go_on_to(requested_url())
client = BackendClient(settings, analyst)
status = client.status()
remember_backend(client, status)
render_sidebar(status, settings.APP_REVISION)
render_account(analyst)
page.run()
