"""Credit-default scoring service (FastAPI)."""
