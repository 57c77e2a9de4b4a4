"""The controller's side of a canary: each round it looks at the running canary (canary.json, started by the CLI)
and, every analysis interval, judges its current step; a failing analysis aborts at once, a step that passed
its window moves to the next weight, and the last step (100 %) that passed is promoted.

A step is judged only with enough requests on the canary; without them (too little traffic, or Prometheus not
answering) it waits, and a step still unjudged after UNJUDGED_AFTER windows is aborted: an unjudged canary is
never promoted. The canary color failing its readiness probes aborts without waiting for Prometheus. Every move
takes the operation lock without waiting (a CLI operation goes first; the next round tries again).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from deploy.alerts import AlertSender, alert
from deploy.canary_moves import CanaryMoves
from deploy.canary_record import CanaryRecord
from deploy.controller.canary_analysis import analyse_step
from deploy.controller.probes import ProbeTrack
from deploy.controller.watch import Analysis
from deploy.controller_config import ControllerConfig
from deploy.errors import UsageError
from deploy.lock import operation_lock
from deploy.prometheus import MetricsUnavailable, Prometheus
from deploy.state import now

logger = logging.getLogger("deploy.controller.canary")
UNJUDGED_AFTER = 3  # step windows


@dataclass
class CanaryDriver:
    state_dir: Path
    prometheus: Prometheus
    alerts: AlertSender
    next_analysis_at: float = 0.0
    prometheus_error: str | None = None

    def __post_init__(self) -> None:
        self.moves = CanaryMoves(self.state_dir)

    def tick(self, active: str, tracks: dict[str, ProbeTrack], config: ControllerConfig, at: float) -> None:
        record = self.moves.record_file.running()
        if record is None:
            return
        if active != record.stable:
            self._move("supersede", lambda r: self.moves.supersede(r, f"traffic moved to {active} while it ran"))
            return
        track = tracks[record.color]
        if track.failures >= config.failover.after_failed_probes:
            detail = track.last.detail if track.last else "?"
            self._abort(f"{track.failures} failed readiness probes in a row (last: {detail})", record.figures)
            return
        if at < self.next_analysis_at:
            return
        self.next_analysis_at = at + config.canary.analysis_interval_s
        self.judge(record, config, at)

    def judge(self, record: CanaryRecord, config: ControllerConfig, at: float) -> None:
        """One analysis of the current step, and what follows from it."""
        try:
            analysis: Analysis | None = analyse_step(self.prometheus, record, config.canary, at)
            self.prometheus_error = None
        except MetricsUnavailable as exc:
            analysis, self.prometheus_error = None, str(exc)
            logger.warning("canary of %s not analysed: %s", record.color, exc)
        if analysis is not None and analysis.problems:
            self._abort("; ".join(analysis.problems), analysis.figures)
            return
        figures = analysis.figures if analysis is not None else record.figures
        judged = analysis is not None and analysis.figures["judged"]
        if at < record.step_ends_ts or not judged:
            if at >= record.step_started_ts + UNJUDGED_AFTER * record.step_window_s:
                why = self.prometheus_error or f"fewer than {config.canary.min_requests} scoring requests on it"
                self._abort(f"{record.describe()} was not judged within {UNJUDGED_AFTER} windows: {why}", figures)
                return
            self._move("analysis", lambda r: self._save(replace(r, figures=figures, checked=now())))
            return
        if record.last_step:
            reason = (
                f"every step passed, the last with {figures.get('requests')} requests, {figures.get('errors_5xx')} 5xx"
            )
            if self._move("promote", lambda r: self.moves.promote(r, reason, figures)):
                logger.warning("CANARY PROMOTED: %s receives all traffic", record.color)
            return
        if self._move("step", lambda r: self.moves.advance(r, figures, at)):
            logger.info("canary of %s: %s passed (%s)", record.color, record.describe(), figures)

    def _abort(self, reason: str, figures: dict[str, Any]) -> None:
        ended = self._move("abort", lambda r: self.moves.abort(r, reason, figures))
        if ended is None:
            return
        logger.warning("CANARY ABORTED: %s", ended.verdict)
        self.alerts.send(
            alert("CanaryAborted", f"the canary of {ended.color} was aborted: {reason}", color=ended.color)
        )

    def _save(self, record: CanaryRecord) -> CanaryRecord:
        self.moves.record_file.save(record)
        return record

    def _move(self, what: str, change) -> CanaryRecord | None:
        """`change` applied to the running canary under the operation lock (None: deferred, or it ended)."""
        try:
            with operation_lock(self.state_dir, f"canary {what}", 0.0, logger.info):
                record = self.moves.record_file.running()
                return None if record is None else change(record)
        except UsageError as exc:
            logger.info("canary %s deferred: %s", what, exc)
            return None
