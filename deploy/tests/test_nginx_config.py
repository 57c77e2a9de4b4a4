"""What nginx reads from the state directory: the active-color marker (flipped atomically, no reload) and the
upstream pools at the colors' fixed addresses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from deploy.nginx_config import MARKER, UPSTREAMS, ActiveFile, address, render_upstreams


def test_without_the_marker_blue_is_active(tmp_path: Path) -> None:
    assert ActiveFile(tmp_path / "nginx").active() == "blue"


def test_writing_a_color_flips_the_marker_and_leaves_no_temp_file(tmp_path: Path) -> None:
    active = ActiveFile(tmp_path)
    active.write("green")
    assert active.active() == "green" and (tmp_path / MARKER).is_file()
    active.write("green")
    assert active.active() == "green"
    active.write("blue")
    assert active.active() == "blue" and list(tmp_path.iterdir()) == []


def test_restore_puts_the_snapshot_back(tmp_path: Path) -> None:
    active = ActiveFile(tmp_path)
    snapshot = active.read()
    active.write("green")
    active.restore(snapshot)
    assert active.active() == "blue"


def test_an_unknown_color_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown color"):
        ActiveFile(tmp_path).write("red")


def test_ensure_writes_the_upstreams_and_migrates_the_first_mechanism(tmp_path: Path) -> None:
    (tmp_path / "active.conf").write_text("set $active_color green;\nset $idle_color blue;\n")
    active = ActiveFile(tmp_path)
    assert active.ensure("10.9.8") == "green"
    assert not (tmp_path / "active.conf").exists()
    assert (tmp_path / UPSTREAMS).read_text() == render_upstreams("10.9.8")
    assert active.ensure("10.9.8") == "green", "idempotent"


def test_each_color_has_keep_alive_pools_at_its_fixed_addresses() -> None:
    text = render_upstreams("172.30.77")
    pools = dict(re.findall(r"upstream (\w+) \{\n    server ([\d.:]+);", text))
    assert pools == {
        "backend_blue": "172.30.77.11:8000",
        "backend_green": "172.30.77.21:8000",
        "frontend_blue": "172.30.77.12:8501",
        "frontend_green": "172.30.77.22:8501",
    }
    assert text.count("keepalive_timeout 60s;") == 4 and "keepalive 32;" in text
    assert address("10.1.2", "backend", "green") == "10.1.2.21"


def test_the_status_page_is_open_to_the_controllers_address_only(tmp_path: Path) -> None:
    ActiveFile(tmp_path).ensure("10.9.8")
    rules = (tmp_path / "status-access.conf").read_text()
    assert "allow 10.9.8.5;" in rules and rules.rstrip().endswith("deny all;")
