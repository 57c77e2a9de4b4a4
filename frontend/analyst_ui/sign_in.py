"""Nothing but a sign-in until an analyst is signed in. Single sign-on with Streamlit's `st.login` when an OIDC
provider is configured in Streamlit's secrets (`[auth]`), else the built-in user store (name and password).
A session ends after UI_SESSION_MINUTES, or UI_SESSION_IDLE_MINUTES without activity, or on "Sign out"."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import streamlit as st

from analyst_ui.navigation import navigation
from analyst_ui.settings import Settings
from analyst_ui.users import UserDirectory, UserStoreError

SESSION_KEY = "sign_in.session"
NOTICE_KEY = "sign_in.notice"
REQUESTED_KEY = "sign_in.requested_url"  # the URL the analyst opened before signing in
# The name the backend records (X-On-Behalf-Of accepts these characters).
ANALYST_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")
OIDC_IDENTITY_CLAIMS = ("email", "preferred_username", "sub")


@dataclass
class Session:
    analyst: str
    method: str  # "password" or "single sign-on"
    started: float
    last_seen: float

    def expiry(self, settings: Settings, now: float) -> str | None:
        """Why the session is over (None: it is not)."""
        if now - self.started > settings.UI_SESSION_MINUTES * 60:
            return "Your session ended (signed in too long ago)."
        if now - self.last_seen > settings.UI_SESSION_IDLE_MINUTES * 60:
            return "Your session ended after a period without activity."
        return None


@st.cache_resource
def user_directory(path: str | None) -> UserDirectory:
    """One directory per store path and process (its failed-attempt counts are shared by the sessions)."""
    from pathlib import Path

    return UserDirectory(Path(path) if path else None)


def oidc_configured() -> bool:
    """An `[auth]` section in Streamlit's secrets: single sign-on replaces the built-in store."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all
        return False


def signed_in_analyst(settings: Settings) -> str:
    """The analyst of this session; otherwise the sign-in page is rendered and the script stops."""
    now = time.time()
    session: Session | None = st.session_state.get(SESSION_KEY)
    if session is not None:
        ended = session.expiry(settings, now)
        if ended is None:
            session.last_seen = now
            return session.analyst
        sign_out(ended)
    if REQUESTED_KEY not in st.session_state:
        st.session_state[REQUESTED_KEY] = st.context.url
    navigation(shown=False)  # no page runs; after a sign-out, the pages' links leave the sidebar
    if oidc_configured():
        return _single_sign_on(now)
    _password_page(settings, now)
    st.stop()


def requested_url() -> str | None:
    """The URL opened before the sign-in (once; None when there was none), to go on to that page."""
    return st.session_state.pop(REQUESTED_KEY, None)


def sign_out(notice: str = "You are signed out.") -> None:
    """End the session (and, for single sign-on, Streamlit's identity cookie)."""
    session: Session | None = st.session_state.pop(SESSION_KEY, None)
    st.session_state[NOTICE_KEY] = notice
    if session is not None and session.method == "single sign-on":
        st.logout()  # Streamlit redirects the browser to drop its identity cookie


def _heading() -> None:
    st.title("Credit risk · analyst sign-in")
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        st.info(notice, icon=":material/logout:")


def _single_sign_on(now: float) -> str:
    if not st.user.is_logged_in:
        _heading()
        st.button("Sign in with single sign-on", icon=":material/login:", type="primary", on_click=st.login)
        st.stop()
    identity = next((str(st.user[c]) for c in OIDC_IDENTITY_CLAIMS if st.user.get(c)), "")
    if not ANALYST_PATTERN.match(identity):
        _heading()
        st.error(f"Your account ({identity or 'no name'}) cannot be used here: please tell the team.")
        st.button("Sign out", on_click=st.logout)
        st.stop()
    issued = st.user.get("iat")  # the identity cookie outlives browser sessions: the session counts from sign-in
    started = float(issued) if isinstance(issued, (int, float)) else now
    st.session_state[SESSION_KEY] = Session(identity, "single sign-on", started, now)
    return identity


def _password_page(settings: Settings, now: float) -> None:
    _heading()
    directory = user_directory(str(settings.UI_USERS_PATH) if settings.UI_USERS_PATH else None)
    try:
        directory.hashes()
    except UserStoreError as exc:
        st.error(f"Nobody can sign in yet: {exc}. An operator adds analysts with `make user-add NAME=...`.")
        return
    with st.form("sign_in", enter_to_submit=True):
        name = st.text_input("Name", key="sign_in.name", autocomplete="username")
        password = st.text_input("Password", type="password", key="sign_in.password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", icon=":material/login:", type="primary")
    if not submitted:
        return
    wait = directory.locked_for(name)
    if wait > 0:
        st.error(f"Too many failed attempts for this name: try again in {wait / 60:.0f} minute(s).")
        return
    if not directory.verify(name, password):
        st.error("Wrong name or password.", icon=":material/lock:")
        return
    st.session_state[SESSION_KEY] = Session(name, "password", now, now)
    st.rerun()


def render_account(analyst: str) -> None:
    """The sidebar's "signed in as" line and the sign-out button."""
    with st.sidebar:
        st.caption(f"Signed in as **{analyst}**")
        st.button("Sign out", icon=":material/logout:", on_click=sign_out, key="sign_in.sign_out")
