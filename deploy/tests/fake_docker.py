"""A stand-in for subprocess.run that records docker commands and answers them from a script."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class FakeDocker:
    """`containers`: service -> (state, health) reported by `compose ps`; `fail`: argv words that make
    a command fail; `info_ok`: what `docker info` says; `images`: the image references on the engine
    (`compose build` and `pull` add to them); `pull_errors`: ref -> the error output of a failing pull."""

    containers: dict[str, tuple[str, str]] = field(default_factory=dict)
    fail: set[str] = field(default_factory=set)
    info_ok: bool = True
    images: set[str] = field(default_factory=set)
    pull_errors: dict[str, str] = field(default_factory=dict)
    on_compose: Callable[[list[str], dict[str, str]], None] | None = None  # what a compose call also does
    calls: list[list[str]] = field(default_factory=list)
    envs: list[dict[str, str]] = field(default_factory=list)

    def __call__(self, argv: list[str], **kwargs: object) -> subprocess.CompletedProcess:
        self.calls.append(list(argv))
        env = dict(kwargs.get("env") or {})  # type: ignore[call-overload]
        self.envs.append(env)
        if argv[:2] == ["docker", "info"]:
            return subprocess.CompletedProcess(argv, 0 if self.info_ok else 1, "", "")
        if self.fail & set(argv):
            return subprocess.CompletedProcess(argv, 1, "", "Error: simulated failure\nsecond line")
        if argv[:3] == ["docker", "image", "inspect"]:
            return subprocess.CompletedProcess(argv, 0 if argv[-1] in self.images else 1, "{}", "")
        if argv[:2] == ["docker", "pull"]:
            if argv[-1] in self.pull_errors:
                return subprocess.CompletedProcess(argv, 1, "", self.pull_errors[argv[-1]])
            self.images.add(argv[-1])
            return subprocess.CompletedProcess(argv, 0, "", "")
        if argv[:3] == ["docker", "image", "rm"]:
            self.images.discard(argv[-1])
            return subprocess.CompletedProcess(argv, 0, "", "")
        if argv[:2] == ["docker", "images"]:
            repository = argv[-1]
            tags = [ref.rsplit(":", 1)[1] for ref in self.images if ref.rsplit(":", 1)[0] == repository]
            return subprocess.CompletedProcess(argv, 0, "\n".join(tags), "")
        if argv[:2] == ["docker", "compose"] and self.on_compose is not None:
            self.on_compose(argv, env)
        if argv[:2] == ["docker", "compose"] and "build" in argv:
            for service in argv[argv.index("build") + 1 :]:
                name, _, color = service.rpartition("-")
                built = env.get(f"{color.upper()}_{name.upper()}_IMAGE")
                if built:
                    self.images.add(built)
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

    def compose_env(self, *words: str) -> dict[str, str]:
        """The environment of the last compose call whose arguments contain all `words`."""
        for call, env in zip(reversed(self.calls), reversed(self.envs)):
            if call[:2] == ["docker", "compose"] and all(w in call for w in words):
                return env
        raise AssertionError(f"no docker compose call with {words}")
