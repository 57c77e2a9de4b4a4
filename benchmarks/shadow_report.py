"""What the champion vs challenger report costs a scrape: `python -m benchmarks.shadow_report [--requests N]`.

Writes N served requests (one applicant each, with nginx's request ids, over the last hour) into a fresh prediction
log, without any shadow copy (the usual state: shadow is off), then times reading and pairing the window as the
`shadow_*` gauges do. Prints the best of three in seconds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from contextlib import closing
from pathlib import Path

from benchmarks.serving import ROOT

sys.path.insert(0, str(ROOT / "backend"))

from app.monitoring.prediction_log import connect, migrate  # noqa: E402
from app.monitoring.shadow_pairs import pair, read_answers  # noqa: E402

COLUMNS = (
    "ts, model_version, color, source, prediction_count, probabilities, labels, inputs, request_id, seconds,"
    " risk_bands, decisions"
)


def served_log(path: Path, requests: int, now: float) -> None:
    """`requests` served single-applicant requests spread over the last 50 minutes."""
    rows = [
        (now - 3000 + i * 3000 / requests, "1", "blue", "single", 1, "[0.42]", "[1]", "{}", uuid.uuid4().hex, 0.001)
        + ('["medium"]', '["review"]')
        for i in range(requests)
    ]
    with closing(connect(path)) as connection:
        migrate(connection)
        connection.executemany(f"INSERT INTO prediction_requests ({COLUMNS}) VALUES ({','.join('?' * 12)})", rows)
        connection.commit()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000, help="served requests in the log's last hour")
    args = parser.parse_args(argv)
    path = Path(tempfile.mkdtemp(prefix="shadow-bench-")) / "predictions.db"
    print(f"writing {args.requests:,} served requests (no shadow copy) into {path}")
    served_log(path, args.requests, time.time())
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        pairing = pair(read_answers(path, time.time() - 3600))
        timings.append(time.perf_counter() - started)
    print(f"shadow report over the last hour: best {min(timings):.3f}s of 3 ({len(pairing.pairs)} pairs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
