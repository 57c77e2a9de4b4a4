"""The active-upstream file: rendering, parsing, atomic replacement and restore."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.errors import DeployError
from deploy.nginx_config import ActiveFile, parse_active, render


@pytest.mark.parametrize("color, idle", [("blue", "green"), ("green", "blue")])
def test_render_routes_public_to_active_and_preview_to_idle(color: str, idle: str) -> None:
    text = render(color)
    assert f"set $active_color {color};" in text
    assert f"set $idle_color {idle};" in text
    assert parse_active(text) == color


def test_render_refuses_an_unknown_color() -> None:
    with pytest.raises(ValueError, match="unknown color"):
        render("red")


@pytest.mark.parametrize("text", ["", "set $active_color red;", "# set $active_color blue;"])
def test_parse_refuses_a_file_without_a_valid_color(text: str) -> None:
    with pytest.raises(DeployError, match="names no color"):
        parse_active(text)


def test_missing_file_means_blue_and_ensure_creates_it(tmp_path: Path) -> None:
    active = ActiveFile(tmp_path / "nginx")
    assert active.read() is None
    assert active.active() == "blue"
    assert active.ensure() == "blue"
    assert active.read() == render("blue")


def test_ensure_keeps_an_existing_choice(tmp_path: Path) -> None:
    active = ActiveFile(tmp_path)
    active.write("green")
    assert active.ensure() == "green"


def test_write_replaces_the_file_by_rename_and_leaves_no_temp_file(tmp_path: Path) -> None:
    active = ActiveFile(tmp_path)
    active.write("blue")
    inode = active.path.stat().st_ino
    active.write("green")
    assert active.active() == "green"
    assert active.path.stat().st_ino != inode  # a new file: nginx, which mounts the directory, sees it
    assert [p.name for p in tmp_path.iterdir()] == ["active.conf"]
    assert active.path.stat().st_mode & 0o777 == 0o644


def test_restore_puts_back_the_snapshot_or_removes_the_file(tmp_path: Path) -> None:
    active = ActiveFile(tmp_path)
    snapshot = active.read()
    active.write("green")
    active.restore(snapshot)
    assert not active.path.exists()
    active.write("blue")
    snapshot = active.read()
    active.write("green")
    active.restore(snapshot)
    assert active.read() == snapshot
