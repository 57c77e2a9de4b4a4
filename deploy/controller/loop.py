"""The controller's loop: each round probes both colors, fails the traffic over when the active color fails,
judges the watched color and a running canary (controller/canary.py) and writes what it sees for `make status`.

Every move takes the operation lock without waiting (a CLI operation in progress goes first; the controller
tries again next round), flips the same marker the CLI flips, and is recorded in the history with the
figures that decided and alerted through Alertmanager. Without Prometheus the controller says so, keeps its
last decision and never moves traffic on missing data; the probes alone still fail a dead color over.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from deploy.alerts import AlertSender, alert
from deploy.controller.canary import CanaryDriver
from deploy.controller.failover import Decision, decide
from deploy.controller.metrics import WATCH_LEVEL, ControllerMetrics
from deploy.controller.probes import ProbeResult, ProbeTrack, Prober, probe_status
from deploy.controller.queries import scoring_rate
from deploy.controller.settings import ControllerSettings
from deploy.controller.watch import Analysis, analyse
from deploy.controller_config import ControllerConfig, load_controller_config
from deploy.errors import UsageError
from deploy.files import write_atomic
from deploy.lock import operation_lock
from deploy.nginx_config import ActiveFile
from deploy.prometheus import MetricsUnavailable, Prometheus
from deploy.service_keys import read_key
from deploy.settings import COLORS, other
from deploy.state import WATCHING, DeployState, Event, StateFile, WatchRecord, now

logger = logging.getLogger("deploy.controller")
PROMETHEUS_ALERT_AFTER_S = 30.0
BLOCKED_LOG_EVERY_S = 30.0
MIN_ERROR_WINDOW_S = 10.0  # two scrapes: less is no basis for a failover on 5xx
NGINX_DOWN_AFTER = 1  # failed status probes: nginx answers its status page from memory, one miss is an outage


def parse_iso(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")


class ConfigSource:
    """The bounds file, re-read when it changes; a bad new version is logged and the last good one kept."""

    def __init__(self, path) -> None:
        self.path = path
        self.mtime: float | None = None
        self.config: ControllerConfig = load_controller_config(path)
        self.mtime = path.stat().st_mtime

    def get(self) -> ControllerConfig:
        try:
            mtime = self.path.stat().st_mtime
        except OSError:
            return self.config
        if mtime != self.mtime:
            self.mtime = mtime
            try:
                self.config = load_controller_config(self.path)
                logger.info("bounds re-read from %s", self.path)
            except UsageError as exc:
                logger.error("%s; keeping the previous bounds", exc)
        return self.config


@dataclass
class Controller:
    settings: ControllerSettings
    config: ConfigSource
    prometheus: Prometheus
    alerts: AlertSender
    metrics: ControllerMetrics
    clock: Any = time.time
    prober: Prober = field(init=False)
    last_move_at: float | None = None
    error_breaches: int = 0
    active_color: str | None = None
    active_since: float = float("-inf")  # when traffic last moved to the active color (unknown at start)
    next_analysis_at: float = 0.0
    prometheus_error: str | None = None
    prometheus_down_since: float | None = None
    prometheus_alerted: bool = False
    blocked: str | None = None  # why a failing active color keeps the traffic
    blocked_logged_at: float = 0.0
    last_status_at: float = 0.0
    nginx: ProbeTrack = field(default_factory=ProbeTrack)
    nginx_down_at: float | None = None

    def __post_init__(self) -> None:
        self.prober = Prober(
            self.settings.STACK_NET,
            self.config.config.probe.timeout_s,
            api_key=lambda: read_key(self.settings.api_key_path),
        )
        self.state_file = StateFile(self.settings.DEPLOY_STATE_DIR / "state.json")
        self.active_file = ActiveFile(self.settings.DEPLOY_STATE_DIR / "nginx")
        self.canary = CanaryDriver(self.settings.DEPLOY_STATE_DIR, self.prometheus, self.alerts)
        moves = [e for e in self.state_file.load().history if e.operation == "failover" and e.result == "failed over"]
        if moves:  # the cool-down survives a restart of the controller
            self.last_move_at = parse_iso(moves[-1].time)

    # -- the round ---------------------------------------------------------------------------------------------
    def tick(self) -> None:
        config = self.config.get()
        at = self.clock()
        self.prober.timeout_s = config.probe.timeout_s
        before = {color: track.last for color, track in self.prober.tracks.items()}
        nginx_probe = self.prober.submit(probe_status, self.settings.nginx_status_url)
        self.prober.probe_all(at)
        self._log_probe_changes(before)
        self._watch_nginx(at, nginx_probe.result())
        active = self.active_file.active()
        state = self.state_file.load()
        self._export(active, state)
        if active != self.active_color:
            if self.active_color is not None:
                self.active_since, self.error_breaches = at, 0
            self.active_color = active
        if at >= self.next_analysis_at:
            self.next_analysis_at = at + config.watch.analysis_interval_s
            self._check_errors(active, config, at)
            self._watch(active, state, config, at)
        decision = decide(
            active,
            other(active),
            self.prober.tracks,
            state.colors.get(other(active)),
            state.history,
            self.error_breaches,
            config.failover,
            at,
            self.last_move_at,
        )
        if decision is not None:
            self._act(active, decision, at)
        elif self.blocked is not None:
            logger.info("%s is healthy again", active)
            self.blocked = None
        self.canary.tick(self.active_file.active(), self.prober.tracks, config, at)
        if at - self.last_status_at >= self.settings.STATUS_EVERY_S:
            self.last_status_at = at
            self._write_status(active, at)

    def run(self, stop) -> None:
        """Rounds every probe interval until `stop` (a threading.Event) is set; a failing round is logged."""
        logger.info(
            "watching %s.11 (blue) and %s.21 (green); bounds from %s",
            self.settings.STACK_NET,
            self.settings.STACK_NET,
            self.config.path,
        )
        while not stop.is_set():
            started = time.monotonic()
            try:
                self.tick()
            except Exception:  # one bad round must not stop the watch; the next one starts fresh
                logger.exception("controller round failed")
            stop.wait(max(0.0, self.config.config.probe.interval_s - (time.monotonic() - started)))

    # -- failover ----------------------------------------------------------------------------------------------
    def _act(self, active: str, decision: Decision, at: float) -> None:
        if not decision.move:
            if self.blocked is None or at - self.blocked_logged_at >= BLOCKED_LOG_EVERY_S:
                logger.warning(decision.reason)
                self.blocked_logged_at = at
            self.blocked = decision.reason
            return
        idle = other(active)
        try:
            with operation_lock(self.settings.DEPLOY_STATE_DIR, f"failover to {idle}", 0.0, logger.info):
                if self.active_file.active() != active:
                    return  # someone moved the traffic meanwhile
                self.active_file.write(idle)
                state = self.state_file.load()
                event = self._event("failover", idle, active, "failed over", decision.reason, state, decision.figures)
                self.state_file.set_watch(self._superseded(state.watch, f"failed over to {idle}"), event)
        except UsageError as exc:
            logger.warning("failover to %s deferred: %s", idle, exc)
            return
        self.last_move_at = at
        self.error_breaches = 0
        self.active_color, self.active_since = idle, at
        self.blocked = None
        self.metrics.moves.labels("failover", idle).inc()
        logger.warning("FAILED OVER to %s: %s", idle, decision.reason)
        self.alerts.send(
            alert("TrafficFailedOver", f"traffic moved from {active} to {idle}: {decision.reason}", color=idle)
        )

    def _check_errors(self, active: str, config: ControllerConfig, at: float) -> None:
        """Count consecutive analyses in which the active color's 5xx ratio is above the failover bound, over its
        answers since it became active (a color switched to again must not pay for its previous stint's errors)."""
        seconds = min(config.failover.error_window_s, at - self.active_since)
        if seconds < MIN_ERROR_WINDOW_S:
            self.error_breaches = 0
            return
        window = f"{seconds:.0f}s"
        try:
            rate = self.prometheus.value(scoring_rate(active, window)) or 0.0
            errors = self.prometheus.value(scoring_rate(active, window, status="5..")) or 0.0
        except MetricsUnavailable as exc:
            self._prometheus_failed(str(exc), at)
            return
        self._prometheus_answered()
        breach = rate >= config.failover.min_requests_per_s and errors / rate > config.failover.max_5xx_ratio
        self.error_breaches = self.error_breaches + 1 if breach else 0

    # -- the watch ---------------------------------------------------------------------------------------------
    def _watch(self, active: str, state: DeployState, config: ControllerConfig, at: float) -> None:
        watch = state.watch
        if watch is None or watch.status != WATCHING:
            return
        if active != watch.color:
            self._update_watch(self._superseded(watch, f"traffic went to {active} before the window ended"))
            return
        try:
            analysis = analyse(self.prometheus, watch, config.watch, at)
        except MetricsUnavailable as exc:
            self._prometheus_failed(str(exc), at)
            analysis = None
        else:
            self._prometheus_answered()
        if analysis is not None and analysis.problems:
            self._roll_back(watch, analysis, state)
            return
        figures = dict(watch.figures)
        if analysis is not None:
            figures.update(analysis.figures, analyses=figures.get("analyses", 0) + 1)
        if at < watch.ends_ts:
            self._update_watch(replace(watch, figures=figures, checked=now()))
            return
        if figures.get("analyses"):
            status, verdict = "passed", f"{watch.color} passed its {watch.window_s:.0f}s watch"
        else:
            status, verdict = "inconclusive", f"not judged: {self.prometheus_error or 'no analysis'}; traffic stays"
        done = replace(watch, status=status, verdict=verdict, figures=figures, checked=now())
        event = self._event("watch", watch.color, watch.previous, status, verdict, state, figures)
        self._update_watch(done, event)
        logger.info("watch of %s: %s", watch.color, verdict)

    def _roll_back(self, watch: WatchRecord, analysis: Analysis, state: DeployState) -> None:
        reason = "; ".join(analysis.problems)
        previous = self.prober.tracks[watch.previous]
        if previous.last is None or not previous.last.ok:
            verdict = f"{watch.color} failed its watch ({reason}) but {watch.previous} is not ready: traffic stays"
            done = replace(watch, status="failed", verdict=verdict, figures=analysis.figures, checked=now())
            self._update_watch(
                done, self._event("watch", watch.color, watch.previous, "failed", verdict, state, analysis.figures)
            )
            logger.error(verdict)
            self.alerts.send(alert("WatchFailed", verdict, color=watch.color))
            return
        try:
            with operation_lock(self.settings.DEPLOY_STATE_DIR, f"rollback to {watch.previous}", 0.0, logger.info):
                if self.active_file.active() != watch.color:
                    return
                self.active_file.write(watch.previous)
                state = self.state_file.load()
                verdict = f"rolled back to {watch.previous}: {reason}"
                done = replace(watch, status="rolled back", verdict=verdict, figures=analysis.figures, checked=now())
                event = self._event(
                    "watch", watch.previous, watch.color, "rolled back", reason, state, analysis.figures
                )
                self.state_file.set_watch(done, event)
        except UsageError as exc:
            logger.warning("rollback of %s deferred: %s", watch.color, exc)
            return
        self.active_color, self.active_since, self.error_breaches = watch.previous, self.clock(), 0
        self.metrics.moves.labels("rollback", watch.previous).inc()
        logger.warning("ROLLED BACK %s -> %s: %s", watch.color, watch.previous, reason)
        self.alerts.send(
            alert(
                "SwitchRolledBack", f"{watch.color} failed its watch and was rolled back: {reason}", color=watch.color
            )
        )

    def _update_watch(self, watch: WatchRecord | None, event: Event | None = None) -> None:
        """Bookkeeping, not an operation: under the state file's own lock, never the operation lock (an
        operator's command started meanwhile runs; a newer switch's watch is kept)."""
        self.state_file.set_watch(watch, event, unless_replaced=True)

    @staticmethod
    def _superseded(watch: WatchRecord | None, why: str) -> WatchRecord | None:
        if watch is None or watch.status != WATCHING:
            return watch
        return replace(watch, status="superseded", verdict=why, checked=now())

    def _event(
        self, operation: str, target: str, source: str, result: str, reason: str, state: DeployState, figures: dict
    ) -> Event:
        releases = state.colors
        return Event.happening(
            operation,
            target,
            source,
            result,
            reason,
            0.0,
            releases.get(target),
            releases.get(source),
            figures,
        )

    # -- nginx -------------------------------------------------------------------------------------------------
    def _watch_nginx(self, at: float, probe: ProbeResult) -> None:
        """Alert when nginx stops answering (the guard starts it again if it was killed); record the outage."""
        was_down = self.nginx.failures >= NGINX_DOWN_AFTER
        self.nginx.add(probe, at)
        down = self.nginx.failures >= NGINX_DOWN_AFTER
        if down and not was_down:
            self.nginx_down_at = self.nginx.failing_since
            logger.error("nginx does not answer (%s): nothing reaches the scoring service", self.nginx.last.detail)
            self.alerts.send(alert("NginxDown", f"nginx does not answer its status page ({self.nginx.last.detail})"))
        elif was_down and not down and self.nginx_down_at is not None:
            seconds = round(at - self.nginx_down_at, 1)
            reason = f"nginx did not answer for {seconds}s; it answers again"
            logger.warning(reason)
            event = Event.happening("proxy", "nginx", None, "recovered", reason, seconds, figures={"down_s": seconds})
            self.state_file.record(event)
            self.nginx_down_at = None

    # -- Prometheus, metrics, status ---------------------------------------------------------------------------
    def _prometheus_failed(self, error: str, at: float) -> None:
        if self.prometheus_error is None:
            logger.warning("%s: the watch and the 5xx check wait (no move on missing data); probes go on", error)
            self.prometheus_down_since = at
        self.prometheus_error = error
        self.metrics.prometheus_up.set(0)
        if not self.prometheus_alerted and at - (self.prometheus_down_since or at) >= PROMETHEUS_ALERT_AFTER_S:
            self.prometheus_alerted = True
            self.alerts.send(alert("PrometheusUnreachable", error, severity="warning"))

    def _prometheus_answered(self) -> None:
        if self.prometheus_error is not None:
            logger.info("Prometheus answers again")
        self.prometheus_error = None
        self.prometheus_down_since = None
        self.prometheus_alerted = False
        self.metrics.prometheus_up.set(1)

    def _log_probe_changes(self, before: dict) -> None:
        for color, track in self.prober.tracks.items():
            was, last = before[color], track.last
            if last is not None and (was is None or was.ok != last.ok):
                logger.info("%s %s (%s)", color, "is ready" if last.ok else "FAILS its probe", last.detail)

    def _export(self, active: str, state: DeployState) -> None:
        for color in COLORS:
            track = self.prober.tracks[color]
            self.metrics.active.labels(color).set(int(color == active))
            self.metrics.ready.labels(color).set(int(bool(track.last and track.last.ok)))
            self.metrics.pinned.labels(color).set(int(color in state.colors))
            self.metrics.failed_probes.labels(color).set(track.failures)
        self.metrics.watch.set(WATCH_LEVEL.get(state.watch.status if state.watch else None, 0))

    def _write_status(self, active: str, at: float) -> None:
        cooldown = self.config.config.failover.cooldown_s
        status = {
            "time": iso(at),
            "time_ts": at,
            "active": active,
            "colors": {
                color: {
                    "ready": bool(track.last and track.last.ok),
                    "detail": track.last.detail if track.last else "not probed yet",
                    "version": track.last.version if track.last else None,
                    "failed_probes": track.failures,
                    "healthy_probes": track.successes,
                }
                for color, track in self.prober.tracks.items()
            },
            "prometheus": {"reachable": self.prometheus_error is None, "error": self.prometheus_error},
            "alerts": {"sent": self.alerts.sent, "failed_attempts": self.alerts.failed_attempts},
            "last_move": iso(self.last_move_at),
            "cooldown_until": iso(self.last_move_at + cooldown) if self.last_move_at else None,
            "blocked": self.blocked,
            "nginx": {
                "answers": self.nginx.failures == 0,
                "detail": self.nginx.last.detail if self.nginx.last else None,
            },
        }
        write_atomic(self.settings.status_path, json.dumps(status, indent=2) + "\n")
