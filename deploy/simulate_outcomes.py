"""Simulate observed outcomes for the demo: each logged prediction defaults with its own predicted probability.

    python -m deploy.simulate_outcomes [--url URL] [--ca-file PEM] [--author deploy-cli] [--window 30d]
                                       [--share 0.8] [--seed 0] [--out FILE] [--api-key KEY]

The predictions come from the audit trail of `--author` (the key `make simulate-traffic` sends with, by default);
deployment probes are skipped. A seeded draw gives each one the data set's positive label with its predicted
probability (a perfectly calibrated world: realized AUC and calibration then match the model's own), observed today.
A `--share` of them get an outcome (labels arrive gradually). The outcomes are written to `--out` (a CSV `make
load-outcomes` reads) and loaded like it. The key needs the scopes read, audit and outcomes (the deploy CLI's has
them). Exit codes as `make load-outcomes`.
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import datetime, timezone
from pathlib import Path

import requests

from deploy.files import write_atomic
from deploy.load_outcomes import LoadError, as_csv, load, summary
from deploy.public_client import add_public_arguments, session as public_session, verify_of
from deploy.simulate_traffic import default_key


def get_json(session: requests.Session, url: str, params: dict | None = None) -> dict:
    """A GET's JSON answer; LoadError naming the problem (a refused key names the scopes needed)."""
    try:
        response = session.get(url, params=params, timeout=60)
    except requests.RequestException as exc:
        raise LoadError(f"cannot reach {url}: {exc}") from None
    if response.status_code in (401, 403):
        raise LoadError(f"the API key was refused ({response.status_code}) by {url}: it needs read, audit and outcomes")
    if not response.ok:
        raise LoadError(f"{url} answered {response.status_code}: {response.text[:200]}")
    return response.json()


def draw_outcomes(items: list[dict], labels: tuple[str, str], share: float, rng: random.Random, day: str) -> list:
    """[prediction_id, outcome, observed_date] for a `share` of the predictions: positive with their probability."""
    positive, negative = labels
    rows = []
    for item in items:
        if item["source"] == "probe" or not item.get("prediction_ids"):
            continue
        for pid, probability in zip(item["prediction_ids"], item["probabilities"]):
            if rng.random() < share:
                rows.append([pid, positive if rng.random() < probability else negative, day])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_public_arguments(parser)
    parser.add_argument("--author", default="deploy-cli", help="whose logged predictions get outcomes")
    parser.add_argument("--window", default="30d", help="how far back predictions are taken")
    parser.add_argument("--share", type=float, default=0.8, help="share of the predictions given an outcome")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("var/simulated-outcomes.csv"), help="the CSV written")
    parser.add_argument("--api-key", help="an API key with the scopes read, audit and outcomes")
    args = parser.parse_args(argv)
    if not 0 < args.share <= 1:
        print("error: --share must be in (0, 1]", file=sys.stderr)
        return 2
    key = args.api_key or default_key()
    try:
        with public_session(args, key) as session:
            dataset = get_json(session, f"{args.url}/model")["dataset"]
            trail = get_json(
                session,
                f"{args.url}/audit/predictions",
                {"author": args.author, "window": args.window, "limit": 10_000},
            )
        labels = (dataset["positive_label"], dataset["negative_label"])
        today = datetime.now(timezone.utc).date().isoformat()
        rows = draw_outcomes(trail["items"], labels, args.share, random.Random(args.seed), today)
        if not rows:
            raise LoadError(f"no predictions by {args.author!r} in the last {args.window}: run `make simulate-traffic`")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(args.out, as_csv(rows).decode(), 0o644)
        print(f"drew {len(rows)} outcomes for {trail['predictions']} predictions by {args.author!r}: {args.out}")
        totals = load(rows, args.url, key, 5000, verify_of(args))
    except (LoadError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(summary(totals) + ". Open the Monitoring page to see realized performance.")
    return 1 if totals["unknown"] or totals["conflicts"] else 0


if __name__ == "__main__":
    sys.exit(main())
