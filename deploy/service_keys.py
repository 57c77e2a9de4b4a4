"""The keys the system's own parts use, created by the deploy CLI when they are missing: the CLI's gates and audit
calls, the analyst UI (acting on behalf of the signed-in analyst) and Prometheus (scraping /metrics). Each key's
plaintext is in one file of the state directory, for the one part that uses it; the key store keeps its hash."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from deploy.api_keys import ApiKeyStore
from deploy.errors import UsageError
from deploy.files import write_atomic
from deploy.settings import DeploySettings


@dataclass(frozen=True)
class ServiceKey:
    name: str
    scopes: tuple[str, ...]
    file: str  # relative to the state directory
    mode: int  # 0o644 where a container (another user id) reads it through its read-only mount


SERVICE_KEYS = (
    ServiceKey("deploy-cli", ("score", "read", "audit", "outcomes", "probe"), "cli/api-key", 0o600),
    ServiceKey("analyst-ui", ("score", "read", "on-behalf-of"), "ui/service-key", 0o644),
    ServiceKey("prometheus", ("metrics",), "prometheus/api-key", 0o644),
)
CLI_KEY = SERVICE_KEYS[0]
# Scopes only the system's own keys hold: the backend honors the probe marker only from the deploy CLI's key, and
# an analyst's name only from the UI's.
RESERVED_SCOPES = {"probe": CLI_KEY.name, "on-behalf-of": SERVICE_KEYS[1].name}


def refuse_reserved(scopes: tuple[str, ...]) -> tuple[str, ...]:
    """`scopes`, unless one of them is reserved to a service key: UsageError naming it."""
    reserved = [scope for scope in scopes if scope in RESERVED_SCOPES]
    if reserved:
        owners = ", ".join(f"{scope!r} is the {RESERVED_SCOPES[scope]!r} key's" for scope in reserved)
        raise UsageError(f"reserved scope(s): {owners} alone (created by `make up`)")
    return scopes


def read_key(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def ensure_service_keys(settings: DeploySettings, say: Callable[[str], None] = print) -> list[str]:
    """The key store and every service key, created or re-created where missing, stale or revoked; the names of
    the keys (re)created (the parts that use them re-read their file: no restart)."""
    store = ApiKeyStore(settings.api_keys_file)
    store.ensure_exists()
    made = []
    for service in SERVICE_KEYS:
        path = settings.DEPLOY_STATE_DIR / service.file
        record, current = store.get(service.name), read_key(path)
        if record is not None and current is not None and record.matches(current) and record.scopes == service.scopes:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        key = store.create(service.name, service.scopes, replace=True)
        write_atomic(path, key + "\n", service.mode)
        made.append(service.name)
        say(f"credentials: API key {service.name!r} ({', '.join(service.scopes)}) written to {path}")
    return made


def cli_key(settings: DeploySettings) -> str | None:
    """The deploy CLI's own key (None before the first `make up`)."""
    return read_key(settings.DEPLOY_STATE_DIR / CLI_KEY.file)
