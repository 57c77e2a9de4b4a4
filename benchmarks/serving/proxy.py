"""Where users meet the service: the same requests direct to the active backend and through nginx, in a
Docker Compose stack, measured in one run (rounds interleaved, the median round counting).

The stack is a throwaway copy (its own project name, ports and directories; the benchmark's bundle; torn
down afterwards) or, with `--proxy running`, the stack the deploy settings name. Paths measured:
direct to the backend container; through nginx at its container address (the proxy's own cost); through
the published public port from this host (loopback: Docker's userland proxy sits in front of nginx); and
through the published port at the host's own network address (the kernel forwards, as for clients on
other machines). Every path through nginx is HTTPS (the public port speaks nothing else; wrk does not verify
certificates, so the container address, which the certificate does not name, is measured like the others).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks.serving import ROOT, BenchmarkError, log
from benchmarks.serving.load import Rounds, Wrk
from benchmarks.serving.report import Section, Target
from benchmarks.serving.results import LoadResult, median_load
from benchmarks.serving.servers import auth_headers, free_port
from deploy.api_keys import ApiKeyStore
from deploy.networks import free_stack_net, used_subnets
from deploy.nginx_config import ActiveFile
from deploy.settings import DeploySettings

DIRECT = "direct to the backend"
THROUGH_NGINX = "through nginx (container address)"
PUBLISHED_LOOPBACK = "through the published port (127.0.0.1, userland proxy)"
PUBLISHED_HOST = "through the published port (host address)"
MODEL = "credit-default"
UNREFUSED_LIMITS = {
    "API_RATE_PER_CLIENT": "1000000",
    "API_BURST_PER_CLIENT": "1000000",
    "API_CONNECTIONS_PER_CLIENT": "65535",  # nginx: limit_conn must be below 65536
}


@dataclass(frozen=True)
class Endpoint:
    name: str
    base_url: str  # scheme://host:port
    prefix: str  # "" direct, "/api" through nginx


@dataclass
class PathResult:
    name: str
    single: list[LoadResult] = field(default_factory=list)
    batch: LoadResult | None = None


def _docker(*args: str) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchmarkError(f"`docker {' '.join(args)}` failed: {done.stderr.strip()[-300:]}")
    return done.stdout.strip()


def container_address(project: str, service: str) -> str:
    container = _docker(
        "ps",
        "-q",
        "--filter",
        f"label=com.docker.compose.project={project}",
        "--filter",
        f"label=com.docker.compose.service={service}",
    )
    if not container:
        raise BenchmarkError(f"no running container for {service} in project {project}")
    return _docker(
        "inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", container.split()[0]
    ).split()[0]


def host_address() -> str | None:
    """This host's address on its default route (None without one)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: no packet is sent for a UDP connect
            return probe.getsockname()[0]
        except OSError:
            return None


