"""The conditions the load runs under: a CPU wake-up latency request and which process runs on which CPU.

Both are values the driver creates from the command line and passes to what starts processes; nothing
here is module-level state.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from benchmarks.serving import BenchmarkError

CPU_LATENCY_DEVICE = Path("/dev/cpu_dma_latency")

PinMode = Literal["none", "wrk", "both"]
Role = Literal["wrk", "server"]


class CpuLatencyRequest:
    """A PM QoS CPU wake-up latency request: held while its file descriptor is open with the value
    written (the kernel drops it when the descriptor closes, also when this process dies)."""

    def __init__(self, microseconds: int | None, device: Path = CPU_LATENCY_DEVICE) -> None:
        self.microseconds = microseconds
        self.device = device
        self._fd: int | None = None
        self.problem = "" if microseconds is not None else "not requested (--cpu-latency-us none)"

    @property
    def held(self) -> bool:
        return self._fd is not None

    def hold(self) -> bool:
        """Take the request; False (and `problem` says why) when the device cannot be written."""
        if self.microseconds is None or self.held:
            return self.held
        try:
            fd = os.open(self.device, os.O_WRONLY)
        except OSError as exc:
            self.problem = f"cannot open {self.device}: {exc.strerror}"
            return False
        try:
            os.write(fd, struct.pack("i", self.microseconds))
        except OSError as exc:
            os.close(fd)
            self.problem = f"cannot write {self.device}: {exc.strerror}"
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    @contextmanager
    def released(self) -> Iterator[None]:
        """The machine's own idle states for the duration of the block."""
        was_held = self.held
        self.release()
        try:
            yield
        finally:
            if was_held and not self.hold():  # the rest of the run must not measure under other conditions
                raise BenchmarkError(f"lost the CPU latency request: {self.problem}")

    def describe(self) -> str:
        if self.held:
            return f"CPU wake-up latency request of {self.microseconds} us held (idle CPUs poll)"
        return f"the machine's own CPU idle states ({self.problem})"


@dataclass(frozen=True)
class CpuPinning:
    """--pin: none; wrk on the last CPU; or both, wrk on the last CPU and the server on the first."""

    mode: PinMode = "wrk"

    def preexec_fn(self, role: Role) -> Callable[[], None] | None:
        """What a child process of `role` runs before it starts: pin itself to its CPU (None: run anywhere)."""
        cpus = os.cpu_count() or 1
        if cpus < 2 or self.mode == "none" or (role == "server" and self.mode != "both"):
            return None
        cpu = cpus - 1 if role == "wrk" else 0
        return lambda: os.sched_setaffinity(0, {cpu})
