"""Errors the training CLI turns into exit codes."""


class TrainingInputError(Exception):
    """Bad config or data: reported with exit code 2, nothing logged or exported."""


class QualityGateError(Exception):
    """The champion failed the quality gate: exit code 1, nothing registered or exported."""
