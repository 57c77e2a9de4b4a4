"""The report: a section per measured setup (its table lines, its targets as data, its JSON entries),
the conditions it ran under, PASS/FAIL per target, and the JSON results file (written atomically).

A new setup or a new target is a new `Section` or `Target` appended by the driver; the others stay as they are.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks.serving import ROOT
from benchmarks.serving.results import LoadResult, ServerResult

RESULTS = ROOT / "benchmarks" / "results"


@dataclass(frozen=True)
class Target:
    """One target: what it asks, whether this run met it, and the figures that decided."""

    name: str
    passed: bool
    detail: str

    def line(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'}  {self.name}: {self.detail}"

    def as_json(self) -> dict[str, Any]:
        return {"target": self.name, "passed": self.passed, "detail": self.detail}


@dataclass(frozen=True)
class Section:
    """One measured setup: the lines it prints, its targets, and the entries it adds to the JSON results."""

    lines: list[str]
    targets: list[Target]
    results: dict[str, Any]


def direct_targets(ours: ServerResult, theirs: ServerResult, predict_us: float) -> list[Target]:
    """The four targets of this backend against `mlflow models serve`, both on a port of their own."""
    c1 = ours.at(1)
    idle_note = (
        f"; with the machine's own idle states {ours.idle_as_is.p50_ms * 1000:.0f} us" if ours.idle_as_is else ""
    )
    c8_ratio = ours.at(8).requests_per_s / theirs.at(8).requests_per_s
    assert ours.batch is not None and theirs.batch is not None
    batch_ratio = theirs.batch.p50_ms / ours.batch.p50_ms
    cold_ratio = ours.cold_start / theirs.cold_start
    return [
        Target("single-row throughput at c=8 >= 20x mlflow serve", c8_ratio >= 20, f"{c8_ratio:.1f}x"),
        Target(
            "p50 at c=1 <= 4x in-process predict of one row",
            c1.p50_ms * 1000 <= 4 * predict_us,
            f"{c1.p50_ms * 1000:.0f} us vs 4 x {predict_us:.0f} us = {4 * predict_us:.0f} us{idle_note}",
        ),
        Target(
            "1,000-row batch >= 3x faster than mlflow serve (p50 at c=1)",
            batch_ratio >= 3,
            f"{batch_ratio:.1f}x ({ours.batch.p50_ms:.2f} vs {theirs.batch.p50_ms:.2f} ms)",
        ),
        Target(
            "cold start < 1/3 of mlflow serve's",
            cold_ratio < 1 / 3,
            f"{ours.cold_start:.2f} s vs {theirs.cold_start:.2f} s",
        ),
    ]


def throughput_row(measure: str, a: LoadResult, b: LoadResult, decimals: int) -> str:
    """A table row: requests/s of both servers and ours over theirs."""
    return (
        f"| {measure}: requests/s | {a.requests_per_s:,.{decimals}f} | {b.requests_per_s:,.{decimals}f} "
        f"| {a.requests_per_s / b.requests_per_s:.1f}x |"
    )


def latency_row(measure: str, a: LoadResult, b: LoadResult) -> str:
    """A table row: p50 / p99 of both servers and theirs over ours."""
    return (
        f"| {measure}: p50 / p99 ms | {a.p50_ms:.2f} / {a.p99_ms:.2f} "
        f"| {b.p50_ms:.2f} / {b.p99_ms:.2f} | {b.p50_ms / a.p50_ms:.1f}x / {b.p99_ms / a.p99_ms:.1f}x |"
    )


def direct_table(ours: ServerResult, theirs: ServerResult, batch_rows: int) -> list[str]:
    """The comparison table, a row per measure, in the order the concurrencies were given."""
    rows = ["| measure | this backend | mlflow models serve | ratio |", "| --- | ---: | ---: | ---: |"]
    for a in ours.single:
        b = theirs.at(a.concurrency)
        rows += [
            throughput_row(f"single row, c={a.concurrency}", a, b, 0),
            latency_row(f"single row, c={a.concurrency}", a, b),
        ]
    if ours.idle_as_is and theirs.idle_as_is:
        rows.append(
            latency_row("single row, c=1, the machine's own CPU idle states", ours.idle_as_is, theirs.idle_as_is)
        )
    assert ours.batch is not None and theirs.batch is not None
    a, b = ours.batch, theirs.batch
    batch = f"{batch_rows}-row batch, c=1"
    rows += [throughput_row(batch, a, b, 1), latency_row(batch, a, b)]
    if theirs.split_batch:
        split = theirs.split_batch
        rows.append(
            f"| {batch_rows}-row batch, mlflow in `dataframe_split`, c=1: p50 ms | {a.p50_ms:.2f} "
            f"| {split.p50_ms:.2f} | {split.p50_ms / a.p50_ms:.1f}x |"
        )
    lone_ours, lone_theirs = ours.lone_batch_median_ms, theirs.lone_batch_median_ms
    rows.append(
        f"| lone {batch_rows}-row batch right after the other server's: median ms | {lone_ours:.1f} "
        f"| {lone_theirs:.1f} | {lone_theirs / lone_ours:.1f}x |"
    )
    rows.append(
        f"| cold start (start -> ready) s | {ours.cold_start:.2f} | {theirs.cold_start:.2f} "
        f"| {theirs.cold_start / ours.cold_start:.1f}x |"
    )
    return rows


def direct_section(
    ours: ServerResult,
    theirs: ServerResult,
    predict_us: dict[str, float],
    predict_rounds: dict[str, list[float]],
    batch_rows: int,
) -> Section:
    """Both servers on a port of their own, against the in-process predict time (medians and rounds, in us)."""
    in_process = (
        f"in-process predict of one row: {predict_us['predict']:.0f} us back to back "
        f"({predict_us['validate_and_predict']:.0f} us with JSON validation, "
        f"{predict_us['predict_spaced']:.0f} us when spaced like the c=1 requests)"
    )
    return Section(
        lines=[*direct_table(ours, theirs, batch_rows), "", in_process],
        targets=direct_targets(ours, theirs, predict_us["predict"]),
        results={
            "in_process_us": {"median": predict_us, "rounds": predict_rounds},
            "servers": [asdict(ours), asdict(theirs)],
        },
    )


def decision_targets(ours: ServerResult, batch_rows: int) -> list[Target]:
    """The three targets of decisions with reasons against this backend's own score-only answers."""
    plain_c1, reasons_c1 = ours.at(1), ours.explained_at(1)
    c8_ratio = ours.explained_at(8).requests_per_s / ours.at(8).requests_per_s
    assert ours.batch is not None and ours.explained_batch is not None
    batch_ratio = ours.explained_batch.p50_ms / ours.batch.p50_ms
    return [
        Target(
            "/predict with reasons at c=1: p50 <= 3x explain=false's",
            reasons_c1.p50_ms <= 3 * plain_c1.p50_ms,
            f"{reasons_c1.p50_ms:.2f} vs 3 x {plain_c1.p50_ms:.2f} ms = {3 * plain_c1.p50_ms:.2f} ms",
        ),
        Target(
            "/predict with reasons at c=8: throughput >= 1/3 of explain=false's",
            c8_ratio >= 1 / 3,
            f"{c8_ratio:.2f} ({ours.explained_at(8).requests_per_s:,.0f} vs {ours.at(8).requests_per_s:,.0f} "
            "requests/s)",
        ),
        Target(
            f"{batch_rows:,}-row batch with reasons <= 5x the batch without (p50 at c=1)",
            batch_ratio <= 5,
            f"{batch_ratio:.1f}x ({ours.explained_batch.p50_ms:.2f} vs {ours.batch.p50_ms:.2f} ms)",
        ),
    ]


