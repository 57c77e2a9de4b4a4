"""The API key scheme as FastAPI sees it: `requires(scope)` protects any route (a parameter or a route/router
dependency) and declares the Bearer scheme in OpenAPI, so /docs has "Authorize"; `optional_caller` serves the
open routes (/health, /ready), which say more to an authenticated caller. The caller is kept on the request
(`request.state.caller`): the audit trail and the deployment headers read it there."""

from __future__ import annotations

from typing import Any

from fastapi import Security
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security import SecurityScopes
from fastapi.security.base import SecurityBase
from starlette.requests import Request

from app.auth.callers import Authenticator, Caller
from app.auth.scopes import SCOPES

SCHEME_NAME = "ApiKey"
SCHEME_DESCRIPTION = (
    "An API key: `Authorization: Bearer <key>` (`make api-key NAME=... SCOPES=...` creates one). Each route "
    "lists the scope it needs: " + "; ".join(f"`{scope}`: {what}" for scope, what in SCOPES.items()) + "."
)


class BearerApiKey(SecurityBase):
    """The scheme (stateless): the app's Authenticator (app.state.auth) does the checking."""

    def __init__(self) -> None:
        self.model = HTTPBearerModel(bearerFormat="API key", description=SCHEME_DESCRIPTION)
        self.scheme_name = SCHEME_NAME

    async def __call__(self, request: Request, security_scopes: SecurityScopes) -> Caller:
        authenticator: Authenticator = request.app.state.auth
        caller = authenticator.require(request.headers, security_scopes.scopes)
        request.state.caller = caller
        return caller


API_KEY = BearerApiKey()


def requires(scope: str) -> Any:
    """A dependency that lets only callers holding `scope` through (its value: the Caller)."""
    return Security(API_KEY, scopes=[scope])


def optional_caller(request: Request) -> Caller | None:
    """The caller of an open route, None without a credential; a bad credential is refused all the same."""
    authenticator: Authenticator = request.app.state.auth
    caller = authenticator.caller(request.headers)
    if caller is not None:
        request.state.caller = caller
    return caller


def caller_of(scope: dict[str, Any]) -> Caller | None:
    """The authenticated caller of an ASGI request scope (set by the dependencies above), if any."""
    state = scope.get("state")
    return state.get("caller") if state else None
