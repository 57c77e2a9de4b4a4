"""The benchmark's CPU wake-up latency request (/dev/cpu_dma_latency) and CPU pinning."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.serving import BenchmarkError
from benchmarks.serving.cpu_latency import CPU_LATENCY_DEVICE, CpuLatencyRequest, CpuPinning, PinMode, Role

DEVICE = CPU_LATENCY_DEVICE


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


def test_missing_device_is_reported_not_raised(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-device"
    request = CpuLatencyRequest(0, device=missing)
    assert request.hold() is False
    assert not request.held
    assert str(missing) in request.describe()
    assert "own CPU idle states" in request.describe()


def test_request_that_cannot_be_taken_back_stops_the_run(device_writable: None, tmp_path: Path) -> None:
    request = CpuLatencyRequest(0)
    assert request.hold()
    try:
        with pytest.raises(BenchmarkError, match="lost the CPU latency request"):
            with request.released():
                request.device = tmp_path / "gone"
        assert not request.held
    finally:
        request.release()


@pytest.fixture
def restore_affinity() -> Iterator[set[int]]:
    """This process's CPUs, put back after the test pins it."""
    if (os.cpu_count() or 1) < 2:
        pytest.skip("pinning needs two CPUs or more")
    before = os.sched_getaffinity(0)
    yield before
    os.sched_setaffinity(0, before)


@pytest.mark.parametrize(("mode", "role"), [("none", "wrk"), ("none", "server"), ("wrk", "server")])
def test_unpinned_roles_get_no_preexec_fn(mode: PinMode, role: Role) -> None:
    assert CpuPinning(mode).preexec_fn(role) is None


@pytest.mark.parametrize(("mode", "role", "cpu"), [("wrk", "wrk", -1), ("both", "wrk", -1), ("both", "server", 0)])
def test_pinned_role_runs_on_its_cpu(mode: PinMode, role: Role, cpu: int, restore_affinity: set[int]) -> None:
    pin = CpuPinning(mode).preexec_fn(role)
    assert pin is not None
    pin()
    expected = (os.cpu_count() or 1) - 1 if cpu == -1 else cpu
    assert os.sched_getaffinity(0) == {expected}
