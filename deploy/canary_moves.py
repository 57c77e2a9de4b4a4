"""Every change of a canary, for the CLI and the controller alike: start, the next step, abort, promotion and
supersession. Each writes nginx's bucket files (and at promotion the active-color marker), the canary record
and an event in the history with the figures that decided. Callers hold the operation lock.

Promotion first removes the split (every request on the stable color, which is healthy) and then flips the
marker to the canary color exactly as a switch does: no request ever goes to a color outside the two.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from deploy.canary_record import CANARY_FILE, CanaryFile, CanaryRecord
from deploy.canary_split import CanarySplit
from deploy.errors import UsageError
from deploy.nginx_config import ActiveFile
from deploy.state import Event, StateFile, now

OPERATION = "canary"


@dataclass
class CanaryMoves:
    """The files a canary changes, in the state directory (nginx's part under nginx/)."""

    state_dir: Path

    def __post_init__(self) -> None:
        self.record_file = CanaryFile(self.state_dir / CANARY_FILE)
        self.split = CanarySplit(self.state_dir / "nginx")
        self.active_file = ActiveFile(self.state_dir / "nginx")
        self.state = StateFile(self.state_dir / "state.json")

    def refuse_while_running(self, operation: str) -> None:
        """UsageError naming the running canary, if one runs: `operation` waits until it is promoted or aborted."""
        running = self.record_file.running()
        if running is not None:
            raise UsageError(
                f"a canary of {running.color} is running ({running.describe()}): `make promote` or `make abort` "
                f"before a {operation}; nothing was changed"
            )

    def begin(self, record: CanaryRecord, reason: str, figures: dict[str, Any]) -> None:
        self.record_file.save(record)
        self.split.write(record.weight)
        self._record(record.color, record.stable, "started", reason, figures, 0.0)

    def advance(self, record: CanaryRecord, figures: dict[str, Any], at: float) -> CanaryRecord:
        """The step passed: the next weight, from `at` on."""
        passed = f"{record.describe()} passed"
        moved = replace(record, step=record.step + 1, step_started_ts=at, figures={}, checked=now())
        self.record_file.save(moved)
        self.split.write(moved.weight)
        self._record(
            record.color,
            record.stable,
            "stepped",
            f"{passed}; now {moved.weight}% on {record.color}",
            {**figures, "weight": record.weight, "next_weight": moved.weight},
            at - record.step_started_ts,
        )
        return moved

    def abort(self, record: CanaryRecord, reason: str, figures: dict[str, Any]) -> CanaryRecord:
        """Every request back on the stable color."""
        self.split.write(0)
        verdict = f"aborted at {record.describe()}: {reason}; all traffic on {record.stable}"
        return self._end(record, "aborted", verdict, figures, record.stable, record.color)

    def promote(self, record: CanaryRecord, reason: str, figures: dict[str, Any]) -> CanaryRecord:
        """The canary color becomes the active one, its split removed."""
        self.split.write(0)
        self.active_file.write(record.color)
        verdict = f"promoted: {reason}; {record.color} receives all traffic"
        return self._end(record, "promoted", verdict, figures, record.color, record.stable)

    def supersede(self, record: CanaryRecord, reason: str) -> CanaryRecord:
        """The traffic moved by another way (a failover, a switch): the split is removed, nothing else moves."""
        self.split.write(0)
        return self._end(record, "superseded", reason, record.figures, record.stable, record.color)

    def _end(
        self, record: CanaryRecord, status: str, verdict: str, figures: dict[str, Any], target: str, source: str
    ) -> CanaryRecord:
        ended = replace(record, status=status, verdict=verdict, figures=figures, checked=now(), ended=now())
        self.record_file.save(ended)
        figures = {**figures, "weight": record.steps[record.step], "step": record.step + 1, "steps": record.steps}
        self._record(target, source, status, verdict, figures, time.time() - record.started_ts)
        return ended

    def _record(
        self, target: str, source: str, result: str, reason: str, figures: dict[str, Any], seconds: float
    ) -> None:
        colors = self.state.load().colors
        self.state.record(
            Event.happening(
                OPERATION, target, source, result, reason, seconds, colors.get(target), colors.get(source), figures
            )
        )
