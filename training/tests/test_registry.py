"""Model tests: the session's champion in the Model Registry."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest

from training.tests.sessions import client_for

pytestmark = pytest.mark.slow


def test_champion_is_registered_with_alias_and_logged_model(full_run: Path) -> None:
    client = client_for(full_run)
    version = client.get_model_version_by_alias("credit-default", "champion")
    assert str(version.version) == "1"
    model = mlflow.pyfunc.load_model("models:/credit-default@champion")
    assert model.metadata.get_input_schema() is not None, "the model is logged with a signature"
