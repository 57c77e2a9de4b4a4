"""The benchmark's command line (see the package docstring); bad usage exits 2 with one line."""

from __future__ import annotations

import argparse
from pathlib import Path

import benchmarks.serving as package
from benchmarks.serving import ROOT


def cpu_latency_value(text: str) -> int | None:
    """--cpu-latency-us: microseconds (0 or more) or `none`."""
    if text == "none":
        return None
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected microseconds (0 or more) or none, got {text!r}")
    return int(text)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serving", description=package.__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "models" / "credit-default" / "latest")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per measure; the median counts")
    parser.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 8, 32])
    parser.add_argument("--batch-rows", type=int, default=1000)
    parser.add_argument("--batch-repeats", type=int, default=20, help="lone batches per server (for information)")
    parser.add_argument("--cold-starts", type=int, default=3, help="starts per server; the best one counts")
    parser.add_argument(
        "--pin",
        choices=["none", "wrk", "both"],
        default="wrk",
        help="CPU pinning: none; wrk on the last CPU (default); or also the server on the first CPU",
    )
    parser.add_argument(
        "--cpu-latency-us",
        type=cpu_latency_value,
        default=0,
        help="CPU wake-up latency request held while measuring (0: idle CPUs poll); none: the machine's idle states",
    )
    parser.add_argument(
        "--proxy",
        choices=["throwaway", "running", "off"],
        default="throwaway",
        help="the through-the-proxy section: a throwaway compose stack (default), the running one, or none",
    )
    parser.add_argument(
        "--sections",
        type=lambda text: text.split(","),
        default=["direct", "proxy"],
        help="what to measure: direct (this backend vs mlflow serve), proxy (direct vs through nginx); default both",
    )
    args = parser.parse_args(argv)
    if not set(args.sections) <= {"direct", "proxy"} or not args.sections:
        parser.error(f"--sections takes direct and/or proxy, got {','.join(args.sections)!r}")
    if not {1, 8} <= set(args.concurrency):
        parser.error("--concurrency must include 1 and 8 (the targets use them)")
    return args
