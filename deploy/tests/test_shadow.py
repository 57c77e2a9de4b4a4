"""`shadow green|blue|off` with a scripted docker and a small HTTP server answering like the idle stack: bad input
exits 2 with one line and leaves the marker and the traffic alone; a good one writes the marker atomically, under the
lock, into the history; a switch (by the CLI or the controller) turns shadow off first; nginx's files carry the mirror
the way the shadow report needs it (the real image's check: deploy/tests/test_shadow_nginx.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from deploy.canary_moves import CanaryMoves
from deploy.canary_record import CanaryRecord
from deploy.context import Context
from deploy.errors import UsageError
from deploy.lock import operation_lock
from deploy.nginx_config import SHADOW_MARKER, ActiveFile
from deploy.settings import ROOT, DeploySettings
from deploy.shadow import stop
from deploy.tests.fake_docker import FakeDocker
from deploy.tests.stack_server import Backend, serve
from deploy.tests.test_cli import BLUE, OLD, RUNNING, command, settings, state_of  # noqa: F401 (fixture)

GREEN = {"backend-green": ("running", "healthy"), "frontend-green": ("running", "healthy")}


def unchanged(settings: DeploySettings) -> None:  # noqa: F811
    active = ActiveFile(settings.nginx_dir)
    assert not active.shadow() and active.active() == "blue"
    assert not [e for e in state_of(settings).get("history", []) if e["operation"] == "shadow"]


@pytest.mark.parametrize(
    ("argv", "containers", "pinned", "message"),
    [
        (("shadow", "blue"), {**RUNNING, **BLUE, **GREEN}, ("blue", "green"), "blue serves the public traffic"),
        (("shadow", "green"), {**RUNNING, **BLUE}, ("blue",), "nothing is deployed on green"),
        (("shadow", "green"), {**RUNNING, **BLUE}, ("blue", "green"), "green is not running"),
        (("shadow", "green"), {**RUNNING, **BLUE, **GREEN}, ("blue", "green"), "green does not answer ready"),
        (("shadow", "green"), BLUE, ("blue", "green"), "the stacks are not up"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    settings: DeploySettings, argv: tuple, containers: dict, pinned: tuple, message: str  # noqa: F811
) -> None:
    for color in pinned:
        Context(settings).state.pin(color, OLD)
    with pytest.raises(UsageError, match=message) as refused:
        command(settings, FakeDocker(containers=containers), *argv)
    assert refused.value.exit_code == 2 and "\n" not in str(refused.value)
    unchanged(settings)


def test_shadow_is_refused_while_another_operation_runs(settings: DeploySettings) -> None:  # noqa: F811
    docker = FakeDocker(containers={**RUNNING, **BLUE, **GREEN})
    with operation_lock(settings.DEPLOY_STATE_DIR, "release", wait_s=0):
        with pytest.raises(UsageError, match="`release` by .* is running"):
            command(settings, docker, "shadow", "green")
    unchanged(settings)


def test_shadow_is_refused_while_a_canary_runs(settings: DeploySettings) -> None:  # noqa: F811
    """The idle color takes a share of the live traffic during a canary: copies would count as its traffic."""
    for color in ("blue", "green"):
        Context(settings).state.pin(color, OLD)
    CanaryMoves(settings.DEPLOY_STATE_DIR).record_file.save(
        CanaryRecord(color="green", stable="blue", steps=[10, 100], started="now", started_ts=0.0, step_window_s=60)
    )
    with pytest.raises(UsageError, match="a canary of green is running .*`make abort` before a shadow") as refused:
        command(settings, FakeDocker(containers={**RUNNING, **BLUE, **GREEN}), "shadow", "green")
    assert refused.value.exit_code == 2
    unchanged(settings)


def test_shadow_on_and_off_under_the_lock_in_the_history(settings: DeploySettings) -> None:  # noqa: F811
    for color in ("blue", "green"):
        Context(settings).state.pin(color, OLD)
    docker = FakeDocker(containers={**RUNNING, **BLUE, **GREEN})
    with serve(Backend(color="green", version="1"), port=settings.PREVIEW_PORT):
        code, lines = command(settings, docker, "shadow", "green")
    assert code == 0 and lines[-1].startswith("shadow green: ON in ") and "[1/2]" in lines[0]
    marker = settings.nginx_dir / SHADOW_MARKER
    assert marker.exists() and sorted(p.name for p in settings.nginx_dir.iterdir()) == [SHADOW_MARKER]
    on = state_of(settings)["history"][-1]
    assert (on["operation"], on["target"], on["source"], on["result"]) == ("shadow", "green", "blue", "on")
    assert on["operator"] and on["time"]
    code, lines = command(settings, docker, "shadow", "off")
    assert code == 0 and lines[-1].startswith("shadow: OFF in ") and not marker.exists()
    assert state_of(settings)["history"][-1]["result"] == "off"
    code, lines = command(settings, docker, "shadow", "off")
    assert code == 0 and "(it was not on)" in lines[-1] and len(state_of(settings)["history"]) == 2


def test_a_switch_turns_shadow_off_first(settings: DeploySettings) -> None:  # noqa: F811
    context = Context(settings)
    context.active_file.set_shadow("green")
    context.active_file.write("blue")  # the same color: shadow stays
    assert context.active_file.shadow()
    context.active_file.write("green")  # the controller's failover or the switch: no copies to the old color
    assert not context.active_file.shadow() and context.active_file.active() == "green"
    context.active_file.set_shadow("blue")
    lines: list[str] = []
    stop(Context(settings, say=lines.append), "switch")  # what deploy, switch, rollback and release call first
    assert not context.active_file.shadow() and lines == ["  shadow copies to blue: stopped before the switch"]
    assert state_of(settings)["history"][-1]["reason"] == "stopped before the switch"


def read(name: str) -> str:
    return (ROOT / "nginx" / name).read_text(encoding="utf-8")


def test_nginx_mirrors_the_scoring_routes_of_the_public_port_only_with_ids_set_by_nginx_alone() -> None:
    routes = read("snippets/stack-routes.conf")
    for route in ("= /api/predict", "= /api/predict/batch"):
        block = re.search(rf"location {re.escape(route)} \{{\n(.*?)\n\}}", routes, re.S)
        assert block and "include /etc/nginx/snippets/shadow-mirror.conf;" in block.group(1)
    assert routes.count("shadow-mirror.conf") == 2, "no other route is mirrored"
    assert "mirror /_shadow;" in read("snippets/shadow-mirror.conf")
    target = read("snippets/shadow-location.conf")
    assert "internal;" in target and 'if ($shadow_color = "") {\n        return 204;' in target
    assert "proxy_set_header X-Shadow-Of $request_id;" in target and "proxy_next_upstream off;" in target
    assert "proxy_connect_timeout 500ms;" in target and "proxy_read_timeout 2s;" in target
    assert "proxy_pass http://127.0.0.1:8092$shadow_path;" in target, "through the relay"
    relay = read("conf.d/shadow-relay.conf")
    assert "listen 127.0.0.1:8092;" in relay and "mirror /_challenger;" in relay
    assert "proxy_pass http://backend_$http_x_shadow_color$request_uri;" in relay
    proxy = read("snippets/api-proxy.conf")
    assert 'proxy_set_header X-Shadow-Of "";' in proxy and "proxy_set_header X-Request-ID $request_id;" in proxy
    servers = read("conf.d/stacks.conf").split("server {")[1:]
    public, preview, internal = servers[0], servers[1], servers[2]
    assert "if (-f /etc/nginx/active/shadow-on) {\n        set $shadow_color $idle_color;" in public
    assert 'set $shadow_color "";' in preview and "shadow-on" not in preview
    assert 'proxy_set_header X-Shadow-Of "";' in internal


def test_the_marker_is_the_file_nginx_checks(tmp_path: Path) -> None:
    active = ActiveFile(tmp_path)
    active.set_shadow("green")
    assert f"/etc/nginx/active/{SHADOW_MARKER}" in read("conf.d/stacks.conf")
    assert (tmp_path / SHADOW_MARKER).read_text().startswith("green ") and active.shadow()
    active.set_shadow(None)
    active.set_shadow(None)  # off twice is fine
    assert list(tmp_path.iterdir()) == []


def test_status_says_whether_shadow_is_on(settings: DeploySettings) -> None:  # noqa: F811
    context = Context(settings)
    context.state.pin("blue", OLD)
    code, lines = command(settings, FakeDocker(containers=BLUE), "status")
    assert code == 0 and not [line for line in lines if line.startswith("shadow")], "off and no data: no block"
    context.active_file.set_shadow("green")
    code, lines = command(settings, FakeDocker(containers=BLUE), "status")
    shown = "\n".join(lines)
    assert "shadow: ON, live scoring copied to green (`make shadow-off`)" in shown
    assert "the report does not answer" in shown
