"""One operation at a time: deploy, switch, rollback, release, up, down and prune hold an exclusive lock on a
file in the state directory (flock: released by the kernel when the holder exits, even if it crashes).

A second operation waits up to DEPLOY_LOCK_WAIT seconds, then refuses naming the holder; it never changes
anything and never reports a state it did not see.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from deploy.errors import UsageError
from deploy.state import now, operator

LOCK_FILE = "operation.lock"
POLL_S = 0.2


def holder(path: Path) -> str:
    """Who holds the lock, as its holder wrote it."""
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return "another operation"
    return f"`{info.get('operation', '?')}` by {info.get('operator', '?')} since {info.get('since', '?')}"


@contextmanager
def operation_lock(
    state_dir: Path, operation: str, wait_s: float, say: Callable[[str], None] = print
) -> Iterator[None]:
    """Hold the lock for `operation`; UsageError (exit 2) if it is still held after `wait_s` seconds."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_s
        announced = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise UsageError(
                        f"{holder(path)} is running (one operation at a time): nothing was changed; "
                        "try again when it is done, or set DEPLOY_LOCK_WAIT to wait for it"
                    ) from None
                if not announced:
                    say(f"waiting up to {wait_s:.0f}s for {holder(path)} to finish")
                    announced = True
                time.sleep(POLL_S)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"operation": operation, "operator": operator(), "since": now()}).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
