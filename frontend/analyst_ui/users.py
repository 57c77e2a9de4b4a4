"""The built-in user store (written by `make user-add`, deploy/analysts.py): analyst names and argon2id hashes,
re-read when the file changes. Verification costs the same whether the name exists or not, and a name with too
many failed attempts is locked for a while (per frontend process)."""

from __future__ import annotations

import json
import os
import threading
import time
from collections import defaultdict, deque
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MAX_FAILURES = 5
LOCK_SECONDS = 15 * 60
_HASHER = PasswordHasher()
_UNKNOWN_USER_HASH = _HASHER.hash("the same work for an unknown name as for a wrong password")


class UserStoreError(Exception):
    """The user store is missing or unreadable: nobody can sign in."""


class UserDirectory:
    """The analysts of the store at `path`, verified by password."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._signature: tuple[int, int] | None = None
        self._hashes: dict[str, str] = {}
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hashes(self) -> dict[str, str]:
        """name -> argon2 hash; UserStoreError saying why there are none to check against."""
        if self.path is None:
            raise UserStoreError("UI_USERS_PATH is not set")
        try:
            stat = os.stat(self.path)
        except OSError:
            raise UserStoreError(f"no user store at {self.path}") from None
        signature = (stat.st_ino, stat.st_mtime_ns)
        with self._lock:
            if signature != self._signature:
                try:
                    users = json.loads(self.path.read_text(encoding="utf-8"))["users"]
                    self._hashes = {name: entry["argon2"] for name, entry in users.items()}
                except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                    raise UserStoreError(f"the user store {self.path} is unreadable ({exc})") from None
                self._signature = signature
            return self._hashes

    def locked_for(self, name: str, now: float | None = None) -> float:
        """Seconds until `name` may try again (0: now)."""
        now = time.time() if now is None else now
        with self._lock:
            failures = self._failures[name]
            while failures and failures[0] < now - LOCK_SECONDS:
                failures.popleft()
            return failures[0] + LOCK_SECONDS - now if len(failures) >= MAX_FAILURES else 0.0

    def verify(self, name: str, password: str) -> bool:
        """True when `name` exists and `password` is theirs; failures count towards the lock."""
        hashed = self.hashes().get(name)
        try:
            ok = _HASHER.verify(hashed or _UNKNOWN_USER_HASH, password) and hashed is not None
        except (VerificationError, InvalidHashError):
            ok = False
        with self._lock:
            if ok:
                self._failures.pop(name, None)
            else:
                self._failures[name].append(time.time())
        return ok
