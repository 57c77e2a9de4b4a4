"""The deployment state file: each stack's pinned model version and the history of switch attempts."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from deploy.errors import DeployError
from deploy.files import write_atomic

HISTORY_LIMIT = 200


@dataclass(frozen=True)
class Attempt:
    """One switch attempt. result: switched | refused | rolled back | already active | failed."""

    time: str
    source: str
    target: str
    source_version: str | None
    target_version: str | None
    result: str
    reason: str
    seconds: float

    @staticmethod
    def now() -> str:
        return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class DeployState:
    versions: dict[str, str] = field(default_factory=dict)  # color -> model version it is pinned to
    history: list[Attempt] = field(default_factory=list)


class StateFile:
    """state.json in the state directory, replaced atomically on every change."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> DeployState:
        if not self.path.exists():
            return DeployState()
        try:
            raw: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
            return DeployState(
                versions={str(k): str(v) for k, v in raw.get("versions", {}).items()},
                history=[Attempt(**entry) for entry in raw.get("history", [])],
            )
        except (ValueError, TypeError, AttributeError) as exc:
            raise DeployError(f"state file {self.path} is unreadable ({exc}); fix or delete it") from None

    def save(self, state: DeployState) -> None:
        raw = {
            "versions": state.versions,
            "history": [asdict(a) for a in state.history[-HISTORY_LIMIT:]],
        }
        write_atomic(self.path, json.dumps(raw, indent=2) + "\n")

    def pin(self, color: str, version: str) -> None:
        state = self.load()
        state.versions[color] = version
        self.save(state)

    def record(self, attempt: Attempt) -> None:
        state = self.load()
        state.history.append(attempt)
        self.save(state)
