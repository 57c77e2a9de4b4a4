"""The state file: pinned versions and the attempt history survive reloads; bad files are reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deploy.errors import DeployError
from deploy.state import HISTORY_LIMIT, Attempt, StateFile


def attempt(result: str = "switched", target: str = "green") -> Attempt:
    return Attempt(Attempt.now(), "blue", target, "1", "2", result, "because", 1.5)


def test_a_missing_file_is_an_empty_state(tmp_path: Path) -> None:
    state = StateFile(tmp_path / "state.json").load()
    assert state.versions == {} and state.history == []


def test_pins_and_attempts_are_saved_and_read_back(tmp_path: Path) -> None:
    store = StateFile(tmp_path / "deploy" / "state.json")
    store.pin("blue", "1")
    store.pin("green", "2")
    store.record(attempt("refused"))
    store.record(attempt("switched"))
    state = StateFile(store.path).load()
    assert state.versions == {"blue": "1", "green": "2"}
    assert [a.result for a in state.history] == ["refused", "switched"]
    assert state.history[0] == attempt("refused").__class__(**json.loads(store.path.read_text())["history"][0])


def test_history_keeps_the_newest_entries_only(tmp_path: Path) -> None:
    store = StateFile(tmp_path / "state.json")
    for index in range(HISTORY_LIMIT + 5):
        store.record(attempt(target="green" if index % 2 else "blue"))
    assert len(store.load().history) == HISTORY_LIMIT


@pytest.mark.parametrize("text", ["{not json", '{"history": [{"bogus": 1}]}', "[]"])
def test_an_unreadable_file_is_a_clear_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "state.json"
    path.write_text(text)
    with pytest.raises(DeployError, match="state file .* is unreadable"):
        StateFile(path).load()
