"""What the scrape-time gauges cost: `python -m benchmarks.shadow_report [--requests N] [--bundle DIR]`.

Writes N served requests (one applicant each, with nginx's request ids, over the last hour) into a fresh prediction
log, without any shadow copy (the usual state: shadow is off), then times reading and pairing the window as the
`shadow_*` gauges do; with `--bundle` (an exported bundle: its example applicant is every request's input), also
the drift summary behind the `*_drift_*` gauges. Prints the best of three in seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from benchmarks.serving import ROOT

sys.path.insert(0, str(ROOT / "backend"))

from app.core.config import Settings  # noqa: E402
from app.monitoring.prediction_log import connect, migrate  # noqa: E402
from app.monitoring.service import Monitoring  # noqa: E402
from app.monitoring.shadow_pairs import pair, read_answers  # noqa: E402

COLUMNS = (
    "ts, model_version, color, source, prediction_count, probabilities, labels, inputs, request_id, seconds,"
    " risk_bands, decisions"
)


def served_log(path: Path, requests: int, now: float, applicant: dict | None = None) -> None:
    """`requests` served single-applicant requests spread over the last 50 minutes (inputs: `applicant`)."""
    inputs = json.dumps({"columns": list(applicant), "rows": [list(applicant.values())]}) if applicant else "{}"
    rows = [
        (now - 3000 + i * 3000 / requests, "1", "blue", "single", 1, "[0.42]", "[1]", inputs, uuid.uuid4().hex, 0.001)
        + ('["medium"]', '["review"]')
        for i in range(requests)
    ]
    with closing(connect(path)) as connection:
        migrate(connection)
        connection.executemany(f"INSERT INTO prediction_requests ({COLUMNS}) VALUES ({','.join('?' * 12)})", rows)
        connection.commit()


def best_of_three(compute: Callable[[], object]) -> tuple[float, object]:
    timings, value = [], None
    for _ in range(3):
        started = time.perf_counter()
        value = compute()
        timings.append(time.perf_counter() - started)
    return min(timings), value


def drift_summary(bundle: Path, path: Path) -> Callable[[], dict]:
    """The drift gauges' computation over the last hour of the log at `path`, against `bundle`'s reference."""
    metadata = json.loads((bundle / "metadata.json").read_text())
    settings = Settings(SERVED_BUNDLE=bundle, PREDICTION_LOG_PATH=path, API_KEYS_PATH=path.with_name("keys.json"))
    monitoring = Monitoring(settings, "blue", lambda count: None)
    return lambda: monitoring.summary("1h", metadata["reference"], str(metadata["version"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000, help="served requests in the log's last hour")
    parser.add_argument("--bundle", type=Path, help="an exported bundle: also time the drift summary against it")
    args = parser.parse_args(argv)
    path = Path(tempfile.mkdtemp(prefix="shadow-bench-")) / "predictions.db"
    applicant = json.loads((args.bundle / "metadata.json").read_text())["example"] if args.bundle else None
    print(f"writing {args.requests:,} served requests (no shadow copy) into {path}")
    served_log(path, args.requests, time.time(), applicant)
    seconds, pairing = best_of_three(lambda: pair(read_answers(path, time.time() - 3600)))
    print(f"shadow report over the last hour: best {seconds:.3f}s of 3 ({len(pairing.pairs)} pairs)")
    if args.bundle:
        seconds, summary = best_of_three(drift_summary(args.bundle, path))
        print(f"drift summary over the last hour: best {seconds:.3f}s of 3 ({summary['count']:,} predictions)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
