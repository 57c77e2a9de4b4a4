"""The benchmark's CPU wake-up latency request (/dev/cpu_dma_latency) and its command-line option."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from benchmarks import serving
from benchmarks.serving import CpuLatencyRequest, parse_args

DEVICE = Path(serving.CPU_LATENCY_DEVICE)


def current_latency_us() -> int:
    """The value the kernel enforces now: the smallest request anyone holds."""
    return struct.unpack("i", DEVICE.read_bytes()[:4])[0]


@pytest.fixture
def device_writable() -> None:
    if not DEVICE.exists() or not os.access(DEVICE, os.W_OK):
        pytest.skip(f"{DEVICE} is missing or not writable here (the benchmark then measures without the request)")


def test_held_request_sets_the_kernel_value_and_release_drops_it(device_writable: None) -> None:
    before = current_latency_us()
    request = CpuLatencyRequest(0)
    assert request.hold() is True
    try:
        assert request.held
        assert current_latency_us() == 0
        assert "0 us held" in request.describe()
        with request.released():
            assert not request.held
            assert current_latency_us() == before
        assert request.held and current_latency_us() == 0
    finally:
        request.release()
    assert not request.held
    assert current_latency_us() == before


def test_release_without_hold_and_released_block_keep_it_released() -> None:
    request = CpuLatencyRequest(0)
    request.release()
    with request.released():
        pass
    assert not request.held


def test_no_request_asked_for_is_never_held() -> None:
    request = CpuLatencyRequest(None)
    assert request.hold() is False
    assert not request.held
    assert "--cpu-latency-us none" in request.describe()


def test_missing_device_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-device"
    monkeypatch.setattr(serving, "CPU_LATENCY_DEVICE", str(missing))
    request = CpuLatencyRequest(0)
    assert request.hold() is False
    assert not request.held
    assert str(missing) in request.describe()
    assert "own CPU idle states" in request.describe()


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


def test_request_that_cannot_be_taken_back_stops_the_run(
    device_writable: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    request = CpuLatencyRequest(0)
    assert request.hold()
    try:
        with pytest.raises(serving.BenchmarkError, match="lost the CPU latency request"):
            with request.released():
                monkeypatch.setattr(serving, "CPU_LATENCY_DEVICE", str(tmp_path / "gone"))
        assert not request.held
    finally:
        request.release()