def _deploy_cli(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "deploy.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise BenchmarkError(f"`deploy.cli {' '.join(args)}` failed: {(done.stderr or done.stdout).strip()[-600:]}")


@contextmanager
def stack_key(env: dict[str, str]) -> Iterator[dict[str, str]]:
    """The headers of a key (scope score) made for this run in the stack's key store, revoked afterwards."""
    store = ApiKeyStore(DeploySettings.from_env(env).api_keys_file)
    name = f"benchmark-{os.getpid()}"
    key = store.create(name, ["score"])
    try:
        yield auth_headers(key)
    finally:
        store.revoke(name)


@contextmanager
def bench_stack(mode: str, bundle: Path) -> Iterator[tuple[str, dict[str, str], str, dict[str, str]]]:
    """(project, environment of the deploy CLI, active color, the headers of a key) of the stack to measure."""
    if mode == "running":
        env = dict(os.environ)
        project = env.get("COMPOSE_PROJECT_NAME", "credit-risk")
        settings = DeploySettings.from_env(env)
        with stack_key(env) as headers:
            yield project, env, ActiveFile(settings.nginx_dir).active(), headers
        return
    work = Path(tempfile.mkdtemp(prefix="bench-stack-"))
    models = work / "models" / MODEL
    models.mkdir(parents=True)
    shutil.copytree(bundle, models / bundle.name, symlinks=True)
    (models / "latest").symlink_to(bundle.name)
    for path in [work, *work.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    project = f"crbench{os.getpid()}"
    env = {
        **os.environ,
        "COMPOSE_PROJECT_NAME": project,
        "DEPLOY_STATE_DIR": str(work / "state"),
        "BUNDLES_DIR": str(work / "models"),
        "PUBLIC_PORT": str(free_port()),
        "PREVIEW_PORT": str(free_port()),
        "MLFLOW_PORT": str(free_port()),
        "STACK_NET": free_stack_net(used_subnets()),
        # wrk at c=32 from this host is one client to nginx (Docker's gateway address): its per-client limits are
        # checked on every request but set where they never refuse, so the proxy's own cost is measured.
        **UNREFUSED_LIMITS,
    }
    log(f"proxy: starting a throwaway stack ({project}) with bundle v{bundle.name}")
    try:
        _deploy_cli(env, "up")
        with stack_key(env) as headers:
            yield project, env, "blue", headers
    finally:
        log("proxy: tearing the throwaway stack down")
        files = [a for f in ("docker-compose.yml", "docker-compose.green.yml") for a in ("-f", str(ROOT / f))]
        subprocess.run(
            ["docker", "compose", "-p", project, *files, "--profile", "train", "down", "--volumes"],
            cwd=ROOT,
            env=env,
            capture_output=True,
        )
        shutil.rmtree(work, ignore_errors=True)


def endpoints(project: str, env: dict[str, str], active: str) -> list[Endpoint]:
    port = env.get("PUBLIC_PORT", "8080")
    found = [
        Endpoint(DIRECT, f"http://{container_address(project, f'backend-{active}')}:8000", ""),
        Endpoint(THROUGH_NGINX, f"https://{container_address(project, 'nginx')}:8080", "/api"),
        Endpoint(PUBLISHED_LOOPBACK, f"https://127.0.0.1:{port}", "/api"),
    ]
    host = host_address()
    if host:
        found.append(Endpoint(PUBLISHED_HOST, f"https://{host}:{port}", "/api"))
    return found


def measure_proxy(
    points: list[Endpoint], wrk: Wrk, single: Path, batch: Path, args, headers: dict[str, str]
) -> list[PathResult]:
    """Single rows at each concurrency and a batch at c=1, the paths interleaved round by round (authenticated
    with `headers`)."""
    predict, batch_path = "/predict?explain=false", "/predict/batch"
    for point in points:  # warm-up (and the keep-alive pools)
        wrk.run_url(f"{point.base_url}{point.prefix}{predict}", single, 8, 2, headers)
    rounds = Rounds(wrk, args.duration)
    for number in range(1, args.rounds + 1):
        for concurrency in args.concurrency:
            for point in points:
                label = f"proxy round {number}/{args.rounds} {point.name}: c={concurrency}"
                url = f"{point.base_url}{point.prefix}{predict}"
                rounds.run_url((point.name, concurrency), label, url, single, concurrency, headers)
        for point in points[:2]:
            label = f"proxy round {number}/{args.rounds} {point.name}: {args.batch_rows}-row batch, c=1"
            url = f"{point.base_url}{point.prefix}{batch_path}"
            rounds.run_url((point.name, "batch"), label, url, batch, 1, headers)
    results = []
    for point in points:
        result = PathResult(point.name, [rounds.median((point.name, c)) for c in args.concurrency])
        if (point.name, "batch") in rounds:
            result.batch = median_load(rounds.loads[(point.name, "batch")])
        if any(load.errors for load in [*result.single, *([result.batch] if result.batch else [])]):
            raise BenchmarkError(
                f"proxy: requests failed {point.name} (on a running stack, nginx's per-client limits may refuse "
                "them: raise API_RATE_PER_CLIENT and API_BURST_PER_CLIENT, then `make up`)"
            )
        results.append(result)
    return results


def proxy_targets(direct: PathResult, proxied: PathResult) -> list[Target]:
    """Through nginx: at least 70 % of the direct backend's requests/s at c=8 and c=32; at most 0.25 ms more at
    the c=1 p50."""
    targets = []
    for concurrency in (8, 32):
        a = next((r for r in direct.single if r.concurrency == concurrency), None)
        b = next((r for r in proxied.single if r.concurrency == concurrency), None)
        if a and b:
            share = b.requests_per_s / a.requests_per_s
            targets.append(
                Target(
                    f"through nginx >= 70% of direct requests/s at c={concurrency}",
                    share >= 0.7,
                    f"{share:.0%} ({b.requests_per_s:,.0f} vs {a.requests_per_s:,.0f})",
                )
            )
    a1 = next(r for r in direct.single if r.concurrency == 1)
    b1 = next(r for r in proxied.single if r.concurrency == 1)
    added = b1.p50_ms - a1.p50_ms
    targets.append(
        Target(
            "through nginx adds <= 0.25 ms to the p50 at c=1",
            added <= 0.25,
            f"+{added:.2f} ms ({b1.p50_ms:.2f} vs {a1.p50_ms:.2f} ms)",
        )
    )
    return targets


def proxy_section(results: list[PathResult], batch_rows: int) -> Section:
    names = [r.name for r in results]
    lines = ["| POST /predict?explain=false | " + " | ".join(names) + " |", "|---" + "| ---:" * len(names) + "|"]
    for index, load in enumerate(results[0].single):
        row = [r.single[index] for r in results]
        lines.append(
            f"| c={load.concurrency}: requests/s (p50 ms) | "
            + " | ".join(f"{x.requests_per_s:,.0f} ({x.p50_ms:.2f})" for x in row)
            + " |"
        )
    batches = [r.batch for r in results]
    lines.append(
        f"| {batch_rows}-row batch, c=1: requests/s (p50 ms) | "
        + " | ".join(f"{b.requests_per_s:,.1f} ({b.p50_ms:.2f})" if b else "—" for b in batches)
        + " |"
    )
    direct = next(r for r in results if r.name == DIRECT)
    proxied = next(r for r in results if r.name == THROUGH_NGINX)
    return Section(lines=lines, targets=proxy_targets(direct, proxied), results={"proxy": [asdict(r) for r in results]})


def write_bodies(work: Path, single: bytes, batch: bytes) -> tuple[Path, Path]:
    """The request bodies, where wrk reads them."""
    (work / "proxy-single.json").write_bytes(single)
    (work / "proxy-batch.json").write_bytes(batch)
    return work / "proxy-single.json", work / "proxy-batch.json"
