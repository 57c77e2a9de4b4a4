"""The page registry: add a page by adding one line here and its script under views/."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import streamlit as st
from streamlit.navigation.page import StreamlitPage


@dataclass(frozen=True)
class PageSpec:
    script: str  # relative to frontend/app.py
    title: str
    icon: str
    url_path: str


PAGES = (
    PageSpec("views/score.py", "Score an applicant", ":material/person_search:", "score"),
    PageSpec("views/batch.py", "Batch scoring", ":material/table_view:", "batch"),
    PageSpec("views/model_card.py", "Model card", ":material/model_training:", "model"),
    PageSpec("views/monitoring.py", "Monitoring", ":material/monitoring:", "monitoring"),
    PageSpec("views/challenger.py", "Challenger", ":material/compare_arrows:", "challenger"),
)


def _home() -> None:
    """The site root: on to the first page, at its own URL (so /score opened directly is that page, not the
    "page not found" a default page's URL path gives)."""
    st.switch_page(PAGES[0].script)


def navigation(shown: bool = True) -> StreamlitPage:
    """The sidebar navigation over PAGES, each at its URL path; the root leads to the first page. `shown=False` (the
    sign-in) keeps the pages registered, so a deep link is no "page not found", but takes the navigation a session
    had off the page."""
    home = st.Page(_home, title=PAGES[0].title, url_path="home", default=True, visibility="hidden")
    pages = [st.Page(spec.script, title=spec.title, icon=spec.icon, url_path=spec.url_path) for spec in PAGES]
    return st.navigation([home, *pages], position="sidebar" if shown else "hidden")


def page_of(url: str | None) -> tuple[PageSpec, dict[str, str]] | None:
    """The page a URL names, with its query parameters (None for the root and unknown paths)."""
    if not url:
        return None
    parts = urlsplit(url)
    name = parts.path.rstrip("/").rsplit("/", 1)[-1]
    spec = next((spec for spec in PAGES if spec.url_path == name), None)
    return (spec, dict(parse_qsl(parts.query))) if spec else None


def go_on_to(url: str | None) -> None:
    """After the sign-in, the page the analyst had opened (a deep link such as /monitoring?window=24h)."""
    found = page_of(url)
    if found is not None:
        spec, query = found
        st.switch_page(spec.script, query_params=query)
