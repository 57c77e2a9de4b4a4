"""`python -m deploy.controller`: the controller service of the stack (docker-compose.yml, restart: always).

A bad setting or bounds file prints one line naming it and exits with code 2.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading

from prometheus_client import start_http_server
from pydantic import ValidationError

from deploy.alerts import AlertSender
from deploy.controller.loop import ConfigSource, Controller
from deploy.controller.metrics import ControllerMetrics
from deploy.controller.settings import ControllerSettings
from deploy.controller_config import DEFAULT_CONFIG
from deploy.errors import UsageError
from deploy.prometheus import Prometheus


def main() -> int:
    try:
        settings = ControllerSettings()
        config_path = settings.config_path if settings.config_path.is_file() else DEFAULT_CONFIG
        config = ConfigSource(config_path)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        print(f"error: bad setting: {problems}", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=settings.LOG_LEVEL)
    metrics = ControllerMetrics(settings.NGINX_STATUS_URL)
    start_http_server(settings.CONTROLLER_PORT, registry=metrics.registry)
    controller = Controller(
        settings, config, Prometheus(settings.PROMETHEUS_URL), AlertSender(settings.ALERTMANAGER_URL), metrics
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    controller.run(stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
