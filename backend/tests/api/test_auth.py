"""Access control against a real backend process: every route refuses missing, malformed, unknown, revoked and
under-scoped credentials (401/403 in the error shape, never a 5xx); keys change without a restart; a missing or
corrupt key store fails closed and says why."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from deploy.api_keys import ApiKeyStore
from tests.kit.api_keys import bearer
from tests.kit.backend import BackendProcess

pytestmark = pytest.mark.slow

OPEN_ROUTES = {"/health", "/ready"}
MALFORMED = [
    "Basic dXNlcjpwYXNz",
    "Bearer",
    "bearer short",
    "Bearer " + "x" * 600,
    "Token abcdefghijklmnopq",
]
MALFORMED += ["Bearer abc def ghi jkl mno", "Bearer ünïcödé-ünïcödé-ü".encode()]  # raw UTF-8 bytes


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    """A real backend without a model (routes that get past authentication answer 503)."""
    from tests.kit.backend import backend_process

    with backend_process(None, tmp_path_factory.mktemp("auth")) as live:
        yield live


def operations(server: BackendProcess) -> list[tuple[str, str, frozenset[str]]]:
    """(method, path, scopes) of every protected operation, from the app's own OpenAPI document."""
    document = httpx.get(f"{server.url}/openapi.json", timeout=10).json()
    found = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if path not in OPEN_ROUTES:
                (requirement,) = operation["security"]
                found.append((method.upper(), path.replace("{name}", "roc_curve"), frozenset(requirement["ApiKey"])))
    return found


