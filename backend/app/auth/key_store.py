"""The API key store: a JSON file of key names, the SHA-256 of each key, its scopes and whether it is revoked.

The deploy CLI writes it (deploy/api_keys.py, always by atomic rename); both colors read the same file,
mounted read-only. Keys are 256-bit random strings, so one SHA-256 is as good as a slow password hash
against guessing, and authenticating a request is a hash and a dict lookup. The file is re-read when it
changes (its inode, size or modification time), checked at most every `recheck_s`, so a new, rotated or
revoked key takes effect without a restart. A missing or unreadable store fails closed: every lookup
raises KeyStoreUnavailable with the reason (and the log says so once).
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

logger = logging.getLogger(__name__)

STORE_VERSION = 1
HEX_SHA256 = r"^[0-9a-f]{64}$"


class KeyStoreUnavailable(Exception):
    """The key store cannot be used (missing, unreadable, corrupt): nobody can be authenticated."""


class _StoredKey(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sha256: str = Field(pattern=HEX_SHA256)
    scopes: list[str]
    created: str
    revoked: str | None = None


class _StoreFile(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: Literal[1]
    keys: dict[str, _StoredKey]


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A known key: its name (the author of its requests), scopes and whether it was revoked."""

    name: str
    scopes: frozenset[str]
    revoked: bool


def key_digest(token: str) -> str:
    """The hex SHA-256 the store keeps of a key."""
    return hashlib.sha256(token.encode()).hexdigest()


def parse_store(text: str | bytes) -> dict[str, ApiKey]:
    """The keys of a store file's content, by digest; ValueError naming the problem if it is not a key store."""
    try:
        raw = _StoreFile.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"])) or "the file"
        raise ValueError(f"not a key store (version {STORE_VERSION}): {where}: {first['msg']}") from None
    return {
        stored.sha256: ApiKey(name, frozenset(stored.scopes), stored.revoked is not None)
        for name, stored in raw.keys.items()
    }


class KeyStore:
    """The store at `path`, cached and re-read when the file changes; lookups never touch the disk otherwise."""

    def __init__(self, path: Path, recheck_s: float = 1.0, clock=time.monotonic) -> None:
        self.path = Path(path)
        self.recheck_s = recheck_s
        self.clock = clock
        self._keys: dict[str, ApiKey] = {}
        self._signature: tuple[int, int, int] | None = None
        self._problem: str | None = "the key store was not read yet"
        self._failed = False  # the last read failed (a success after it is logged as a recovery)
        self._next_check = 0.0

    def check(self) -> str | None:
        """Why nobody can be authenticated right now (None: the store is usable)."""
        self._refresh()
        return self._problem

    problem = property(check)

    def lookup(self, token: str) -> ApiKey | None:
        """The key `token` is (None: unknown); KeyStoreUnavailable if the store cannot be used."""
        self._refresh()
        if self._problem is not None:
            raise KeyStoreUnavailable(self._problem)
        return self._keys.get(key_digest(token))

    def _refresh(self) -> None:
        now = self.clock()
        if now < self._next_check:
            return
        self._next_check = now + self.recheck_s
        try:
            stat = os.stat(self.path)
        except OSError as exc:
            self._fail(f"the API key store {self.path} cannot be read: {exc.strerror or exc}", None)
            return
        signature = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if signature == self._signature:
            return
        try:
            keys = parse_store(self.path.read_bytes())
        except (OSError, ValueError) as exc:
            self._fail(f"the API key store {self.path} is unusable: {exc}", signature)
            return
        recovered = self._failed
        self._keys, self._signature, self._problem, self._failed = keys, signature, None, False
        logger.log(
            logging.WARNING if recovered else logging.INFO,
            "API key store %s: %d key(s), %d revoked%s",
            self.path,
            len(keys),
            sum(key.revoked for key in keys.values()),
            " (usable again)" if recovered else "",
        )

    def _fail(self, problem: str, signature: tuple[int, int, int] | None) -> None:
        if problem != self._problem:
            logger.error("%s: every authenticated request is refused (503) until it is fixed", problem)
        self._keys, self._signature, self._problem, self._failed = {}, signature, problem, True
