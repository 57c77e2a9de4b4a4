"""Who calls: the `Authorization: Bearer <API key>` of a request checked against the key store, the scopes it
needs, and the analyst a service key may name (`X-On-Behalf-Of`). Every refusal is an ApiError in the project's
error shape: 401 (with WWW-Authenticate) for a missing, malformed, unknown or revoked key, 403 for a missing
scope, 503 when the key store cannot be used."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from app.auth.key_store import KeyStore, KeyStoreUnavailable
from app.auth.scopes import ON_BEHALF_OF
from app.core.errors import ApiError, FieldError

REALM = 'Bearer realm="credit-risk"'
AUTHORIZATION = "Authorization"
ON_BEHALF_HEADER = "X-On-Behalf-Of"
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9._~+/-]{16,512}=*$")  # RFC 6750's b64token, of a sensible length
ANALYST_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")  # a user name or an e-mail address


@dataclass(frozen=True, slots=True)
class RequestTag:
    """Which request asked: the id nginx gave it (X-Request-ID, or X-Shadow-Of for a shadow copy: it pairs the copy
    with the served request) and when its handler started (time.perf_counter), for the serving time. The start is
    left out of equality: coalesced single rows of one caller without ids (no nginx in front) stay one group, timed
    from the first one's start."""

    request_id: str | None
    started: float = field(compare=False)


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated request's key (its name, scopes) and, for a service key, the analyst it acts for; a scoring
    request's tag (app.api.routes.predict), so its predictions are logged with its id and serving time."""

    key: str
    scopes: frozenset[str]
    analyst: str | None = None
    request: RequestTag | None = None

    @property
    def author(self) -> str:
        """Who asked: the analyst, else the key."""
        return self.analyst or self.key

    def may(self, scope: str) -> bool:
        return scope in self.scopes


def _unauthorized(detail: str, message: str, error: str | None = None) -> ApiError:
    challenge = REALM if error is None else f'{REALM}, error="{error}"'
    return ApiError(401, detail, [FieldError(None, AUTHORIZATION, message)], {"WWW-Authenticate": challenge})


def _forbidden(detail: str, field: str, scope: str) -> ApiError:
    challenge = f'{REALM}, error="insufficient_scope", scope="{scope}"'
    return ApiError(
        403, detail, [FieldError(None, field, f"needs the scope {scope!r}")], {"WWW-Authenticate": challenge}
    )


class Authenticator:
    """Checks the credentials of requests against one key store; counts refusals by reason (`on_refusal`) and
    notes each key's use (`on_use`, for its `last used`)."""

    def __init__(
        self,
        store: KeyStore,
        on_use: Callable[[str], None] = lambda name: None,
        on_refusal: Callable[[str], None] = lambda reason: None,
    ) -> None:
        self.store = store
        self.on_use = on_use
        self.on_refusal = on_refusal

    def caller(self, headers: Mapping[str, str]) -> Caller | None:
        """The caller the headers authenticate, None when they carry no credential; ApiError for a bad one."""
        value = headers.get("authorization")
        if value is None:
            return None
        scheme, _, token = value.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not TOKEN_PATTERN.match(token):
            self.on_refusal("malformed")
            raise _unauthorized(
                "malformed Authorization header: expected `Bearer <API key>`", "not a Bearer API key", "invalid_request"
            )
        try:
            key = self.store.lookup(token)
        except KeyStoreUnavailable as exc:
            self.on_refusal("store_unavailable")
            raise ApiError(503, f"authentication is unavailable: {exc}") from None
        if key is None or key.revoked:
            reason = "unknown" if key is None else "revoked"
            self.on_refusal(reason)
            detail = "invalid API key" if key is None else f"the API key {key.name!r} was revoked"
            raise _unauthorized(detail, f"{reason} API key", "invalid_token")
        self.on_use(key.name)
        return Caller(key.name, key.scopes, self._analyst(headers, key.name, key.scopes))

    def _analyst(self, headers: Mapping[str, str], name: str, scopes: frozenset[str]) -> str | None:
        analyst = headers.get("x-on-behalf-of")
        if analyst is None:
            return None
        if ON_BEHALF_OF not in scopes:
            self.on_refusal("scope")
            raise _forbidden(
                f"the API key {name!r} may not act on behalf of an analyst", ON_BEHALF_HEADER, ON_BEHALF_OF
            )
        if not ANALYST_PATTERN.match(analyst):
            raise ApiError(
                400,
                f"invalid {ON_BEHALF_HEADER} header",
                [FieldError(None, ON_BEHALF_HEADER, "a user name or e-mail address (letters, digits, . _ @ + -)")],
            )
        return analyst

    def require(self, headers: Mapping[str, str], scopes: Iterable[str]) -> Caller:
        """The caller, who must hold every one of `scopes`: 401 without a (good) credential, 403 without a scope."""
        caller = self.caller(headers)
        if caller is None:
            if self.store.problem is not None:  # nobody could be authenticated: say why rather than "log in"
                self.on_refusal("store_unavailable")
                raise ApiError(503, f"authentication is unavailable: {self.store.problem}")
            self.on_refusal("missing")
            raise _unauthorized("authentication required: send `Authorization: Bearer <API key>`", "missing credential")
        for scope in scopes:
            if not caller.may(scope):
                self.on_refusal("scope")
                raise _forbidden(
                    f"the API key {caller.key!r} lacks the scope {scope!r} this route requires", AUTHORIZATION, scope
                )
        return caller
