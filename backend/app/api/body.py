"""Request bodies: content type, size limit (checked before and while reading) and emptiness."""

from __future__ import annotations

from typing import Literal

from starlette.requests import ClientDisconnect, Request

from app.core.errors import ApiError

BodyKind = Literal["json", "csv"]


def body_kind(request: Request, allowed: tuple[BodyKind, ...]) -> BodyKind:
    """JSON (application/json, */*+json, or no content type) or CSV (text/csv); else 415."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type in ("", "application/json") or media_type.endswith("+json"):
        kind: BodyKind | None = "json"
    elif media_type in ("text/csv", "application/csv"):
        kind = "csv"
    else:
        kind = None
    if kind not in allowed:
        accepted = " or ".join("application/json" if k == "json" else "text/csv" for k in allowed)
        raise ApiError(415, f"unsupported content type {media_type!r}: send {accepted}")
    return kind


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, straight from the ASGI messages: 413 as soon as it exceeds `limit` bytes
    (declared or read), 400 if empty."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"request body of {declared} bytes exceeds the limit of {limit} bytes")
    chunks, size, more_body = [], 0, True
    while more_body:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk, more_body = message.get("body", b""), message.get("more_body", False)
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)  # one chunk: the same object, no copy
    if not body.strip():
        raise ApiError(400, "empty request body")
    return body


def wants_csv(request: Request) -> bool:
    """True when the client asks for text/csv (and not for JSON first)."""
    accept = request.headers.get("accept", "").lower()
    if "text/csv" not in accept:
        return False
    json_at = accept.find("application/json")
    return json_at == -1 or accept.find("text/csv") < json_at
