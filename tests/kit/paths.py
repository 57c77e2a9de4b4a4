"""Where the project's parts are, for tests that start them."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BACKEND_DIR = ROOT / "backend"
FRONTEND_DIR = ROOT / "frontend"
UI_SCRIPT = FRONTEND_DIR / "app.py"
DATASET = ROOT / "data" / "german_credit.csv"
