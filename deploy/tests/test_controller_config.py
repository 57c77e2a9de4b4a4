"""The controller's bounds file: the shipped one is valid; bad bounds are one clear line (exit 2 in the CLI)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.controller_config import DEFAULT_CONFIG, load_controller_config
from deploy.errors import UsageError


def test_the_shipped_bounds_are_valid() -> None:
    config = load_controller_config(DEFAULT_CONFIG)
    assert config.failover.after_failed_probes * config.probe.interval_s <= 5, "a dead color is noticed within 5 s"
    assert config.sanity.min_flagged_share < config.sanity.max_flagged_share


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (("after_failed_probes: 3", "after_failed_probes: 0"), "failover.after_failed_probes"),
        (("max_5xx_ratio: 0.5 ", "max_5xx_ratio: 1.5 "), "failover.max_5xx_ratio"),
        (("min_flagged_share: 0.02", "min_flagged_share: 0.99"), "sanity.min_flagged_share must be below"),
        (("analysis_interval_s: 5", "analysis_interval_s: 500"), "must not exceed watch.window_s"),
        (("window_s: 60", "window_s: soon"), "watch.window_s"),
        (("probe:", "probes:"), "probes: Extra inputs are not permitted"),
    ],
)
def test_bad_bounds_are_refused_naming_them(tmp_path: Path, change: tuple[str, str], named: str) -> None:
    path = tmp_path / "controller.yaml"
    text = DEFAULT_CONFIG.read_text()
    assert change[0] in text
    path.write_text(text.replace(change[0], change[1], 1))
    with pytest.raises(UsageError) as error:
        load_controller_config(path)
    assert named in str(error.value) and "\n" not in str(error.value)


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is unreadable"):
        load_controller_config(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("probe: [\n")
    with pytest.raises(UsageError, match="bad.yaml is unreadable"):
        load_controller_config(tmp_path / "bad.yaml")
