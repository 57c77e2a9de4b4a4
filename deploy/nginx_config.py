"""What nginx reads from the state directory (mounted at /etc/nginx/active): which color is active, and the
upstream pools of both colors.

The active color is green when the marker file `green-is-active` exists, else blue; nginx checks it on
every request, so a switch is one atomic file operation (create by rename, or unlink) and needs no reload:
no client connection is closed by it. The upstream pools point at the stable addresses the compose file
gives each color's containers on the stack network, so re-created containers need no reload either.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deploy.files import write_atomic
from deploy.settings import COLORS, DeploySettings

MARKER = "green-is-active"
SHADOW_MARKER = "shadow-on"  # live scoring requests are copied to the idle color (nginx/snippets/shadow-location.conf)
UPSTREAMS = "upstreams.conf"
STATUS_ACCESS = "status-access.conf"
LIMIT_ZONES = "limit-zones.conf"
API_LIMITS = "api-limits.conf"
LEGACY_ACTIVE_FILE = "active.conf"  # the first mechanism (a reloaded `set` file), migrated by ensure()
DEFAULT_ACTIVE = "blue"
HOSTS = {
    ("nginx", "any"): 3,
    ("controller", "any"): 5,
    ("backend", "blue"): 11,
    ("frontend", "blue"): 12,
    ("backend", "green"): 21,
    ("frontend", "green"): 22,
}
PORTS = {"backend": 8000, "frontend": 8501}
KEEPALIVE = {"backend": 32, "frontend": 8}  # idle connections each nginx worker keeps per pool


def address(stack_net: str, service: str, color: str = "any") -> str:
    """The fixed address of a color's service on the stack network (`<STACK_NET>.<host>`)."""
    return f"{stack_net}.{HOSTS[(service, color)]}"


def render_upstreams(stack_net: str) -> str:
    """The pools backend_<color> and frontend_<color>, keep-alive, one server each. nginx closes an idle pooled
    connection after 60 s, before the backend would (uvicorn's TIMEOUT_KEEP_ALIVE_S is 75 s in the stacks), so
    nginx never reuses a connection the app is closing."""
    blocks = ["# Written by `python -m deploy.cli up` (deploy/nginx_config.py); do not edit by hand.\n"]
    for service in ("backend", "frontend"):
        for color in COLORS:
            blocks.append(
                f"upstream {service}_{color} {{\n"
                f"    server {address(stack_net, service, color)}:{PORTS[service]};\n"
                f"    keepalive {KEEPALIVE[service]};\n"
                "    keepalive_timeout 60s;\n"
                "    keepalive_requests 10000;\n"
                "}\n"
            )
    return "\n".join(blocks)


@dataclass(frozen=True)
class EdgeLimits:
    """What one client address may send to the public port's /api/ (nginx counts it by $binary_remote_addr)."""

    rate: int  # requests per second, sustained
    burst: int  # requests above the rate served at once (nodelay) before the 429s start
    connections: int  # requests in progress at once

    @classmethod
    def from_settings(cls, settings: DeploySettings) -> EdgeLimits:
        return cls(settings.API_RATE_PER_CLIENT, settings.API_BURST_PER_CLIENT, settings.API_CONNECTIONS_PER_CLIENT)


def render_limits(limits: EdgeLimits) -> dict[str, str]:
    """The files of the per-client limits: the zones (nginx's http level) and the limits (in every /api/ location,
    snippets/api-proxy.conf; the location is matched on the decoded path, so no spelling of /api/ escapes it). Their
    key, $api_client (nginx.conf), is the client's address on the public port and empty (not counted) on the
    preview port. A 10 MB zone holds the state of about 160,000 addresses."""
    header = (
        "# Written by `python -m deploy.cli up` (deploy/nginx_config.py) from API_RATE_PER_CLIENT,\n"
        "# API_BURST_PER_CLIENT and API_CONNECTIONS_PER_CLIENT; do not edit by hand.\n"
    )
    return {
        LIMIT_ZONES: header
        + f"limit_req_zone $api_client zone=api_rate:10m rate={limits.rate}r/s;\n"
        + "limit_conn_zone $api_client zone=api_conn:10m;\n",
        API_LIMITS: header
        + f"limit_req zone=api_rate burst={limits.burst} nodelay;\n"
        + f"limit_conn api_conn {limits.connections};\n",
    }


class ActiveFile:
    """The marker in the directory mounted into nginx at /etc/nginx/active (and the upstreams next to it)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / MARKER

    def active(self) -> str:
        return "green" if self.path.exists() else "blue"

    def read(self) -> str:
        """A snapshot to restore: the active color."""
        return self.active()

    def write(self, active: str) -> None:
        """Make `active` the active color in one atomic step (nginx sees the old or the new color, never none)."""
        if active not in COLORS:
            raise ValueError(f"unknown color {active!r}")
        if active != self.active():  # shadow copies would go to the color that just served: shadow ends first
            self.set_shadow(None)
        if active == "green":
            write_atomic(self.path, "green receives the public traffic (written by deploy.cli)\n")
        else:
            self.path.unlink(missing_ok=True)

    def shadow(self) -> bool:
        """Whether nginx copies live scoring requests to the idle color."""
        return (self.directory / SHADOW_MARKER).exists()

    def set_shadow(self, color: str | None) -> None:
        """Shadow traffic on (to `color`, which must be the idle one: nginx copies to whichever is idle) or off
        (None), in one atomic step."""
        if color is None:
            (self.directory / SHADOW_MARKER).unlink(missing_ok=True)
        else:
            write_atomic(
                self.directory / SHADOW_MARKER, f"{color} gets copies of the live scoring requests (deploy.cli)\n"
            )

    def restore(self, snapshot: str) -> None:
        self.write(snapshot)

    def ensure(self, stack_net: str) -> str:
        """The upstream pools and the status page's access rule written for this stack network, the first
        mechanism's file migrated; the active color."""
        write_atomic(self.directory / UPSTREAMS, render_upstreams(stack_net))
        write_atomic(
            self.directory / STATUS_ACCESS,
            f"# Written by `python -m deploy.cli up`: the controller only.\nallow {address(stack_net, 'controller')};\n"
            "deny all;\n",
        )
        legacy = self.directory / LEGACY_ACTIVE_FILE
        if legacy.exists():
            self.write("green" if "set $active_color green;" in legacy.read_text(encoding="utf-8") else "blue")
            legacy.unlink()
        return self.active()

    def write_limits(self, limits: EdgeLimits) -> bool:
        """The per-client limits written for nginx; whether they changed (a running nginx then needs a reload)."""
        changed = False
        for name, text in render_limits(limits).items():
            path = self.directory / name
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                write_atomic(path, text)
                changed = True
        return changed
