"""What authenticating a request costs the backend, in this process: `python -m benchmarks.auth_overhead`.

Times the Authenticator's check of a Bearer key with a scope (header parsing, the key store's change check,
SHA-256, the lookup, the scope) over many calls, and the same check while the key store file is re-read on every
call (API_KEYS_RECHECK_S=0), against a store of `--keys` keys. Prints the medians in microseconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.serving import ROOT

sys.path.insert(0, str(ROOT / "backend"))

from app.auth.callers import Authenticator  # noqa: E402
from app.auth.key_store import KeyStore  # noqa: E402
from deploy.api_keys import ApiKeyStore  # noqa: E402


def per_call_us(authenticator: Authenticator, headers: dict[str, str], calls: int, rounds: int = 5) -> float:
    """The median over rounds of the mean time of one check, in microseconds."""
    means = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            authenticator.require(headers, ("score",))
        means.append((time.perf_counter() - started) / calls * 1e6)
    return statistics.median(means)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=100, help="keys in the store")
    parser.add_argument("--calls", type=int, default=100_000, help="checks per round")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        store = ApiKeyStore(Path(tmp) / "api-keys.json")
        key = store.create("client", ["score", "read"])
        for number in range(args.keys - 1):
            store.create(f"other-{number}", ["read"])
        headers = {"authorization": f"Bearer {key}"}
        cached = per_call_us(Authenticator(KeyStore(store.path, recheck_s=1.0)), headers, args.calls)
        stat_each = per_call_us(Authenticator(KeyStore(store.path, recheck_s=0.0)), headers, args.calls // 10)
    print(f"authentication of one request, {args.keys} keys in the store (median of 5 rounds):")
    print(f"  store checked for changes at most every second (the default): {cached:.2f} us")
    print(f"  store's file stat()ed on every request (API_KEYS_RECHECK_S=0):  {stat_each:.2f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
