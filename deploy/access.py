"""Access commands of the CLI: API keys (create, rotate, revoke, list), the analyst UI's users (add, new password,
remove, list) and the audit trail of an analyst or a key. None needs Docker; `api-keys` and `audit` ask the
active stack (through the public port, with the CLI's own key) for what only the backends know."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from typing import Any

import requests

from deploy.analysts import AnalystStore, check_password
from deploy.api_keys import ApiKeyStore, parse_scopes
from deploy.context import Context
from deploy.errors import DeployError, UsageError
from deploy.probe import REQUEST_TIMEOUT, headers_with
from deploy.service_keys import refuse_reserved

ReadPassword = Callable[[str], str]


def _keys(ctx: Context) -> ApiKeyStore:
    return ApiKeyStore(ctx.settings.api_keys_file)


def _show_key(ctx: Context, what: str, name: str, key: str) -> None:
    ctx.say(f"{what} {name!r}. The key, shown only this once (only its hash is stored):\n\n  {key}\n")
    ctx.say(
        "Send it as `Authorization: Bearer <key>`. Both colors accept it within a second, without a restart "
        f"(key store: {ctx.settings.api_keys_file})."
    )


def api_key_create(ctx: Context, name: str, scopes: str) -> int:
    granted = refuse_reserved(parse_scopes(scopes))
    key = _keys(ctx).create(name, granted)
    _show_key(ctx, f"api-key: created ({', '.join(granted)})", name, key)
    return 0


def api_key_rotate(ctx: Context, name: str) -> int:
    key = _keys(ctx).rotate(name)
    _show_key(ctx, "api-key: rotated (the old key no longer works)", name, key)
    return 0


def api_key_revoke(ctx: Context, name: str) -> int:
    record = _keys(ctx).revoke(name)
    ctx.say(f"api-key: revoked {name!r} at {record.revoked}: refused (401) by both colors within a second")
    return 0


def api_get(ctx: Context, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """GET the active stack's /api/<path> with the CLI's key; DeployError saying why it failed."""
    key = ctx.api_key()
    if key is None:
        raise DeployError("the CLI has no API key yet: `make up` creates it")
    url = f"{ctx.settings.public_url}/api{path}"
    try:
        response = requests.get(
            url,
            params=params,
            headers=headers_with(key),
            timeout=REQUEST_TIMEOUT * 6,
            verify=ctx.settings.public_verify,
        )
    except requests.RequestException as exc:
        raise DeployError(f"the stack does not answer at {url} ({type(exc).__name__}): is it up?") from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200:
        detail = body.get("detail") if isinstance(body, dict) else None
        raise DeployError(f"GET {url} answered HTTP {response.status_code}: {detail or response.text[:200]}")
    return body


def api_keys(ctx: Context) -> int:
    """Every key: name, scopes, created, last used (asked from the active stack), status."""
    records = _keys(ctx).records()
    try:
        used = {entry["name"]: entry["last_used"] for entry in api_get(ctx, "/audit/keys")["keys"]}
        note = ""
    except DeployError as exc:
        used, note = {}, f"last use unknown: {exc}"
    rows = [("NAME", "SCOPES", "CREATED", "LAST USED", "STATUS")]
    rows += [
        (
            r.name,
            ",".join(r.scopes),
            r.created,
            used.get(r.name, "never" if not note else "?"),
            f"revoked {r.revoked}" if r.revoked else "active",
        )
        for r in records
    ]
    _table(ctx, rows)
    ctx.say(f"{len(records)} key(s), {sum(r.revoked is None for r in records)} active ({ctx.settings.api_keys_file})")
    if note:
        ctx.say(note)
    return 0


def _table(ctx: Context, rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        ctx.say("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def read_password(prompt: str) -> str:
    """A password typed twice on a terminal, or the first line of standard input (scripts)."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(prompt)
    check_password(first)
    if getpass.getpass("again: ") != first:
        raise UsageError("the two passwords differ: nothing was changed")
    return first


def user_add(ctx: Context, name: str, replace: bool = False, password: ReadPassword = read_password) -> int:
    store = AnalystStore(ctx.settings.analysts_file)
    store.add(name, password(f"password for {name} (at least 12 characters): "), replace=replace)
    what = "new password for" if replace else "added"
    ctx.say(f"user: {what} {name!r} ({ctx.settings.analysts_file}); the UI reads it at the next sign-in")
    return 0


def user_remove(ctx: Context, name: str) -> int:
    AnalystStore(ctx.settings.analysts_file).remove(name)
    ctx.say(f"user: removed {name!r}: they cannot sign in any more (open sessions end when they expire)")
    return 0


def users(ctx: Context) -> int:
    records = AnalystStore(ctx.settings.analysts_file).records()
    _table(ctx, [("NAME", "CREATED"), *((r.name, r.created) for r in records)])
    ctx.say(f"{len(records)} analyst(s) ({ctx.settings.analysts_file})")
    return 0


def audit(ctx: Context, author: str, window: str, limit: int) -> int:
    """The scoring requests of an analyst or a key over the window, from the active stack's prediction log."""
    trail = api_get(ctx, "/audit/predictions", {"author": author, "window": window, "limit": limit})
    rows = [("TIME", "COLOR", "MODEL", "SOURCE", "KEY", "ANALYST", "APPLICANTS", "FLAGGED")]
    rows += [
        (
            item["time"],
            item["color"],
            f"v{item['model_version']}",
            item["source"],
            item["api_key"] or "-",
            item["analyst"] or "-",
            str(item["count"]),
            str(sum(item["labels"])),
        )
        for item in trail["items"]
    ]
    _table(ctx, rows)
    more = " (the newest; raise LIMIT for more)" if trail["truncated"] else ""
    ctx.say(
        f"audit: {author} made {trail['requests']} scoring request(s){more}, {trail['predictions']} applicant(s), "
        f"from {trail['from']} to {trail['to']}"
    )
    return 0
