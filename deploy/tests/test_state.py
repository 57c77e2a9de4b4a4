"""The state file: pinned releases and the operation history survive reloads; the first format is read; bad
files are reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deploy.errors import DeployError
from deploy.release import Release
from deploy.state import HISTORY_LIMIT, Event, StateFile, now

R1 = Release("a" * 40, {"backend": "credit-risk/backend:r1", "frontend": "credit-risk/frontend:r1"}, "1", "d1")
R2 = Release("b" * 40, {"backend": "credit-risk/backend:r2", "frontend": "credit-risk/frontend:r2"}, "2", "d2")


def event(result: str = "switched", target: str = "green") -> Event:
    return Event(now(), "switch", "ana@host", target, "blue", result, "because", 1.5, R2.to_json(), R1.to_json())


def test_a_missing_file_is_an_empty_state(tmp_path: Path) -> None:
    state = StateFile(tmp_path / "state.json").load()
    assert state.colors == {} and state.history == []


def test_pins_and_events_are_saved_and_read_back(tmp_path: Path) -> None:
    store = StateFile(tmp_path / "deploy" / "state.json")
    store.pin("blue", R1)
    store.pin("green", R2)
    store.record(event("refused"))
    store.record(event("switched"))
    state = StateFile(store.path).load()
    assert state.colors == {"blue": R1, "green": R2}
    assert [e.result for e in state.history] == ["refused", "switched"]
    assert state.history[-1].operator == "ana@host"
    assert state.history[-1].release("target") == R2 and state.history[-1].release("source") == R1
    store.pin("green", None)
    assert StateFile(store.path).load().colors == {"blue": R1}


def test_the_first_format_is_read_as_releases_of_local_images(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    legacy = {
        "time": "2026-01-01T00:00:00+00:00",
        "source": "blue",
        "target": "green",
        "source_version": "1",
        "target_version": "2",
        "result": "switched",
        "reason": "ok",
        "seconds": 0.9,
    }
    path.write_text(json.dumps({"versions": {"blue": "1", "green": "2"}, "history": [legacy]}))
    state = StateFile(path).load()
    assert state.colors["green"].model_version == "2"
    assert state.colors["green"].images["backend"] == "credit-risk/backend:local"
    assert state.history[0].release("target").model_version == "2" and state.history[0].operator == "unknown"


def test_history_keeps_the_newest_entries_only(tmp_path: Path) -> None:
    store = StateFile(tmp_path / "state.json")
    state = store.load()
    state.history = [event(target="green" if index % 2 else "blue") for index in range(HISTORY_LIMIT + 5)]
    store.save(state)
    assert len(store.load().history) == HISTORY_LIMIT


@pytest.mark.parametrize("text", ["{not json", '{"state_version": 2, "history": [{"bogus": 1}]}', "[]"])
def test_an_unreadable_file_is_a_clear_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "state.json"
    path.write_text(text)
    with pytest.raises(DeployError, match="state file .* is unreadable"):
        StateFile(path).load()
