"""Alerts: the Alertmanager configuration the CLI writes (the webhook URL is a setting, so it never sits in the
repository or an image), and the controller's own alerts, posted to Alertmanager's API (/api/v2/alerts) from
a background thread that retries: a slow or failing Alertmanager never delays a failover or a rollback.

Alertmanager itself retries a webhook that fails, and logs each failure.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import requests
import yaml

from deploy.files import write_atomic

logger = logging.getLogger("deploy.alerts")

CONFIG_FILE = "alertmanager.yml"
RETRY_DELAYS_S = (1, 2, 5, 10, 30, 60)
ALERT_LIFETIME = timedelta(minutes=10)  # a controller alert resolves by itself after this long


def render_alertmanager_config(webhook_url: str | None) -> str:
    """Alertmanager's configuration: every alert to the webhook (with its resolution), or nowhere when no URL is
    set. Alerts are grouped per name and color, and sent within seconds of arriving."""
    receiver: dict[str, Any] = {"name": "webhook" if webhook_url else "nowhere"}
    if webhook_url:
        receiver["webhook_configs"] = [{"url": webhook_url, "send_resolved": True, "max_alerts": 20}]
    config = {
        "route": {
            "receiver": receiver["name"],
            "group_by": ["alertname", "color"],
            "group_wait": "1s",
            "group_interval": "30s",
            "repeat_interval": "4h",
        },
        "receivers": [receiver],
    }
    header = "# Written by `python -m deploy.cli up` from ALERT_WEBHOOK_URL (deploy/alerts.py); do not edit.\n"
    return header + yaml.safe_dump(config, sort_keys=False)


def write_alertmanager_config(directory: Path, webhook_url: str | None) -> bool:
    """Write the configuration into `directory` (mounted into Alertmanager), readable by its owner only (the
    URL may hold a token); whether it changed."""
    path = directory / CONFIG_FILE
    text = render_alertmanager_config(webhook_url)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "data").mkdir(exist_ok=True)
    write_atomic(path, text, mode=0o600)
    return True


def alert(name: str, summary: str, severity: str = "critical", **labels: str) -> dict[str, Any]:
    """One alert in Alertmanager's API format, firing now and resolving by itself after ALERT_LIFETIME."""
    starts = datetime.now(timezone.utc)
    return {
        "labels": {"alertname": name, "severity": severity, "source": "controller", **labels},
        "annotations": {"summary": summary},
        "startsAt": starts.isoformat(),
        "endsAt": (starts + ALERT_LIFETIME).isoformat(),
    }


class AlertSender:
    """Posts alerts to Alertmanager from a daemon thread, retrying with back-off; `send` never blocks."""

    def __init__(self, alertmanager_url: str, sleep=time.sleep) -> None:
        self.url = f"{alertmanager_url.rstrip('/')}/api/v2/alerts"
        self.sleep = sleep
        self.pending: queue.Queue[dict[str, Any]] = queue.Queue()
        self.sent = 0
        self.failed_attempts = 0
        self._thread = threading.Thread(target=self._run, name="alerts", daemon=True)
        self._thread.start()

    def send(self, payload: dict[str, Any]) -> None:
        self.pending.put(payload)

    def _run(self) -> None:
        while True:
            payload = self.pending.get()
            for delay in (*RETRY_DELAYS_S, None):
                if self._post(payload):
                    self.sent += 1
                    break
                if delay is None:
                    logger.error(
                        "alert %s dropped after %d attempts", payload["labels"]["alertname"], len(RETRY_DELAYS_S) + 1
                    )
                    break
                self.sleep(delay)

    def _post(self, payload: dict[str, Any]) -> bool:
        try:
            response = requests.post(self.url, json=[payload], timeout=5)
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}"
        else:
            if response.status_code < 300:
                logger.info("alert %s posted to Alertmanager", payload["labels"]["alertname"])
                return True
            error = f"HTTP {response.status_code}"
        self.failed_attempts += 1
        logger.warning("alert %s not accepted by Alertmanager (%s): retrying", payload["labels"]["alertname"], error)
        return False
