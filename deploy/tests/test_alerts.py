"""Alerting: the Alertmanager configuration `up` writes (webhook from the setting, owner-only, nowhere without a
URL), and the controller's alerts, posted in the background with retries so a failing Alertmanager never
blocks a move."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import yaml

from deploy.alerts import AlertSender, alert, render_alertmanager_config, write_alertmanager_config
from deploy.tests.prometheus_server import Received, serve_receiver


def test_the_webhook_receives_every_alert_with_its_resolution() -> None:
    config = yaml.safe_load(render_alertmanager_config("https://hooks.example/credit?token=x"))
    (receiver,) = config["receivers"]
    assert config["route"]["receiver"] == receiver["name"] == "webhook"
    assert receiver["webhook_configs"] == [
        {"url": "https://hooks.example/credit?token=x", "send_resolved": True, "max_alerts": 20}
    ]
    assert config["route"]["group_wait"] == "1s", "an alert goes out within seconds"


def test_without_a_webhook_alerts_go_nowhere_explicitly() -> None:
    config = yaml.safe_load(render_alertmanager_config(None))
    assert config["receivers"] == [{"name": "nowhere"}] and config["route"]["receiver"] == "nowhere"


def test_the_file_is_readable_by_its_owner_only_and_rewritten_only_when_it_changes(tmp_path: Path) -> None:
    assert write_alertmanager_config(tmp_path, "https://hooks.example/a")
    path = tmp_path / "alertmanager.yml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and (tmp_path / "data").is_dir()
    assert not write_alertmanager_config(tmp_path, "https://hooks.example/a")
    assert write_alertmanager_config(tmp_path, "https://hooks.example/b")
    assert "hooks.example/b" in path.read_text()


def test_an_alert_is_retried_until_accepted_without_blocking_the_sender() -> None:
    received = Received(fail_first=2)
    waits: list[float] = []
    with serve_receiver(received) as url:
        sender = AlertSender(url, sleep=waits.append)
        started = time.monotonic()
        sender.send(alert("TrafficFailedOver", "blue died", color="green"))
        assert time.monotonic() - started < 0.1, "send never waits for Alertmanager"
        deadline = time.monotonic() + 5
        while not received.posts and time.monotonic() < deadline:
            time.sleep(0.02)
    (posted,) = received.posts
    assert posted[0]["labels"] == {
        "alertname": "TrafficFailedOver",
        "severity": "critical",
        "source": "controller",
        "color": "green",
    }
    assert posted[0]["annotations"]["summary"] == "blue died"
    assert received.attempts == 3 and waits == [1, 2] and sender.failed_attempts == 2 and sender.sent == 1
