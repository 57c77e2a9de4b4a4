"""Pydantic models of the HTTP responses (the request model is generated from the bundle)."""
