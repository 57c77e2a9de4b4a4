"""make load-outcomes / simulate-outcomes against a real backend process: progress and summary, idempotent re-runs,
exit 1 for unknown or conflicting ids, exit 2 with one line for a refused key, a bad file or a rejected chunk."""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests

from deploy.load_outcomes import main as load_main
from deploy.simulate_outcomes import main as simulate_main
from tests.kit.api_keys import key_store
from tests.kit.backend import BackendProcess, ready_backend

TODAY = datetime.now(timezone.utc).date().isoformat()


@pytest.fixture(scope="module")
def backend(catboost_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    server = ready_backend(catboost_bundle, tmp_path_factory.mktemp("outcomes"), API_KEYS_RECHECK_S="0")
    try:
        yield server
    finally:
        server.stop()


def score(backend: BackendProcess, count: int) -> list[str]:
    """Score `count` copies of the bundle's example (one batch, as the all-scopes key 'tests'); their ids."""
    example = requests.get(f"{backend.url}/schema", headers=backend.headers, timeout=10).json()["example"]
    answer = requests.post(f"{backend.url}/predict/batch", json=[example] * count, headers=backend.headers, timeout=30)
    time.sleep(0.6)  # the log is written off the request path, every 0.2 s
    return [row["prediction_id"] for row in answer.json()["predictions"]]


def options(backend: BackendProcess) -> list[str]:
    return ["--url", backend.url, "--api-key", backend.key]


def write(path: Path, rows: list[list[str]], header: tuple[str, ...] = ("prediction_id", "outcome", "observed_date")):
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.mark.slow
def test_simulated_outcomes_are_drawn_written_and_loaded_and_a_reload_is_unchanged(
    backend: BackendProcess, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    score(backend, 30)
    out = tmp_path / "simulated.csv"
    common = options(backend)
    assert simulate_main([*common, "--author", "tests", "--share", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    rows = list(csv.DictReader(out.open()))
    assert len(rows) >= 30 and {row["outcome"] for row in rows} <= {"bad", "good"}
    assert f"done: {len(rows)} recorded, 0 unchanged, 0 unknown, 0 conflicts" in printed and "sent" in printed
    again = tmp_path / "again.csv"
    assert simulate_main([*common, "--author", "tests", "--share", "1", "--out", str(again)]) == 0
    assert again.read_text() == out.read_text(), "seeded: the same draw"
    assert load_main([str(out), *common, "--chunk", "7"]) == 0
    assert f"done: 0 recorded, {len(rows)} unchanged" in capsys.readouterr().out


@pytest.mark.slow
def test_unknown_and_conflicting_ids_exit_1_with_the_rest_recorded(
    backend: BackendProcess, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    ids = score(backend, 3)
    assert load_main([str(write(tmp_path / "a.csv", [[ids[0], "bad", TODAY]])), *options(backend)]) == 0
    rows = [[ids[0], "good", TODAY], ["f" * 32 + "-0", "bad", TODAY], [ids[1], "good", TODAY]]
    assert load_main([str(write(tmp_path / "b.csv", rows)), *options(backend)]) == 1
    printed = capsys.readouterr().out
    assert "done: 1 recorded, 0 unchanged, 1 unknown, 1 conflicts" in printed and f"conflict: {ids[0]}" in printed


@pytest.mark.slow
def test_a_key_without_the_outcomes_scope_exits_2_naming_it(
    backend: BackendProcess, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    scorer = key_store(backend.key_store, scorer=("score", "read"))["scorer"]
    path = write(tmp_path / "o.csv", [["a" * 32 + "-0", "bad", TODAY]])
    assert load_main([str(path), "--url", backend.url, "--api-key", scorer]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'outcomes'" in err[0] and "403" in err[0]
    assert load_main([str(path), "--url", backend.url, "--api-key", "crk_" + "1" * 43]) == 2
    assert "401" in capsys.readouterr().err


@pytest.mark.slow
def test_a_rejected_file_exits_2_with_the_fields(
    backend: BackendProcess, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    ids = score(backend, 1)
    assert load_main([str(write(tmp_path / "x.csv", [[ids[0], "maybe", TODAY]])), *options(backend)]) == 2
    assert "outcome" in capsys.readouterr().err


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "cannot read"),
        ("id,outcome\nx,bad\n", "the header must be"),
        ("prediction_id,outcome,observed_date\n", "no outcomes"),
    ],
)
def test_bad_files_exit_2_before_sending(tmp_path: Path, capsys: pytest.CaptureFixture, content, message) -> None:
    path = tmp_path / "outcomes.csv"
    if content is not None:
        path.write_text(content)
    assert load_main([str(path), "--url", "http://127.0.0.1:9/api", "--api-key", "k"]) == 2
    assert message in capsys.readouterr().err


def test_no_file_and_an_unreachable_stack_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert load_main([""]) == 2 and "FILE=" in capsys.readouterr().err
    path = write(tmp_path / "o.csv", [["a-0", "bad", TODAY]])
    assert load_main([str(path), "--url", "http://127.0.0.1:9/api", "--api-key", "k"]) == 2
    assert "cannot reach" in capsys.readouterr().err
