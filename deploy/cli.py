"""Blue/green deployment CLI (the Makefile's up, down, deploy-green, switch-*, status, logs targets).

    python -m deploy.cli up | down | train | status | logs [SERVICE ...]
    python -m deploy.cli deploy green|blue [--version N]
    python -m deploy.cli switch green|blue

Exit codes: 0 done, 1 a step or gate failed (a failed switch is rolled back), 2 bad usage.
Settings come from environment variables (docs/deployment.md, "Settings").
"""

from __future__ import annotations

import argparse
import sys

from deploy import commands
from deploy.errors import DeployError
from deploy.settings import COLORS, DeploySettings


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m deploy.cli", description=__doc__.splitlines()[0])
    sub = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("up", help="build images, train if no model exists, start mlflow + blue + nginx")
    sub.add_parser("down", help="stop and remove every container (volumes, models and state are kept)")
    sub.add_parser("train", help="train a new model version in the trainer container (MLflow server)")
    deploy = sub.add_parser("deploy", help="start or refresh the idle stack with the newest model")
    deploy.add_argument("color", choices=COLORS)
    deploy.add_argument("--version", help="a model version in models/credit-default/ (default: the newest)")
    switch = sub.add_parser("switch", help="gate the stack and move the public traffic to it (auto-rollback)")
    switch.add_argument("color", choices=COLORS)
    sub.add_parser("status", help="active color, each stack's health and model version, the last switches")
    logs = sub.add_parser("logs", help="follow the logs of the services (all by default)")
    logs.add_argument("services", nargs="*")
    return root


def run(args: argparse.Namespace, ctx: commands.Context) -> int:
    if args.command == "deploy":
        return commands.deploy(ctx, args.color, args.version)
    if args.command == "switch":
        return commands.switch(ctx, args.color)
    if args.command == "logs":
        return commands.logs(ctx, args.services)
    return {"up": commands.up, "down": commands.down, "train": commands.train, "status": commands.status}[args.command](
        ctx
    )


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        ctx = commands.Context(DeploySettings.from_env(), say=lambda line: print(line, flush=True))
        return run(args, ctx)
    except DeployError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
