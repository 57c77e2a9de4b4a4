"""Code tests: the atomic `latest` pointer of the bundle directory."""

from pathlib import Path

from training.export import point_latest


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
