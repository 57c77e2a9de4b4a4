"""The benchmark's command line: the CPU latency option, and usage errors that exit 2 with one line."""

from __future__ import annotations

import pytest

from benchmarks.serving.options import parse_args


@pytest.mark.parametrize(
    ("given", "expected"), [([], 0), (["--cpu-latency-us", "none"], None), (["--cpu-latency-us", "5"], 5)]
)
def test_cpu_latency_option(given: list[str], expected: int | None) -> None:
    assert parse_args(given).cpu_latency_us == expected


@pytest.mark.parametrize("given", ["-1", "fast"])
def test_bad_cpu_latency_option_exits_2(given: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--cpu-latency-us", given])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "--cpu-latency-us" in error and "expected microseconds" in error


def test_concurrency_list_is_parsed_in_order() -> None:
    assert parse_args(["--concurrency", "8,1,4"]).concurrency == [8, 1, 4]


def test_concurrency_without_the_targets_levels_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--concurrency", "1,32"])
    assert exit_info.value.code == 2
    assert "--concurrency must include 1 and 8" in capsys.readouterr().err
