"""Blue/green deployment CLI of releases (code + model), the Makefile's deployment targets.

    python -m deploy.cli up | down | train | build | status | logs [SERVICE ...]
    python -m deploy.cli deploy [--tag TAG] [--model MODEL] [--color blue|green]
    python -m deploy.cli switch blue|green
    python -m deploy.cli rollback
    python -m deploy.cli shadow blue|green|off
    python -m deploy.cli canary blue|green --steps 10,50,100 | promote | abort
    python -m deploy.cli release [--tag TAG] [--model MODEL]
    python -m deploy.cli prune [--keep N]
    python -m deploy.cli api-key create NAME --scopes S[,S...] | rotate NAME | revoke NAME | list
    python -m deploy.cli user add NAME | password NAME | remove NAME | list
    python -m deploy.cli audit AUTHOR [--window 24h] [--limit 1000]
    python -m deploy.cli credentials

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

from deploy import access, canary, commands, rollout, shadow
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


def positive(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 10_000:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 10000, got {text!r}")
    return int(text)


def add_access_commands(sub: argparse._SubParsersAction) -> None:
    """api-key, user, audit and credentials (deploy/access.py)."""
    keys = sub.add_parser("api-key", help="API keys: create (shown once), rotate, revoke, list").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    create = keys.add_parser("create", help="a new key with the given scopes; prints it once")
    create.add_argument("name")
    create.add_argument(
        "--scopes",
        required=True,
        help="comma-separated: score, read, audit, outcomes, metrics (probe, on-behalf-of: the service keys' alone)",
    )
    for action, what in (("rotate", "a new key for NAME (the old one stops working)"), ("revoke", "revoke NAME")):
        keys.add_parser(action, help=what).add_argument("name")
    keys.add_parser("list", help="name, scopes, created, last used (asked from the stack), status")
    users = sub.add_parser("user", help="analysts of the UI's built-in sign-in").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    for action, what in (
        ("add", "add an analyst (password asked twice, or read from standard input)"),
        ("password", "set a new password"),
        ("remove", "remove an analyst"),
    ):
        users.add_parser(action, help=what).add_argument("name")
    users.add_parser("list", help="the analysts")
    trail = sub.add_parser("audit", help="an analyst's (or a key's) scoring requests over a window")
    trail.add_argument("author", help="an analyst's name, or an API key's name")
    trail.add_argument("--window", default="24h", help="how far back: 15m, 1h, 24h, 7d (default 24h)")
    trail.add_argument("--limit", type=positive, default=1000, help="the newest requests listed at most")
    sub.add_parser("credentials", help="create the key store and the service keys where missing (make up does it)")


def run_access(args: argparse.Namespace, ctx: Context) -> int:
    if args.command == "api-key":
        if args.action == "create":
            return access.api_key_create(ctx, args.name, args.scopes)
        if args.action == "list":
            return access.api_keys(ctx)
        return {"rotate": access.api_key_rotate, "revoke": access.api_key_revoke}[args.action](ctx, args.name)
    if args.command == "user":
        if args.action == "list":
            return access.users(ctx)
        if args.action == "remove":
            return access.user_remove(ctx, args.name)
        return access.user_add(ctx, args.name, replace=args.action == "password")
    if args.command == "audit":
        return access.audit(ctx, args.author, args.window, args.limit)
    ctx.ensure_credentials()
    ctx.say(f"credentials: ready in {ctx.settings.DEPLOY_STATE_DIR} (auth/, ui/, cli/, prometheus/, mlflow/)")
    return 0


ACCESS_COMMANDS = ("api-key", "user", "audit", "credentials")


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
    mirror = sub.add_parser("shadow", help="copy live scoring requests to the idle color (answers discarded), or stop")
    mirror.add_argument("target", choices=(*COLORS, "off"), help="the idle color to copy to, or off")
    canary_cmd = sub.add_parser("canary", help="shift the public traffic to the idle color in judged steps")
    canary_cmd.add_argument("color", choices=COLORS)
    canary_cmd.add_argument("--steps", default="10,50,100", help="weights in %%, increasing, ending at 100")
    canary_cmd.add_argument("--force", action="store_true", help=FORCE_HELP)
    sub.add_parser("promote", help="end the running canary: its color receives all traffic")
    sub.add_parser("abort", help="end the running canary: all traffic back on the stable color")
    release = sub.add_parser("release", help="deploy a release to the idle color, then switch to it")
    release.add_argument("--tag", type=tag, help=release_help)
    release.add_argument("--model", help=model_help)
    release.add_argument("--force", action="store_true", help=FORCE_HELP)
    prune = sub.add_parser("prune", help="remove the images of releases older than the last N")
    prune.add_argument("--keep", type=keep, help="releases to keep (default DEPLOY_KEEP_RELEASES)")
    sub.add_parser("status", help="each color's release, health and role; the last operations")
    logs = sub.add_parser("logs", help="follow the logs of the services (all by default)")
    logs.add_argument("services", nargs="*")
    add_access_commands(sub)
    return root


def run(args: argparse.Namespace, ctx: Context) -> int:
    if args.command in ACCESS_COMMANDS:
        return run_access(args, ctx)
    if args.command == "deploy":
        return rollout.deploy(ctx, args.tag, args.model, args.color, args.force)
    if args.command == "release":
        return rollout.release(ctx, args.tag, args.model, args.force)
    if args.command == "switch":
        return rollout.switch(ctx, args.color, args.force)
    if args.command == "rollback":
        return rollout.rollback(ctx)
    if args.command == "shadow":
        return shadow.off(ctx) if args.target == "off" else shadow.on(ctx, args.target)
    if args.command == "canary":
        return canary.start(ctx, args.color, args.steps, args.force)
    if args.command in ("promote", "abort"):
        return canary.end_by_hand(ctx, args.command)
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
