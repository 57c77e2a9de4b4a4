"""What `up` writes for the monitoring services, and how `status` reports the controller and the watch.

The controller reads its bounds from a copy in the state directory (re-read when it changes), Alertmanager its
configuration (with the webhook URL from ALERT_WEBHOOK_URL): both written here, atomically.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import requests

from deploy.alerts import write_alertmanager_config
from deploy.controller_config import ControllerConfig
from deploy.files import write_atomic
from deploy.settings import DeploySettings
from deploy.state import WatchRecord

STATUS_FRESH_S = 10.0


def write_configs(settings: DeploySettings, bounds: ControllerConfig) -> bool:
    """The controller's bounds (already validated as `bounds`) and Alertmanager's configuration; whether the
    latter changed (a running Alertmanager must then reload it)."""
    del bounds  # validated by the caller: only a good file is copied
    write_atomic(
        settings.controller_dir / "controller.yaml", settings.DEPLOY_CONTROLLER_CONFIG.read_text(encoding="utf-8")
    )
    return write_alertmanager_config(settings.alertmanager_dir, settings.ALERT_WEBHOOK_URL)


def reload_alertmanager(settings: DeploySettings, say: Callable[[str], None]) -> None:
    """Ask Alertmanager to re-read its configuration (its documented /-/reload endpoint)."""
    for _ in range(30):
        try:
            if requests.post(f"{settings.alertmanager_url}/-/reload", timeout=5).status_code == 200:
                say("up: Alertmanager re-read its configuration")
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    say("up: WARNING: Alertmanager did not re-read its configuration: `docker compose restart alertmanager`")


def controller_status(settings: DeploySettings) -> dict[str, Any] | None:
    """What the controller last wrote (None: it never ran)."""
    try:
        return json.loads((settings.controller_dir / "status.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def controller_lines(settings: DeploySettings, watch: WatchRecord | None) -> list[str]:
    """`make status`'s lines about the controller and the last switch's watch."""
    status = controller_status(settings)
    lines = []
    if status is None:
        lines.append("  controller: never ran (`make up` starts it): no failover, no watch")
    else:
        seen = time.time() - float(status.get("time_ts", 0))
        running = "running" if seen < STATUS_FRESH_S else f"NOT RUNNING (last seen {seen:.0f}s ago)"
        colors = ", ".join(
            f"{color} {'ready' if probe['ready'] else 'FAILING (' + probe['detail'] + ')'}"
            for color, probe in sorted(status.get("colors", {}).items())
        )
        prometheus = status.get("prometheus", {})
        lines.append(
            f"  controller: {running}; probes: {colors}; Prometheus "
            f"{'reachable' if prometheus.get('reachable') else 'UNREACHABLE: ' + str(prometheus.get('error'))}"
        )
        if status.get("cooldown_until") and seen < STATUS_FRESH_S:
            lines.append(f"    last automatic move {status['last_move']}; cool-down until {status['cooldown_until']}")
        if status.get("blocked"):
            lines.append(f"    {status['blocked']}")
    if watch is not None:
        figures = ", ".join(f"{k}={v}" for k, v in watch.figures.items() if v is not None)
        lines.append(
            f"  watch: {watch.color} (from {watch.previous}) since {watch.started} for {watch.window_s:.0f}s: "
            f"{watch.status.upper()}{': ' + watch.verdict if watch.verdict else ''}"
        )
        if figures:
            lines.append(f"    {figures}")
    return lines