def call(server: BackendProcess, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.request(
        method, f"{server.url}{path}", headers=headers, json={} if method == "POST" else None, timeout=10
    )


def assert_refused(response: httpx.Response, status: int, where: str) -> None:
    assert response.status_code == status, f"{where}: {response.status_code} {response.text[:200]}"
    body = response.json()
    assert set(body) == {"detail", "errors"} and body["errors"], where
    assert response.headers["www-authenticate"].startswith('Bearer realm="credit-risk"'), where
    if status == 401:
        assert "x-deployment-color" not in response.headers, f"{where}: an unauthenticated caller learns the deployment"


def test_every_protected_route_refuses_bad_credentials(server: BackendProcess) -> None:
    store = ApiKeyStore(server.key_store)
    revoked = store.create("revoked-one", ["score", "read", "audit", "metrics"])
    store.revoke("revoked-one")
    nothing = store.create("no-scope-that-helps", ["probe"])
    found = operations(server)
    assert {path for _, path, _ in found} >= {"/predict", "/predict/batch", "/model", "/schema", "/metrics"}
    time.sleep(1.2)  # the key store is re-read at most every second
    for method, path, _ in found:
        where = f"{method} {path}"
        assert_refused(call(server, method, path, {}), 401, f"{where} without a credential")
        for value in MALFORMED:
            assert_refused(call(server, method, path, {"Authorization": value}), 401, f"{where} with {value[:20]!r}")
        assert_refused(call(server, method, path, bearer("crk_" + "A" * 43)), 401, f"{where} with an unknown key")
        refused = call(server, method, path, bearer(revoked))
        assert_refused(refused, 401, f"{where} with a revoked key")
        assert "revoked" in refused.json()["detail"]
        forbidden = call(server, method, path, bearer(nothing))
        assert_refused(forbidden, 403, f"{where} without its scope")
        assert 'error="insufficient_scope"' in forbidden.headers["www-authenticate"]


def test_each_route_needs_its_own_scope(server: BackendProcess) -> None:
    store = ApiKeyStore(server.key_store)
    scopes = ("score", "read", "audit", "outcomes", "metrics")
    keys = {scope: store.create(f"only-{scope}", [scope]) for scope in scopes}
    time.sleep(1.2)
    for method, path, needed in operations(server):
        for scope, key in keys.items():
            status = call(server, method, path, bearer(key)).status_code
            if scope in needed:
                assert status not in (401, 403), f"{method} {path} refused a {scope} key"
            else:
                assert status == 403, f"{method} {path} let a {scope} key through ({status})"


def test_health_and_ready_say_more_only_to_an_authenticated_caller(server: BackendProcess) -> None:
    assert httpx.get(f"{server.url}/health", timeout=10).json() == {"status": "ok"}
    anonymous = httpx.get(f"{server.url}/ready", timeout=10)
    assert anonymous.status_code == 503 and anonymous.json() == {"status": "not_ready"}
    known = httpx.get(f"{server.url}/ready", headers=server.headers, timeout=10)
    assert known.status_code == 503 and known.json()["phase"] == "failed" and "no-such-bundle" in known.json()["reason"]
    assert known.headers["x-deployment-color"] == "green" and known.headers["x-model-version"] == "none"
    health = httpx.get(f"{server.url}/health", headers=server.headers, timeout=10).json()
    assert health["color"] == "green" and "revision" in health
    bad = httpx.get(f"{server.url}/ready", headers=bearer("crk_" + "B" * 43), timeout=10)
    assert bad.status_code == 401, "a presented credential must be good, even on an open route"


def wait_status(server: BackendProcess, key: str, status: int, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        got = httpx.get(f"{server.url}/schema", headers=bearer(key), timeout=10).status_code
        if got == status:
            return
        assert time.monotonic() < deadline, f"still {got}, not {status}"
        time.sleep(0.1)


def test_keys_created_rotated_and_revoked_take_effect_without_a_restart(server: BackendProcess) -> None:
    store = ApiKeyStore(server.key_store)
    first = store.create("rotating", ["read"])
    wait_status(server, first, 503)  # authenticated (no model here: 503), not 401
    second = store.rotate("rotating")
    wait_status(server, first, 401)
    wait_status(server, second, 503)
    store.revoke("rotating")
    wait_status(server, second, 401)
    assert server.process.poll() is None, "the same process all along"


@pytest.mark.parametrize(
    "damage, named",
    [
        (lambda path: path.unlink(), "cannot be read"),
        (lambda path: path.write_text("{not json"), "not a key store"),
        (lambda path: path.write_text('{"version": 1, "keys": {"x": {"sha256": "nothex"}}}'), "not a key store"),
    ],
)
def test_a_missing_or_corrupt_key_store_fails_closed_and_says_why(
    start_live_server: Callable, damage: Callable[[Path], None], named: str
) -> None:
    with start_live_server(None) as live:
        good = live.key_store.read_bytes()
        damage(live.key_store)
        deadline = time.monotonic() + 10
        while httpx.get(f"{live.url}/health", headers=live.headers, timeout=10).json().get("color"):
            assert time.monotonic() < deadline, "the damaged key store was not noticed"
            time.sleep(0.1)
        refused = httpx.post(f"{live.url}/predict", json={}, headers=live.headers, timeout=10)
        assert refused.status_code == 503 and named in refused.json()["detail"], refused.text
        assert str(live.key_store) in refused.json()["detail"]
        assert httpx.post(f"{live.url}/predict", json={}, timeout=10).status_code == 503, "anonymous too"
        assert httpx.get(f"{live.url}/ready", timeout=10).json() == {"status": "not_ready"}
        assert httpx.get(f"{live.url}/health", timeout=10).status_code == 200, "still alive"
        live.wait_for_log("every authenticated request is refused (503)")
        live.key_store.write_bytes(good)
        deadline = time.monotonic() + 10
        while not httpx.get(f"{live.url}/health", headers=live.headers, timeout=10).json().get("color"):
            assert time.monotonic() < deadline, "the repaired key store was not noticed"
            time.sleep(0.1)
        assert "(usable again)" in live.log_text(), "the log says so"
        assert httpx.get(f"{live.url}/ready", headers=live.headers, timeout=10).json()["phase"] == "failed"
