"""`python -m deploy.guard`: starts the stack's nginx (and controller) again when they die without being
stopped. Docker's restart policy restarts a container whose process exits, but not one that was killed
through the engine (`docker kill`): that counts as stopped by hand, and the public port stays dark until
someone runs `make up`.

The guard follows the engine's events for its compose project only. A guarded container that dies is
started again after a short grace period unless a `stop` (compose down/stop, a re-creation) or a `start`
(the restart policy) followed the death. It has no network (network_mode: none) and only starts
containers of its own project that are in GUARDED_SERVICES: the engine socket it needs is used for
nothing else.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import queue
import socket
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

logger = logging.getLogger("deploy.guard")
GRACE_S = 1.0  # a `stop` event follows `die` within milliseconds when the container was stopped on purpose
SERVICE_LABEL = "com.docker.compose.service"
PROJECT_LABEL = "com.docker.compose.project"


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP to the Docker engine over its unix socket (the documented Engine API)."""

    def __init__(self, socket_path: str, timeout: float | None = None) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = socket_path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


class DockerEngine:
    def __init__(self, socket_path: str) -> None:
        self.socket_path = socket_path

    def call(self, method: str, path: str) -> tuple[int, Any]:
        connection = UnixHTTPConnection(self.socket_path, timeout=10)
        try:
            connection.request(method, path)
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        return response.status, json.loads(body) if body.strip().startswith((b"{", b"[")) else body

    def events(self, project: str) -> Iterator[dict[str, Any]]:
        """The engine's container events of `project`, as they happen (until the connection drops)."""
        filters = {"type": ["container"], "label": [f"{PROJECT_LABEL}={project}"]}
        connection = UnixHTTPConnection(self.socket_path, timeout=None)
        try:
            connection.request("GET", f"/events?filters={quote(json.dumps(filters))}")
            response = connection.getresponse()
            while line := response.readline():
                if line.strip():
                    yield json.loads(line)
        finally:
            connection.close()


class Guard:
    def __init__(self, engine: DockerEngine, project: str, services: set[str], grace_s: float = GRACE_S) -> None:
        self.engine = engine
        self.project = project
        self.services = services
        self.grace_s = grace_s
        self.pending: dict[str, tuple[str, float, str]] = {}  # container id -> (service, due time, exit code)
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()

    def observe(self, event: dict[str, Any], now: float) -> None:
        """Note a guarded container's death; forget it when it was stopped on purpose or started again."""
        attributes = event.get("Actor", {}).get("Attributes", {})
        service, container = attributes.get(SERVICE_LABEL), event.get("Actor", {}).get("ID", "")
        if service not in self.services or attributes.get(PROJECT_LABEL) != self.project:
            return
        action = event.get("Action") or event.get("status")
        if action == "die":
            self.pending[container] = (service, now + self.grace_s, attributes.get("exitCode", "?"))
        elif action in ("stop", "start", "destroy"):
            self.pending.pop(container, None)

    def restart_due(self, now: float) -> list[str]:
        """Start the containers that died without being stopped; the services started."""
        started = []
        for container, (service, due, exit_code) in list(self.pending.items()):
            if now < due:
                continue
            del self.pending[container]
            status, info = self.engine.call("GET", f"/containers/{container}/json")
            if status != 200 or info.get("State", {}).get("Running"):
                continue
            status, body = self.engine.call("POST", f"/containers/{container}/start")
            if status in (204, 304):
                logger.warning("%s died (exit code %s) without being stopped: started it again", service, exit_code)
                started.append(service)
            else:
                logger.error("%s died and could not be started again: HTTP %s %s", service, status, body)
        return started

    def follow_events(self) -> None:
        """Feed the engine's events into the queue, reconnecting when the engine restarts."""
        while True:
            try:
                for event in self.engine.events(self.project):
                    self.events.put(event)
            except (OSError, http.client.HTTPException, ValueError) as exc:
                logger.warning("lost the engine's event stream (%s): reconnecting", exc)
            time.sleep(1.0)

    def run(self) -> None:
        logger.info("guarding %s of project %s", ", ".join(sorted(self.services)), self.project)
        threading.Thread(target=self.follow_events, name="events", daemon=True).start()
        while True:
            try:
                self.observe(self.events.get(timeout=0.2), time.monotonic())
            except queue.Empty:
                pass
            self.restart_due(time.monotonic())


def main() -> int:
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    project = os.environ.get("COMPOSE_PROJECT_NAME", "").strip()
    services = {s.strip() for s in os.environ.get("GUARDED_SERVICES", "nginx").split(",") if s.strip()}
    socket_path = os.environ.get("DOCKER_SOCKET", "/var/run/docker.sock")
    if not project:
        print("error: COMPOSE_PROJECT_NAME is not set: the guard only acts on its own project", file=sys.stderr)
        return 2
    if not os.path.exists(socket_path):
        print(f"error: no Docker engine socket at {socket_path} (DOCKER_SOCKET)", file=sys.stderr)
        return 2
    Guard(DockerEngine(socket_path), project, services).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
