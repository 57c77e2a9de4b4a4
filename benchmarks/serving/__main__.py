"""The driver: `python -m benchmarks.serving [options]` (see the package docstring for the steps and options)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.serving import BenchmarkError, log
from benchmarks.serving.cpu_latency import CpuLatencyRequest, CpuPinning
from benchmarks.serving.in_process import InProcess
from benchmarks.serving.load import Wrk, measure
from benchmarks.serving.options import parse_args
from benchmarks.serving.proxy import bench_stack, endpoints, measure_proxy, proxy_section, write_bodies
from benchmarks.serving.report import (
    Section,
    decision_section,
    direct_section,
    machine,
    report_lines,
    results_json,
    summary_line,
    write_results,
)
from benchmarks.serving.servers import BACKEND, server_specs, start_servers


def measure_through_proxy(args, bundle: Path, spec, wrk: Wrk, cpu_latency: CpuLatencyRequest, work: Path) -> Section:
    """The through-the-proxy section, in a compose stack (see proxy.py), with the CPU latency request held."""
    single, batch = write_bodies(work, spec.single_body, spec.batch_body)
    with bench_stack(args.proxy, bundle) as (project, env, active, headers):
        points = endpoints(project, env, active)
        try:
            cpu_latency.hold()
            return proxy_section(measure_proxy(points, wrk, single, batch, args, headers), args.batch_rows)
        finally:
            cpu_latency.release()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bundle = args.bundle.resolve()
    if not (bundle / "metadata.json").is_file():
        print(f"error: no bundle at {args.bundle}; train one with `make train`", file=sys.stderr)
        return 2
    if shutil.which("wrk") is None:
        print("error: wrk is not installed; run `make system-deps`", file=sys.stderr)
        return 2
    metadata = json.loads((bundle / "metadata.json").read_text())
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(BACKEND / "app")], check=True)
    log(f"bundle {bundle} (v{metadata['version']}, {metadata['algorithm']}); machine: {machine()}")
    in_process = InProcess(bundle, metadata["example"])
    cpu_latency = CpuLatencyRequest(args.cpu_latency_us)
    pinning = CpuPinning(args.pin)
    conditions = cpu_latency.describe()
    sections: list[Section] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            work = Path(tmp)
            specs = server_specs(bundle, metadata, args.batch_rows, work)
            if "direct" in args.sections:
                running = start_servers(specs, args.cold_starts, pinning, work)
                try:
                    cpu_latency.hold()
                    conditions = cpu_latency.describe()
                    log(f"measuring with {conditions}")
                    measure(running, in_process, cpu_latency, Wrk(work, pinning), args)
                finally:
                    cpu_latency.release()
                    for server, _ in running:
                        server.stop()
                ours, theirs = (result for _, result in running)
                sections.append(direct_section(ours, theirs, in_process.medians(), in_process.rounds, args.batch_rows))
                sections.append(decision_section(ours, args.batch_rows))
            if "proxy" in args.sections and args.proxy != "off":
                sections.append(measure_through_proxy(args, bundle, specs[0], Wrk(work, pinning), cpu_latency, work))
    except BenchmarkError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("\n".join(report_lines(sections, conditions)))
    path = write_results(results_json(sections, conditions, bundle, metadata, args))
    print(f"\n{summary_line(path, sections)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
