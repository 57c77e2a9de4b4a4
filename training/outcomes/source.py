"""Where the labeled rows come from: the service's `GET /outcomes/labeled` (scope audit) or a CSV file."""

from __future__ import annotations

import os
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from training.errors import TrainingInputError

ENDPOINT = "/outcomes/labeled"
SCOPE = "audit"
TIMEOUT_SECONDS = 60.0


def api_key(key_file: Path | None) -> str:
    """$API_KEY, else the first line of key_file (the deploy CLI's key); TrainingInputError if neither."""
    if os.environ.get("API_KEY", "").strip():
        return os.environ["API_KEY"].strip()
    if key_file is not None:
        try:
            key = key_file.read_text(encoding="utf-8").strip()
        except OSError:
            key = ""
        if key:
            return key
    where = f" and {key_file} is missing or empty" if key_file is not None else ""
    raise TrainingInputError(f"no API key with the scope {SCOPE}: $API_KEY is not set{where} (make up creates it)")


def fetch_labeled(base_url: str, key: str, ca_file: Path | None = None) -> bytes:
    """The matured labeled predictions as CSV bytes; TrainingInputError (one line) when refused or unreachable. An
    https:// URL is verified against `ca_file` (the public port's CA bundle), else the system's trust store."""
    url = base_url.rstrip("/") + ENDPOINT
    if urlsplit(url).scheme not in ("http", "https"):
        raise TrainingInputError(f"the service URL must be http(s)://..., got {base_url!r}")
    request = urllib.request.Request(url, headers={"Accept": "text/csv", "Authorization": f"Bearer {key}"})
    try:
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS, context=context) as response:  # nosec B310
            return response.read()
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            raise TrainingInputError(
                f"{url} refused the key (HTTP {exc.code}): make retrain needs an API key with the scope {SCOPE}"
            ) from None
        raise TrainingInputError(f"{url} answered HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TrainingInputError(f"cannot reach {url} ({reason}): is the stack up (make up)?") from None


def read_labeled_file(path: Path) -> bytes:
    """The bytes of a labeled CSV given with LABELED=; TrainingInputError when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise TrainingInputError(f"cannot read the labeled file {path}: {exc.strerror or exc}") from None
