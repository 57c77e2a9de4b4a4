"""The running canary, as the CLI starts it and the controller drives it: canary.json in the state directory,
changed under the operation lock and replaced atomically (like state.json).

status: running | promoted | aborted | superseded (the traffic moved by another way while it ran).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from deploy.canary_split import check_weight
from deploy.errors import DeployError, UsageError
from deploy.files import write_atomic

CANARY_FILE = "canary.json"
RUNNING = "running"
MAX_STEPS = 20


def parse_steps(text: str) -> list[int]:
    """`10,50,100` as weights; UsageError unless whole numbers 1..100, strictly increasing, ending at 100 (the
    last step is the whole traffic on the canary, judged before it is promoted)."""
    parts = [part.strip() for part in text.split(",")]
    if not text.strip() or any(not part.isdigit() for part in parts):
        raise UsageError(f"--steps must be whole numbers separated by commas (e.g. 10,50,100), got {text!r}")
    steps = [check_weight(int(part)) for part in parts]
    if steps[0] < 1:
        raise UsageError(f"--steps must start above 0 (weight 0 is no canary), got {text!r}")
    if any(b <= a for a, b in zip(steps, steps[1:])):
        raise UsageError(f"--steps must be strictly increasing, got {text!r}")
    if steps[-1] != 100:
        raise UsageError(f"--steps must end at 100 (the canary takes all traffic before it is promoted), got {text!r}")
    if len(steps) > MAX_STEPS:
        raise UsageError(f"--steps may hold at most {MAX_STEPS} weights, got {len(steps)}")
    return steps


@dataclass
class CanaryRecord:
    """A canary of `color` (the idle color) against `stable` (the active one), stepping through `steps`."""

    color: str
    stable: str
    steps: list[int]
    started: str  # ISO time, for people
    started_ts: float  # epoch seconds, for Prometheus queries
    step_window_s: float
    release: dict[str, Any] | None = None
    step: int = 0  # index into steps
    step_started_ts: float = 0.0
    status: str = RUNNING
    verdict: str = ""
    figures: dict[str, Any] = field(default_factory=dict)  # the current step's last analysis
    checked: str | None = None
    ended: str | None = None

    @property
    def weight(self) -> int:
        return self.steps[self.step] if self.status == RUNNING else 0

    @property
    def last_step(self) -> bool:
        return self.step == len(self.steps) - 1

    @property
    def step_ends_ts(self) -> float:
        return self.step_started_ts + self.step_window_s

    def describe(self) -> str:
        return f"step {self.step + 1}/{len(self.steps)} at {self.steps[self.step]}% on {self.color}"


class CanaryFile:
    """canary.json: the last canary (running or ended)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> CanaryRecord | None:
        if not self.path.exists():
            return None
        try:
            return CanaryRecord(**json.loads(self.path.read_text(encoding="utf-8")))
        except (ValueError, TypeError) as exc:
            raise DeployError(f"canary file {self.path} is unreadable ({exc}); fix or delete it") from None

    def running(self) -> CanaryRecord | None:
        record = self.load()
        return record if record is not None and record.status == RUNNING else None

    def save(self, record: CanaryRecord) -> None:
        write_atomic(self.path, json.dumps(asdict(record), indent=2) + "\n")
