"""Send realistic, then shifted, applicant traffic through nginx to exercise monitoring.

    python -m deploy.simulate_traffic [--url URL] [--ca-file PEM] [--count 400] [--phase both] [--api-key KEY]

Realistic applicants are real rows of the dataset drawn at random; shifted ones (another draw)
have larger numbers (amounts, durations, ages ... scaled up within the accepted bounds) and three
categorical features pinned to a single category, so the Monitoring page shows drift. Requests are authenticated with
--api-key (default: $API_KEY, else the deploy CLI's own key in the state directory). Exit 0 when every request was
answered, 1 when some failed, 2 on bad usage. --url and --ca-file default to the public port over HTTPS and the CA
bundle `make up` wrote (deploy/public_client.py).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import requests

from deploy.public_client import VerifiedSession, add_public_arguments, verify_of

DEFAULT_DATA = Path("data/german_credit.csv")


def dataset_applicants(data: Path, features: Sequence[Mapping[str, Any]], count: int, rng: random.Random) -> list[dict]:
    """`count` real rows of the dataset drawn at random (its file is ordered), restricted to the served features;
    without replacement while the dataset has enough rows."""
    frame = pd.read_csv(data)
    names = [f["name"] for f in features]
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise ValueError(f"{data} lacks served feature(s): {', '.join(missing)}")
    records = frame[names].to_dict("records")
    drawn = rng.sample(records, count) if count <= len(records) else rng.choices(records, k=count)
    return [dict(record) for record in drawn]


def shift(
    applicant: Mapping[str, Any],
    features: Sequence[Mapping[str, Any]],
    factor: float,
    only: Collection[str] | None = None,
    pinned: Collection[str] = (),
) -> dict[str, Any]:
    """The applicant with numeric features (all, or those in `only`) scaled by `factor` within their accepted
    bounds, and the categorical features in `pinned` set to their last category."""
    shifted = dict(applicant)
    for feature in features:
        name = feature["name"]
        if feature["type"] == "numeric" and (only is None or name in only):
            value = min(float(applicant[name]) * factor, float(feature["upper_bound"]))
            shifted[name] = round(value) if feature.get("dtype") == "integer" else value
        elif feature["type"] == "categorical" and name in pinned:
            shifted[name] = feature["categories"][-1]
    return shifted


def default_key() -> str | None:
    """$API_KEY, else the deploy CLI's key (`make up` creates it)."""
    from deploy.service_keys import cli_key
    from deploy.settings import DeploySettings

    return os.environ.get("API_KEY") or cli_key(DeploySettings.from_env())


def send(session: requests.Session, url: str, applicant: dict[str, Any]) -> tuple[int, int | None]:
    try:
        response = session.post(f"{url}/predict", json=applicant, timeout=10)
        label = response.json().get("label") if response.ok else None
        return response.status_code, label
    except (requests.RequestException, ValueError):
        return 0, None


def run_phase(
    url: str, name: str, applicants: list[dict], concurrency: int, headers: dict[str, str], verify: str | bool = True
) -> Counter:
    print(f"{name}: sending {len(applicants)} applicants to {url}/predict", flush=True)
    outcomes: Counter = Counter()
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool, VerifiedSession(verify) as session:
        session.headers.update(headers)
        for done, (status, label) in enumerate(pool.map(lambda a: send(session, url, a), applicants), start=1):
            outcomes["ok" if status == 200 else f"http {status or 'error'}"] += 1
            outcomes["flagged"] += label == 1
            if done % max(len(applicants) // 10, 1) == 0 or done == len(applicants):
                print(f"  {name}: {done}/{len(applicants)} sent", flush=True)
    print(
        f"  {name}: {outcomes['ok']} ok, {outcomes['flagged']} flagged as default, "
        f"{time.perf_counter() - started:.1f}s",
        flush=True,
    )
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_public_arguments(parser)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="CSV with realistic applicants")
    parser.add_argument("--count", type=int, default=400, help="applicants per phase")
    parser.add_argument("--phase", choices=["realistic", "shifted", "both"], default="both")
    parser.add_argument("--factor", type=float, default=1.8, help="scale applied to numeric features when shifted")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--api-key", help="an API key with the scopes score and read (default: see above)")
    args = parser.parse_args(argv)
    if args.count < 1 or args.concurrency < 1 or args.factor <= 0:
        print("error: --count, --concurrency and --factor must be positive", file=sys.stderr)
        return 2
    key = args.api_key or default_key()
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        response = requests.get(f"{args.url}/schema", headers=headers, timeout=10, verify=verify_of(args))
        response.raise_for_status()
        schema = response.json()["features"]
        rng = random.Random(args.seed)
        # Two independent draws: the same rows in both phases would overstate the evidence of drift.
        applicants = dataset_applicants(args.data, schema, args.count, rng)
        to_shift = dataset_applicants(args.data, schema, args.count, rng)
    except (requests.RequestException, ValueError, KeyError) as exc:
        print(f"error: cannot prepare traffic for {args.url}: {exc}", file=sys.stderr)
        return 2
    categorical = [f["name"] for f in schema if f["type"] == "categorical"]
    skewed = set(rng.sample(categorical, min(3, len(categorical))))
    totals: Counter = Counter()
    if args.phase in ("realistic", "both"):
        totals += run_phase(args.url, "realistic", applicants, args.concurrency, headers, verify_of(args))
    if args.phase in ("shifted", "both"):
        shifted = [shift(a, schema, args.factor, pinned=skewed) for a in to_shift]
        totals += run_phase(
            args.url,
            f"shifted (x{args.factor} numerics; skewed: {', '.join(sorted(skewed))})",
            shifted,
            args.concurrency,
            headers,
            verify_of(args),
        )
    failed = sum(v for k, v in totals.items() if k.startswith("http"))
    print(f"done: {totals['ok']} answered, {failed} failed. Open the Monitoring page to see the drift.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
