"""The analyst the UI tests sign in as (the built-in store, written by the deploy CLI's code)."""

from __future__ import annotations

from pathlib import Path

from deploy.analysts import AnalystStore

ANALYST, PASSWORD = "alice", "correct horse battery staple"


def analyst_store(path: Path) -> Path:
    """A user store at `path` holding ANALYST."""
    AnalystStore(path).add(ANALYST, PASSWORD)
    return path
