"""Load observed outcomes into the running stack: POST an outcomes CSV through nginx, in chunks.

    python -m deploy.load_outcomes FILE [--url URL] [--ca-file PEM] [--api-key KEY] [--chunk 5000]

FILE has the header prediction_id,outcome,observed_date (the ids the prediction answers gave). The key is --api-key,
else $API_KEY, else the deploy CLI's own key (it holds the scope `outcomes`). Outcomes already recorded with the same
value count as unchanged, so a load can be re-run. Exit 0 when every outcome is recorded or unchanged, 1 when some
ids are unknown or conflict with a recorded outcome (the rest is recorded), 2 on bad usage, a refused key or a
rejected chunk (422: nothing of that chunk recorded; earlier chunks are, and re-running is safe).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections import Counter
from pathlib import Path

import requests

from deploy.public_client import VerifiedSession, add_public_arguments, verify_of
from deploy.simulate_traffic import default_key

COLUMNS = ("prediction_id", "outcome", "observed_date")
COUNTS = ("recorded", "unchanged", "unknown", "conflicts")
SHOWN_ERRORS = 5


class LoadError(Exception):
    """A problem that stops the load (exit 2): the message is its one line."""


def read_rows(path: Path) -> list[list[str]]:
    """The data rows of an outcomes CSV (LoadError for a missing file or a wrong header)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadError(f"cannot read {path}: {exc}") from None
    try:
        header, *rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row] or [[]]
    except csv.Error as exc:
        raise LoadError(f"{path} is not valid CSV: {exc}") from None
    if tuple(name.strip() for name in header) != COLUMNS:
        raise LoadError(f"{path}: the header must be {','.join(COLUMNS)} (got {','.join(header) or 'nothing'})")
    return rows


def as_csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def post_chunk(session: requests.Session, url: str, rows: list[list[str]]) -> dict:
    """One chunk's answer (200, 404 or 409 all carry the counts); LoadError for anything that stops the load."""
    try:
        response = session.post(f"{url}/outcomes", data=as_csv(rows), headers={"Content-Type": "text/csv"}, timeout=120)
    except requests.RequestException as exc:
        raise LoadError(f"cannot reach {url}: {exc}") from None
    if response.status_code in (401, 403):
        raise LoadError(
            f"the API key was refused ({response.status_code}): it needs the scope 'outcomes' "
            "(set API_KEY, or run `make up` for the deploy CLI's key)"
        )
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code in (200, 404, 409) and "recorded" in body:
        return body
    errors = "; ".join(
        f"row {e.get('row')}: {e.get('field')}: {e.get('message')}" for e in body.get("errors", [])[:SHOWN_ERRORS]
    )
    raise LoadError(f"rejected ({response.status_code}): {body.get('detail', response.text[:200])} {errors}".strip())


def load(rows: list[list[str]], url: str, key: str | None, chunk: int, verify: str | bool = True) -> Counter:
    """Post `rows` in chunks, printing progress; the summed counts. `verify`: requests' (an https:// URL's CA)."""
    totals: Counter = Counter()
    with VerifiedSession(verify) as session:
        if key:
            session.headers["Authorization"] = f"Bearer {key}"
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            try:
                body = post_chunk(session, url, part)
            except LoadError as exc:
                raise LoadError(f"outcomes {start + 1}-{start + len(part)}: {exc}") from None
            totals.update({name: body[name] for name in COUNTS})
            print(f"  {start + len(part)}/{len(rows)} sent: " + ", ".join(f"{body[n]} {n}" for n in COUNTS), flush=True)
            for pid in body.get("conflicting_ids", [])[:SHOWN_ERRORS]:
                print(f"    conflict: {pid} is already recorded with another outcome", flush=True)
    return totals


def summary(totals: Counter) -> str:
    return "done: " + ", ".join(f"{totals[name]} {name}" for name in COUNTS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="CSV with prediction_id,outcome,observed_date")
    add_public_arguments(parser)
    parser.add_argument("--api-key", help="an API key with the scope outcomes (default: see above)")
    parser.add_argument("--chunk", type=int, default=5000, help="outcomes per request (at most MAX_BATCH_ROWS)")
    args = parser.parse_args(argv)
    if args.chunk < 1 or not str(args.file).strip() or args.file == Path("."):
        print("error: name an outcomes CSV (make load-outcomes FILE=...) and a positive --chunk", file=sys.stderr)
        return 2
    try:
        rows = read_rows(args.file)
        if not rows:
            raise LoadError(f"{args.file} lists no outcomes")
        print(f"loading {len(rows)} outcomes from {args.file} into {args.url}", flush=True)
        totals = load(rows, args.url, args.api_key or default_key(), args.chunk, verify_of(args))
    except LoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(summary(totals))
    return 1 if totals["unknown"] or totals["conflicts"] else 0


if __name__ == "__main__":
    sys.exit(main())
