"""Errors of the deployment CLI, each mapped to an exit code."""

from __future__ import annotations


class DeployError(Exception):
    """A step failed (docker, a gate, a rollback): exit code 1."""

    exit_code = 1


class UsageError(DeployError):
    """Bad input or a state the command cannot work from: exit code 2."""

    exit_code = 2
