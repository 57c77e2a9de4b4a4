"""A stand-in for subprocess.run that records docker commands and answers them from a script."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field


@dataclass
class FakeDocker:
    """`containers`: service -> (state, health) reported by `compose ps`; `fail`: argv words that make
    a command fail; `info_ok`: what `docker info` says."""

    containers: dict[str, tuple[str, str]] = field(default_factory=dict)
    fail: set[str] = field(default_factory=set)
    info_ok: bool = True
    calls: list[list[str]] = field(default_factory=list)
    envs: list[dict[str, str]] = field(default_factory=list)

    def __call__(self, argv: list[str], **kwargs: object) -> subprocess.CompletedProcess:
        self.calls.append(list(argv))
        self.envs.append(dict(kwargs.get("env") or {}))  # type: ignore[call-overload]
        if argv[:2] == ["docker", "info"]:
            return subprocess.CompletedProcess(argv, 0 if self.info_ok else 1, "", "")
        if self.fail & set(argv):
            return subprocess.CompletedProcess(argv, 1, "", "Error: simulated failure\nsecond line")
        if "ps" in argv:
            lines = [
                json.dumps({"Service": service, "State": state, "Health": health})
                for service, (state, health) in self.containers.items()
            ]
            return subprocess.CompletedProcess(argv, 0, "\n".join(lines), "")
        return subprocess.CompletedProcess(argv, 0, "", "")

    def compose_calls(self) -> list[list[str]]:
        """The arguments of each `docker compose` call after `-p PROJECT -f FILE -f FILE`."""
        return [call[8:] for call in self.calls if call[:2] == ["docker", "compose"]]
