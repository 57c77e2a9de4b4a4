"""Benchmark this backend against `mlflow models serve` on the same bundle (`make bench`).

    python -m benchmarks.serving [--bundle models/credit-default/latest] [--duration 5] [--rounds 3]
                                 [--concurrency 1,8,32] [--batch-rows 1000] [--batch-repeats 20]
                                 [--cold-starts 3] [--pin none|wrk|both] [--cpu-latency-us 0|none]

Both servers run one worker on the same champion and get the same applicants in the same JSON
shape (ours: an applicant object / an array of them; mlflow: `dataframe_records`). Steps:
in-process predict time of one row; cold start (process start -> readiness 200, best of
--cold-starts); single-row load with wrk (one thread, pinned to the last CPU by default) at each
concurrency, the two servers interleaved round by round, the median round counting (ours:
POST /predict?explain=false, the score-only answer comparable to mlflow's /invocations; ours also
POST /predict with its decision, top factors and reasons at concurrency 1 and 8 in each round); a
--batch-rows batch with wrk the same way (concurrency 1, rounds interleaved; ours also with
`?explain=true`, the reasons of every row; mlflow also in its columnar `dataframe_split`, for
information); then, for information, a lone batch right after the other server's request,
--batch-repeats times (a new connection each, the CPU cold from the other server's work).
While it drives load, the benchmark holds a CPU wake-up latency request of --cpu-latency-us (0 by
default, through /dev/cpu_dma_latency, as latency tools such as cyclictest and rtla do), so an
idle CPU polls instead of halting: on a VM whose idle vCPUs halt at once, a wake-up otherwise
delays every request at concurrency 1 and slows the work that follows, which the back-to-back
in-process reference never pays. Each round also measures concurrency 1 with the request
released (the machine's own idle states), for information. `--cpu-latency-us none` measures
everything with the machine's idle states.
Prints a table per section (against mlflow serve; decisions with reasons against our score-only
answers) and PASS/FAIL per target and writes benchmarks/results/serving-<time>.json.
Exit 0 when the run completed (targets met or not), 1 when something failed (a server did not
start, failed requests), 2 on bad usage (no bundle, no wrk).

Modules: `servers` (how each server starts, cold start, stop), `load` (wrk runs, interleaved rounds,
lone batches), `in_process` (the reference predict time), `cpu_latency` (the wake-up latency request,
CPU pinning), `payloads` (request bodies), `results` (what is measured), `report` (table, targets,
JSON), `options` (the command line) and `__main__` (the driver).
"""

from __future__ import annotations

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class BenchmarkError(Exception):
    """Something failed (not a missed target): exit 1."""


def log(message: str) -> None:
    """A progress line."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)
