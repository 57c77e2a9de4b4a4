"""API keys for tests, made by the deploy CLI's own writer (deploy/api_keys.py), as in production."""

from __future__ import annotations

from pathlib import Path

from deploy.api_keys import SCOPES, ApiKeyStore

ALL_SCOPES = SCOPES
UNUSED_KEY = "crk_" + "0" * 43  # well-formed, for servers that check no key (fakes, closed ports)


def key_store(path: Path, **keys: tuple[str, ...]) -> dict[str, str]:
    """A key store at `path` with a key per name (its scopes); name -> key."""
    store = ApiKeyStore(path)
    store.ensure_exists()
    return {name: store.create(name.replace("_", "-"), scopes) for name, scopes in keys.items()}


def bearer(key: str) -> dict[str, str]:
    """The Authorization header of `key`."""
    return {"Authorization": f"Bearer {key}"}
