"""Where a scoring request comes from: live traffic (single or batch), a deployment check (probe) or nginx's shadow
copy of a live request (shadow), and the request's tag (its id and start) that its logged predictions carry.

`X-Traffic-Source: probe` is honored only from a key with the `probe` scope, which only the deploy CLI's own key holds:
anyone else's requests count as traffic. `X-Shadow-Of` is set by nginx alone (snippets/shadow-location.conf; every
API proxy path drops a client's copy): the copy is scored normally, logged as `shadow` under the served request's id,
and never counted as served.
"""

from __future__ import annotations

import dataclasses
import re
import time

from starlette.requests import Request

from app.auth.callers import Caller, RequestTag
from app.auth.scopes import PROBE
from app.core.scoring import Source

TRAFFIC_SOURCE_HEADER = "x-traffic-source"
SHADOW_HEADER = "x-shadow-of"
REQUEST_ID_HEADER = "x-request-id"
REQUEST_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")  # nginx's $request_id is 32 hex digits


def _request_id(value: str | None) -> str | None:
    return value if value and REQUEST_ID.match(value) else None


def origin(request: Request, caller: Caller, default: Source) -> tuple[Source, Caller]:
    """The request's source (`default` is `single` or `batch`) and its caller tagged with the request's id."""
    started = time.perf_counter()
    shadow_of = _request_id(request.headers.get(SHADOW_HEADER))
    if shadow_of is not None:
        return "shadow", dataclasses.replace(caller, request=RequestTag(shadow_of, started))
    source: Source = "probe" if caller.may(PROBE) and request.headers.get(TRAFFIC_SOURCE_HEADER) == "probe" else default
    tag = RequestTag(_request_id(request.headers.get(REQUEST_ID_HEADER)), started)
    return source, dataclasses.replace(caller, request=tag)
