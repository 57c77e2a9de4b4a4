"""The end-to-end stack under test: CLI and compose runners pointed at its project, helpers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from deploy.api_keys import SCOPES, ApiKeyStore
from deploy.compose import Compose, stack_services
from deploy.nginx_config import ActiveFile
from deploy.public_client import VerifiedSession
from deploy.settings import DeploySettings
from deploy.state import DeployState, StateFile
from deploy.tls import CA_BUNDLE

ROOT = Path(__file__).resolve().parents[2]
FIGURES = ROOT / "test-artifacts" / "e2e" / "figures.json"
CONTROLLER_OPERATIONS = ("watch", "failover", "proxy")
TRAINER_CONFIG = ".e2e-params.yaml"  # in the bundles directory, which the trainer sees as /bundles


def fast_training_config() -> str:
    """training/params.yaml shrunk (two candidates, 3 folds): real training in seconds, not a minute."""
    cfg = yaml.safe_load((ROOT / "training" / "params.yaml").read_text())
    cfg["split"]["cv_folds"] = 3
    cfg["permutation_repeats"] = 1
    cfg["fairness"]["bootstrap"]["n_boot"] = 20
    # Versions come from several trainings here (the stack's, the host's, a retrain on outcomes): a shrunk model
    # is not held to the champion's AUC, only to the absolute floor.
    cfg["quality_gate"]["max_drop_vs_champion"] = 1.0
    cfg["candidates"] = [c for c in cfg["candidates"] if c["name"] in ("logistic_regression", "catboost")]
    for candidate in cfg["candidates"]:
        if candidate["name"] == "catboost":
            candidate["params"]["iterations"] = 100
    return yaml.safe_dump(cfg, sort_keys=False)


@dataclass
class Stack:
    """The CLI and docker compose, pointed at this test's project."""

    env: dict[str, str]
    settings: DeploySettings
    figures: dict[str, object] = field(default_factory=dict)
    key: str = ""  # an API key with every scope, made after `up` (see conftest.py)

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header of the tests' key."""
        return {"Authorization": f"Bearer {self.key}"}

    @property
    def verify(self) -> str:
        """requests' `verify=` for the public port (https, `settings.public_url`): the CA bundle `up` wrote, i.e. the
        stack's self-signed certificate. Every request to the public port passes it; nothing turns verification off."""
        return str(self.settings.tls_dir / CA_BUNDLE)

    def session(self, auth: bool = True) -> VerifiedSession:
        """A keep-alive session for the public port: verified against the stack's certificate, with the tests' key
        unless `auth` is False. Use it as a context manager."""
        opened = VerifiedSession(self.verify)
        if auth:
            opened.headers.update(self.headers)
        return opened

    @contextmanager
    def controller_bounds(self, **sections: dict) -> Iterator[None]:
        """The controller's bounds with `sections` merged in (e.g. canary={"step_window_s": 15}), in the CLI's file
        and the controller's copy (which it re-reads when it changes); the originals back afterwards."""
        paths = [Path(self.env["DEPLOY_CONTROLLER_CONFIG"]), self.settings.controller_dir / "controller.yaml"]
        originals = [path.read_text() for path in paths]
        for path, text in zip(paths, originals):
            config = yaml.safe_load(text)
            for name, values in sections.items():
                config[name] = {**config.get(name, {}), **values}
            path.write_text(yaml.safe_dump(config))
        try:
            yield
        finally:
            for path, text in zip(paths, originals):
                path.write_text(text)

    @property
    def key_name(self) -> str:
        return f"e2e-tests-{os.getpid()}"

    def make_key(self) -> None:
        """The tests' key, in the stack's key store (as `make api-key` makes one)."""
        self.key = ApiKeyStore(self.settings.api_keys_file).create(self.key_name, SCOPES)

    def another_key(self, purpose: str) -> tuple[str, dict[str, str]]:
        """A further key with the tests' scopes (as `make api-key` makes one), its name and Authorization header:
        the audit lists exactly the requests made with it, whatever the earlier modules logged."""
        name = f"e2e-{purpose}-{os.getpid()}-{time.monotonic_ns()}"
        headers = {"Authorization": f"Bearer {ApiKeyStore(self.settings.api_keys_file).create(name, SCOPES)}"}
        deadline = time.monotonic() + 60  # the backends re-read the store every few seconds
        with self.session(auth=False) as session:
            while (
                status := session.get(f"{self.settings.public_url}/api/model", headers=headers, timeout=10).status_code
            ) == 401:
                assert time.monotonic() < deadline, f"the active backend still refuses the new key {name}"
                time.sleep(0.5)
        assert status == 200, f"the new key {name}: {status}"
        return name, headers

    def cli(self, *args: str, timeout: float = 900, checkout: Path = ROOT, **env: str) -> subprocess.CompletedProcess:
        """`python -m deploy.cli ARGS` run from `checkout` (another clone runs its own code and builds its own
        release) against this stack."""
        done = subprocess.run(
            [sys.executable, "-m", "deploy.cli", *args],
            cwd=checkout,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        print(f"$ deploy.cli {' '.join(args)} ({checkout}) -> {done.returncode}\n{done.stdout}{done.stderr}")
        return done

    def state(self) -> DeployState:
        return StateFile(self.settings.state_file).load()

    def watch_over(self, seconds: float = 90) -> None:
        """Wait until no switch's watch runs: the controller writes the watch's figures to the state file while
        it does (tests that compare the state file's bytes start after it)."""
        deadline = time.monotonic() + seconds
        while (watch := self.state().watch) is not None and watch.status == "watching":
            assert time.monotonic() < deadline, f"the watch of {watch.color} still runs after {seconds:.0f}s"
            time.sleep(0.5)

    def compose(self) -> Compose:
        return Compose(self.settings, self.state().colors)

    def active_conf(self) -> str:
        """The active color, as nginx reads it."""
        return ActiveFile(self.settings.nginx_dir).active()

    def history(self) -> list[dict]:
        return json.loads(self.settings.state_file.read_text())["history"]

    def cli_history(self) -> list[dict]:
        """The history without the controller's own events (which land whenever a watch ends or it acts)."""
        return [event for event in self.history() if event["operation"] not in CONTROLLER_OPERATIONS]

    def containers(self, color: str) -> dict[str, dict]:
        """`docker inspect` of the color's running containers, by service."""
        found = {service: self.container(service) for service in stack_services(color)}
        return {service: inspected for service, inspected in found.items() if inspected is not None}

    def container(self, service: str, stopped_too: bool = False) -> dict | None:
        """`docker inspect` of the service's running container (or stopped too), None when there is none."""
        listing = ["ps", "-a", "-q", service] if stopped_too else ["ps", "-q", service]
        ids = subprocess.run(
            [*self.compose().command(*listing)], capture_output=True, text=True, env=self.compose().env()
        ).stdout.split()
        if not ids:
            return None
        inspected = subprocess.run(["docker", "inspect", ids[0]], capture_output=True, text=True, check=True)
        return json.loads(inspected.stdout)[0]

    def record(self, **figures: object) -> None:
        self.figures.update(figures)
        FIGURES.parent.mkdir(parents=True, exist_ok=True)
        FIGURES.write_text(json.dumps(self.figures, indent=2) + "\n")


def image_sizes() -> dict[str, str]:
    """Size of each image of the project (one line per repository; release images share their layers)."""
    done = subprocess.run(
        ["docker", "images", "--format", "{{.Repository}} {{.Size}}", "--filter", "reference=credit-risk/*"],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(line.split(" ", 1) for line in reversed(done.stdout.splitlines()))
