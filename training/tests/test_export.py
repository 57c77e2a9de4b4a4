"""Code tests: the atomic `latest` pointer and the overwrite guard of the bundle directory."""

import json
from pathlib import Path

import pytest

from training.errors import TrainingInputError
from training.export import export_bundle, point_latest


def test_latest_is_a_relative_symlink_that_moves(tmp_path: Path) -> None:
    for version in ("1", "2"):
        (tmp_path / version).mkdir()
        (tmp_path / version / "metadata.json").write_text(version)
    point_latest(tmp_path, "1")
    assert (tmp_path / "latest" / "metadata.json").read_text() == "1"
    point_latest(tmp_path, "2")
    link = tmp_path / "latest"
    assert link.is_symlink() and str(link.readlink()) == "2"
    assert (link / "metadata.json").read_text() == "2"
    assert not (tmp_path / ".latest.tmp").exists()


def test_export_refuses_to_replace_a_bundle_of_another_run(tmp_path: Path) -> None:
    existing = tmp_path / "credit-default" / "1"
    existing.mkdir(parents=True)
    (existing / "metadata.json").write_text(json.dumps({"run_id": "run-a"}))
    # Found before anything is downloaded or staged.
    with pytest.raises(TrainingInputError, match="already holds version 1 of run run-a"):
        export_bundle(tmp_path, "credit-default", "1", {"run_id": "run-b"}, {})
    assert json.loads((existing / "metadata.json").read_text()) == {"run_id": "run-a"}
    assert sorted(p.name for p in (tmp_path / "credit-default").iterdir()) == ["1"]
