"""An ARIA live region: screen readers read out what it says when it changes (a result, a refusal), without the
analyst having to move there."""

from __future__ import annotations

from html import escape

import streamlit as st


def announce(text: str) -> None:
    """Show `text` in a polite status region (one per page, at the same place on every run)."""
    st.markdown(f'<p role="status" aria-live="polite">{escape(text)}</p>', unsafe_allow_html=True)
