"""Blue/green deployment CLI of releases (code + model), the Makefile's deployment targets.

    python -m deploy.cli up | down | train | build | status | logs [SERVICE ...]
    python -m deploy.cli deploy [--tag TAG] [--model MODEL] [--color blue|green]
    python -m deploy.cli switch blue|green
    python -m deploy.cli rollback
    python -m deploy.cli release [--tag TAG] [--model MODEL]
    python -m deploy.cli prune [--keep N]

Exit codes: 0 done, 1 a step or gate failed (a failed switch is rolled back, a failed deploy restored),
2 bad usage or a precondition not met (nothing was changed).
Settings come from environment variables (docs/deployment.md, Settings).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import NoReturn

from deploy import commands, rollout
from deploy.context import Context
from deploy.errors import DeployError
from deploy.model_registry import CLIENT_ENVIRONMENT
from deploy.settings import COLORS, DeploySettings

FORCE_HELP = "pass the decision-sanity gate even when the model flags (almost) everyone or no one"
TAG_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")  # a docker image tag


class OneLineParser(argparse.ArgumentParser):
    """Bad usage is one line on stderr and exit code 2 (argparse would print the whole usage first)."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {message} (see `python -m deploy.cli --help`)", file=sys.stderr)
        raise SystemExit(2)


def tag(text: str) -> str:
    if not TAG_PATTERN.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an image tag (letters, digits, _ . -; at most 128)")
    return text


def keep(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 1000:
        raise argparse.ArgumentTypeError(f"--keep must be a whole number from 1 to 1000, got {text!r}")
    return int(text)


def parser() -> argparse.ArgumentParser:
    root = OneLineParser(prog="python -m deploy.cli", description=__doc__.splitlines()[0])
    sub = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("up", help="build the shared images, train if no model exists, start every pinned color + nginx")
    sub.add_parser("down", help="stop and remove every container (volumes, models, pins and history are kept)")
    sub.add_parser("train", help="train a new model version in the trainer container (MLflow server)")
    sub.add_parser("build", help="build this checkout's release images (credit-risk/<service>:<revision>), no deploy")
    release_help = "the release's image tag (default: this checkout's revision)"
    model_help = "a model version, a registry alias (champion, live...) or `latest` (default: the newest local bundle)"
    deploy = sub.add_parser("deploy", help="build or pull a release and start it on the idle color (no traffic change)")
    deploy.add_argument("--tag", type=tag, help=release_help)
    deploy.add_argument("--model", help=model_help)
    deploy.add_argument("--color", choices=COLORS, help="the color to deploy to (default: the idle one)")
    deploy.add_argument("--force", action="store_true", help=FORCE_HELP)
    switch = sub.add_parser("switch", help="gate a color and move the public traffic to it (auto-rollback)")
    switch.add_argument("color", choices=COLORS)
    switch.add_argument("--force", action="store_true", help=FORCE_HELP)
    sub.add_parser("rollback", help="switch back to the other color (the previous release)")
    release = sub.add_parser("release", help="deploy a release to the idle color, then switch to it")
    release.add_argument("--tag", type=tag, help=release_help)
    release.add_argument("--model", help=model_help)
    release.add_argument("--force", action="store_true", help=FORCE_HELP)
    prune = sub.add_parser("prune", help="remove the images of releases older than the last N")
    prune.add_argument("--keep", type=keep, help="releases to keep (default DEPLOY_KEEP_RELEASES)")
    sub.add_parser("status", help="each color's release, health and role; the last operations")
    logs = sub.add_parser("logs", help="follow the logs of the services (all by default)")
    logs.add_argument("services", nargs="*")
    return root


def run(args: argparse.Namespace, ctx: Context) -> int:
    if args.command == "deploy":
        return rollout.deploy(ctx, args.tag, args.model, args.color, args.force)
    if args.command == "release":
        return rollout.release(ctx, args.tag, args.model, args.force)
    if args.command == "switch":
        return rollout.switch(ctx, args.color, args.force)
    if args.command == "rollback":
        return rollout.rollback(ctx)
    if args.command == "prune":
        return commands.prune(ctx, args.keep)
    if args.command == "logs":
        return commands.logs(ctx, args.services)
    simple = {
        "up": commands.up,
        "down": commands.down,
        "train": commands.train,
        "build": commands.build,
        "status": commands.status,
    }
    return simple[args.command](ctx)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    for name, value in CLIENT_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    try:
        ctx = Context(DeploySettings.from_env(), say=lambda line: print(line, flush=True))
        return run(args, ctx)
    except DeployError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
