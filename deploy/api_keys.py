"""The API key store the backends read (backend/app/auth/key_store.py): key names, the SHA-256 of each key, its
scopes, when it was created and whether it was revoked. A key is shown once, when it is created or rotated;
only its hash is kept. Revoked keys stay listed (their name is in the audit trail) and authenticate nobody."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from deploy.errors import UsageError
from deploy.json_store import editing, read_store
from deploy.state import now

STORE_VERSION = 1
KEY_PREFIX = "crk_"  # credit-risk key: easy to spot in a leaked file or a log
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
# The scopes the backend knows (backend/app/auth/scopes.py says what each one allows).
SCOPES = ("score", "read", "audit", "outcomes", "metrics", "probe", "on-behalf-of")


@dataclass(frozen=True)
class KeyRecord:
    name: str
    scopes: tuple[str, ...]
    created: str
    revoked: str | None
    sha256: str

    def matches(self, key: str) -> bool:
        return self.revoked is None and digest(key) == self.sha256


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    """A fresh key: 256 random bits."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def valid_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise UsageError(f"{name!r} is not a key name (lowercase letters, digits, . _ -; at most 64)")
    return name


def parse_scopes(text: str | Iterable[str]) -> tuple[str, ...]:
    """`score,read` (or a list) as known scopes, in the canonical order; UsageError naming an unknown one."""
    given = [s.strip() for s in (text.split(",") if isinstance(text, str) else text) if s.strip()]
    unknown = [s for s in given if s not in SCOPES]
    if unknown or not given:
        problem = f"unknown scope(s) {', '.join(map(repr, unknown))}" if unknown else "no scope given"
        raise UsageError(f"{problem}: choose from {', '.join(SCOPES)}")
    return tuple(s for s in SCOPES if s in given)


class ApiKeyStore:
    """The key store file at `path` (mounted read-only into the backends as /auth/api-keys.json)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def records(self) -> list[KeyRecord]:
        return sorted(
            (
                KeyRecord(name, tuple(entry["scopes"]), entry["created"], entry.get("revoked"), entry["sha256"])
                for name, entry in read_store(self.path, STORE_VERSION, "keys").items()
            ),
            key=lambda record: record.name,
        )

    def get(self, name: str) -> KeyRecord | None:
        return next((record for record in self.records() if record.name == name), None)

    def ensure_exists(self) -> None:
        """An empty store if there is none (the backends fail closed without a file)."""
        if not self.path.exists():
            with editing(self.path, STORE_VERSION, "keys"):
                pass

    def create(self, name: str, scopes: Iterable[str], replace: bool = False) -> str:
        """A new key named `name` (a revoked name may be reused; `replace`: an active one too); the key."""
        valid_name(name)
        scopes = parse_scopes(scopes)
        key = new_key()
        with editing(self.path, STORE_VERSION, "keys") as keys:
            current = keys.get(name)
            if current is not None and current.get("revoked") is None and not replace:
                raise UsageError(f"an active key named {name!r} exists: rotate or revoke it, or choose another name")
            keys[name] = {"sha256": digest(key), "scopes": list(scopes), "created": now(), "revoked": None}
        return key

    def rotate(self, name: str) -> str:
        """A new key for `name` (same scopes); the old one stops working at once."""
        record = self._active(name)
        return self.create(name, record.scopes, replace=True)

    def revoke(self, name: str) -> KeyRecord:
        self._active(name)
        with editing(self.path, STORE_VERSION, "keys") as keys:
            keys[name]["revoked"] = now()
        record = self.get(name)
        assert record is not None
        return record

    def _active(self, name: str) -> KeyRecord:
        record = self.get(valid_name(name))
        if record is None or record.revoked is not None:
            known = ", ".join(r.name for r in self.records() if r.revoked is None) or "none"
            raise UsageError(f"no active API key named {name!r} (active: {known})")
        return record
