"""Query parameter parsing shared by routes."""

from __future__ import annotations

from typing import Any


def strip_text(value: Any) -> Any:
    """Surrounding blanks are not part of a query value (`?explain= no` means no)."""
    return value.strip() if isinstance(value, str) else value
