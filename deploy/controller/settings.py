"""The controller's settings: each field is the environment variable of its name (set by docker-compose.yml)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from deploy.nginx_config import address
from deploy.service_keys import CLI_KEY
from deploy.settings import NetworkPrefix, Port, Seconds

CONFIG_COPY = Path("controller") / "controller.yaml"  # under the state directory, written by `make up`
STATUS_FILE = Path("controller") / "status.json"


class ControllerSettings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, case_sensitive=True, env_ignore_empty=True)

    STACK_NET: NetworkPrefix = "172.30.77"
    DEPLOY_STATE_DIR: Path = Path("/state")
    PROMETHEUS_URL: str = "http://prometheus:9090"
    ALERTMANAGER_URL: str = "http://alertmanager:9093"
    NGINX_STATUS_URL: str | None = None  # default: nginx's fixed address (a name of a dead container resolves slowly)
    CONTROLLER_PORT: Port = 9100
    STATUS_EVERY_S: Seconds = 1.0  # how often status.json (read by `make status`) is rewritten
    LOG_LEVEL: str = Field("INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")

    @property
    def nginx_status_url(self) -> str:
        return self.NGINX_STATUS_URL or f"http://{address(self.STACK_NET, 'nginx')}:8091/nginx_status"

    @property
    def config_path(self) -> Path:
        return self.DEPLOY_STATE_DIR / CONFIG_COPY

    @property
    def api_key_path(self) -> Path:
        """The deploy CLI's own key (written by `make up`), sent with the readiness probes."""
        return self.DEPLOY_STATE_DIR / CLI_KEY.file

    @property
    def status_path(self) -> Path:
        return self.DEPLOY_STATE_DIR / STATUS_FILE