def decision_section(ours: ServerResult, batch_rows: int) -> Section:
    """This backend's answers with decisions and reasons against its score-only ones, in the same run."""
    assert ours.batch is not None and ours.explained_batch is not None
    rows = ["| measure | score only | with reasons | ratio |", "| --- | ---: | ---: | ---: |"]
    for concurrency in (1, 8):
        plain, reasons = ours.at(concurrency), ours.explained_at(concurrency)
        rows += [
            f"| /predict, c={concurrency}: requests/s | {plain.requests_per_s:,.0f} | {reasons.requests_per_s:,.0f} "
            f"| {reasons.requests_per_s / plain.requests_per_s:.2f}x |",
            f"| /predict, c={concurrency}: p50 / p99 ms | {plain.p50_ms:.2f} / {plain.p99_ms:.2f} "
            f"| {reasons.p50_ms:.2f} / {reasons.p99_ms:.2f} | {reasons.p50_ms / plain.p50_ms:.2f}x |",
        ]
    plain, reasons = ours.batch, ours.explained_batch
    rows.append(
        f"| {batch_rows}-row batch, c=1: p50 / p99 ms | {plain.p50_ms:.2f} / {plain.p99_ms:.2f} "
        f"| {reasons.p50_ms:.2f} / {reasons.p99_ms:.2f} | {reasons.p50_ms / plain.p50_ms:.2f}x |"
    )
    return Section(
        lines=rows,
        targets=decision_targets(ours, batch_rows),
        results={"decisions": {"explained": [asdict(r) for r in ours.explained], "batch": asdict(reasons)}},
    )


def machine() -> str:
    """The CPU model and count, the OS and the Python version."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def all_targets(sections: list[Section]) -> list[Target]:
    return [target for section in sections for target in section.targets]


def report_lines(sections: list[Section], conditions: str) -> list[str]:
    """What the run prints at the end: each section after a blank line, the conditions, PASS/FAIL per target."""
    lines = []
    for section in sections:
        lines += ["", *section.lines]
    lines += [f"machine: {machine()}", f"measured with {conditions}"]
    return lines + [target.line() for target in all_targets(sections)]


def results_json(
    sections: list[Section], conditions: str, bundle: Path, metadata: dict[str, Any], args: argparse.Namespace
) -> dict[str, Any]:
    """The JSON results: when, where and with what it ran, each section's entries, and every target."""
    payload: dict[str, Any] = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "cpu_idle": conditions,
        "bundle": {"path": str(bundle), "version": metadata["version"], "algorithm": metadata["algorithm"]},
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
    }
    for section in sections:
        payload.update(section.results)
    payload["targets"] = [target.as_json() for target in all_targets(sections)]
    return payload


def write_results(payload: dict[str, Any], directory: Path = RESULTS) -> Path:
    """`directory`/serving-<UTC time>.json, written to a temporary file first and renamed into place."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"serving-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}.json"
    with tempfile.NamedTemporaryFile("w", dir=directory, delete=False, suffix=".tmp") as handle:
        json.dump(payload, handle, indent=2)
    os.replace(handle.name, target)
    return target


def summary_line(path: Path, sections: list[Section]) -> str:
    """The last line: where the results are and how many targets were met."""
    targets = all_targets(sections)
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    return f"results: {shown} ({sum(t.passed for t in targets)}/{len(targets)} targets met)"
