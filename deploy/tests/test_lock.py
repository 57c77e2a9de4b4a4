"""One operation at a time: a second one waits or refuses naming the first; a dead holder frees the lock."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from deploy.errors import UsageError
from deploy.lock import LOCK_FILE, operation_lock


def test_a_second_operation_is_refused_naming_the_first(tmp_path: Path) -> None:
    with operation_lock(tmp_path, "switch green", wait_s=0):
        with pytest.raises(UsageError, match=r"`switch green` by .*@.* since .* is running .* nothing was changed"):
            with operation_lock(tmp_path, "deploy", wait_s=0):
                pass
    with operation_lock(tmp_path, "deploy", wait_s=0):  # free again once the first is done
        pass


def test_a_second_operation_can_wait_for_the_first(tmp_path: Path) -> None:
    order: list[str] = []
    lines: list[str] = []
    held = threading.Event()

    def first() -> None:
        with operation_lock(tmp_path, "release", wait_s=0):
            held.set()
            time.sleep(0.5)
            order.append("first done")

    thread = threading.Thread(target=first)
    thread.start()
    held.wait(5)
    with operation_lock(tmp_path, "rollback", wait_s=10, say=lines.append):
        order.append("second runs")
    thread.join()
    assert order == ["first done", "second runs"]
    assert "waiting up to 10s for `release`" in lines[0]


def test_a_holder_that_dies_releases_the_lock(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
            "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)",
            str(tmp_path / LOCK_FILE),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    with pytest.raises(UsageError):
        with operation_lock(tmp_path, "deploy", wait_s=0):
            pass
    holder.kill()
    holder.wait()
    with operation_lock(tmp_path, "deploy", wait_s=0):
        pass
