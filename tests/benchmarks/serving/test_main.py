"""The driver's usage errors: exit 2 with one line, before anything is started."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.serving.__main__ import main


def test_missing_bundle_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--bundle", str(tmp_path / "nothing")]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == [
        f"error: no bundle at {tmp_path / 'nothing'}; train one with `make train`"
    ]
    assert captured.out == ""
