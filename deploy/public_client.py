"""How clients reach the public port over HTTPS: the command-line tools take its URL and CA bundle from the deploy
settings (so they follow PUBLIC_PORT and the certificate `make up` installed; `--url` and `--ca-file` override
them), and every keep-alive client uses VerifiedSession."""

from __future__ import annotations

import argparse
from typing import Any

import requests

from deploy.errors import UsageError
from deploy.settings import DeploySettings


class VerifiedSession(requests.Session):
    """A session whose CA bundle holds for each of its requests. requests lets $REQUESTS_CA_BUNDLE or
    $CURL_CA_BUNDLE override a Session's own `verify` (psf/requests#3829), never a request's `verify=`: so each
    request gets it explicitly."""

    def __init__(self, verify: str | bool = True) -> None:
        super().__init__()
        self.verify = verify

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("verify", self.verify)
        return super().request(method, url, *args, **kwargs)


def settings_or_exit(parser: argparse.ArgumentParser) -> DeploySettings:
    """The deploy settings; a bad variable ends the tool like bad usage (one line, exit 2)."""
    try:
        return DeploySettings.from_env()
    except UsageError as exc:
        parser.exit(2, f"error: {exc}\n")


def add_public_arguments(parser: argparse.ArgumentParser) -> None:
    """--url (default: the public port's /api) and --ca-file (default: the bundle `make up` wrote)."""
    settings = settings_or_exit(parser)
    verify = settings.public_verify
    parser.add_argument("--url", default=f"{settings.public_url}/api", help="the API's base URL (through nginx)")
    parser.add_argument(
        "--ca-file",
        default=verify if isinstance(verify, str) else None,
        help="the CA bundle an https:// URL is verified against (default: the one `make up` wrote, else the system's)",
    )


def verify_of(args: argparse.Namespace) -> str | bool:
    """requests' `verify=` for the parsed --ca-file."""
    return args.ca_file or True


def session(args: argparse.Namespace, key: str | None) -> requests.Session:
    """A session to the public port: verified against --ca-file, authenticated with `key` when there is one."""
    opened = VerifiedSession(verify_of(args))
    if key:
        opened.headers["Authorization"] = f"Bearer {key}"
    return opened
