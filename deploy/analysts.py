"""The analyst UI's built-in user store: analyst names and argon2id hashes of their passwords (never the
passwords). The frontends read it (frontend/analyst_ui/users.py) from the state directory, mounted read-only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher

from deploy.errors import UsageError
from deploy.json_store import editing, read_store
from deploy.state import now

STORE_VERSION = 1
# The name the audit trail records for the analyst (the backend accepts the same characters in X-On-Behalf-Of).
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")
MIN_PASSWORD_LENGTH = 12


@dataclass(frozen=True)
class Analyst:
    name: str
    created: str


def valid_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise UsageError(f"{name!r} is not an analyst name (letters, digits, . _ @ + -; at most 128)")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UsageError(f"the password is too short: at least {MIN_PASSWORD_LENGTH} characters")
    if password != password.strip():
        raise UsageError("the password starts or ends with blanks: type it without them")
    return password


class AnalystStore:
    """The user store file at `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def records(self) -> list[Analyst]:
        users = read_store(self.path, STORE_VERSION, "users")
        return [Analyst(name, entry["created"]) for name, entry in sorted(users.items())]

    def add(self, name: str, password: str, replace: bool = False) -> None:
        """Add `name` (or, with `replace`, set a new password for an existing one)."""
        valid_name(name)
        hashed = PasswordHasher().hash(check_password(password))
        with editing(self.path, STORE_VERSION, "users") as users:
            if name in users and not replace:
                raise UsageError(
                    f"the analyst {name!r} exists: use `make user-password NAME={name}` for a new password"
                )
            if replace and name not in users:
                raise UsageError(f"no analyst named {name!r}")
            users[name] = {"argon2": hashed, "created": users.get(name, {}).get("created", now())}

    def remove(self, name: str) -> None:
        with editing(self.path, STORE_VERSION, "users") as users:
            if users.pop(valid_name(name), None) is None:
                raise UsageError(f"no analyst named {name!r}")
