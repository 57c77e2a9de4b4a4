"""The page registry: add a page by adding one line here and its script under views/."""

from __future__ import annotations

from dataclasses import dataclass

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
)


def navigation() -> StreamlitPage:
    """The sidebar navigation over PAGES; the first page is the default one."""
    pages = [
        st.Page(spec.script, title=spec.title, icon=spec.icon, url_path=spec.url_path, default=index == 0)
        for index, spec in enumerate(PAGES)
    ]
    return st.navigation(pages)
