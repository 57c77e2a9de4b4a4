"""A local OpenID Connect provider process for the single sign-on tests: panva's oidc-provider under Node.js
(tests/kit/oidc/, installed from the npm registry by `make system-deps`). Its development sign-in accepts any name
and password; the account's e-mail is <name>@bank.example."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.kit.ports import free_port

PROVIDER_DIR = Path(__file__).resolve().parent / "oidc"
CLIENT_ID, CLIENT_SECRET = "analyst-ui", "test-only-client-secret-0123456789"


@dataclass(frozen=True)
class OidcProvider:
    issuer: str
    client_id: str
    client_secret: str

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def streamlit_secrets(self, redirect_uri: str) -> str:
        """The `[auth]` section of the UI's secrets.toml for this provider (prompt=login: it has no account
        chooser)."""
        return (
            "[auth]\n"
            f'redirect_uri = "{redirect_uri}"\n'
            'cookie_secret = "test-only-cookie-secret-0123456789abcdef"\n'
            f'client_id = "{self.client_id}"\n'
            f'client_secret = "{self.client_secret}"\n'
            f'server_metadata_url = "{self.metadata_url}"\n'
            'client_kwargs = { prompt = "login" }\n'
        )


def missing() -> str | None:
    """Why the provider cannot run here (None: it can)."""
    if shutil.which("node") is None:
        return "node is not installed: run `make system-deps`"
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        return f"oidc-provider is not installed in {PROVIDER_DIR}: run `make system-deps`"
    return None


@contextmanager
def oidc_provider(redirect_uri: str, log: Path) -> Iterator[OidcProvider]:
    """The provider on a free port, with one client allowed to return to `redirect_uri`; stopped afterwards."""
    port = free_port()
    env = {
        **os.environ,
        "OIDC_PORT": str(port),
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_REDIRECT_URI": redirect_uri,
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["node", "provider.mjs"], cwd=PROVIDER_DIR, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 30
        while b"listening on" not in log.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the OIDC provider did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.1)
        yield OidcProvider(f"http://127.0.0.1:{port}", CLIENT_ID, CLIENT_SECRET)
    finally:
        process.terminate()
        process.wait(timeout=10)
