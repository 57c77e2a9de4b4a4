"""nginx control inside its container: configuration test and graceful reload (`docker compose exec`)."""

from __future__ import annotations

from deploy.compose import Compose
from deploy.errors import DeployError

SERVICE = "nginx"


class ComposeNginx:
    def __init__(self, compose: Compose) -> None:
        self.compose = compose

    def _nginx(self, *args: str) -> None:
        done = self.compose.exec(SERVICE, "nginx", *args)
        if done.returncode != 0:
            output = " ".join((done.stderr or done.stdout or "").split())[-400:]
            raise DeployError(f"`nginx {' '.join(args)}` failed: {output or f'exit code {done.returncode}'}")

    def test(self) -> None:
        self._nginx("-t", "-q")

    def reload(self) -> None:
        """Graceful: new workers take new connections, old ones finish their requests and exit."""
        self._nginx("-s", "reload")
