"""The CLI's access commands: API keys (created once shown, rotated, revoked, listed) and the analysts of the
built-in sign-in; bad input exits 2 with one line and changes nothing."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from deploy.api_keys import digest
from deploy.cli import main
from deploy.service_keys import SERVICE_KEYS


@pytest.fixture()
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEPLOY_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("PUBLIC_PORT", "9")  # nothing answers: `list` says the last use is unknown
    return tmp_path / "state"


def keys_of(state: Path) -> dict:
    return json.loads((state / "auth" / "api-keys.json").read_text())["keys"]


def test_a_key_is_shown_once_and_only_its_hash_is_stored(state: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["api-key", "create", "batch-job", "--scopes", "read, score"]) == 0
    key = next(line.strip() for line in capsys.readouterr().out.splitlines() if line.strip().startswith("crk_"))
    stored = keys_of(state)["batch-job"]
    assert stored["sha256"] == digest(key) and key not in (state / "auth" / "api-keys.json").read_text()
    assert stored["scopes"] == ["score", "read"] and stored["revoked"] is None
    assert main(["api-key", "rotate", "batch-job"]) == 0
    assert keys_of(state)["batch-job"]["sha256"] != digest(key)
    assert main(["api-key", "revoke", "batch-job"]) == 0
    assert keys_of(state)["batch-job"]["revoked"]
    assert main(["api-key", "list"]) == 0
    listed = capsys.readouterr().out
    assert "batch-job" in listed and "revoked" in listed and "last use unknown" in listed


@pytest.mark.parametrize(
    "argv, says",
    [
        (["api-key", "create", "Bad Name", "--scopes", "read"], "is not a key name"),
        (["api-key", "create", "job", "--scopes", "read,admin"], "unknown scope(s) 'admin'"),
        (["api-key", "create", "job", "--scopes", " "], "no scope given"),
        (["api-key", "create", "job", "--scopes", "score,probe"], "'probe' is the 'deploy-cli' key's alone"),
        (["api-key", "create", "job", "--scopes", "on-behalf-of"], "'on-behalf-of' is the 'analyst-ui' key's"),
        (["api-key", "revoke", "nobody"], "no active API key named 'nobody'"),
        (["api-key", "rotate", "nobody"], "no active API key named 'nobody'"),
        (["user", "remove", "nobody"], "no analyst named 'nobody'"),
    ],
)
def test_bad_input_exits_2_with_one_line(state: Path, capsys: pytest.CaptureFixture, argv, says: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1


def test_an_active_name_is_not_taken_twice(state: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["api-key", "create", "job", "--scopes", "read"]) == 0
    before = keys_of(state)
    assert main(["api-key", "create", "job", "--scopes", "score"]) == 2
    assert keys_of(state) == before, "nothing changed"


def test_service_keys_are_made_once_and_repaired_when_their_file_is_lost(state: Path) -> None:
    assert main(["credentials"]) == 0
    first = keys_of(state)
    for service in SERVICE_KEYS:
        key = (state / service.file).read_text().strip()
        assert first[service.name]["sha256"] == digest(key) and first[service.name]["scopes"] == list(service.scopes)
    assert (state / "cli" / "api-key").stat().st_mode & 0o777 == 0o600, "the CLI's key is for the operator only"
    assert main(["credentials"]) == 0 and keys_of(state) == first, "nothing to do the second time"
    (state / "ui" / "service-key").unlink()
    assert main(["credentials"]) == 0
    assert keys_of(state)["analyst-ui"]["sha256"] == digest((state / "ui" / "service-key").read_text().strip())
    assert keys_of(state)["deploy-cli"] == first["deploy-cli"]


def test_analysts_are_stored_as_argon2_hashes(state: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery staple\n"))
    assert main(["user", "add", "alice@bank.example"]) == 0
    stored = json.loads((state / "ui" / "users.json").read_text())["users"]["alice@bank.example"]
    assert "correct horse" not in json.dumps(stored)
    assert PasswordHasher().verify(stored["argon2"], "correct horse battery staple")
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["user", "password", "alice@bank.example"]) == 2
    assert "at least 12 characters" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("another long passphrase\n"))
    assert main(["user", "add", "alice@bank.example"]) == 2, "exists already"
    assert main(["user", "list"]) == 0 and "alice@bank.example" in capsys.readouterr().out
    assert main(["user", "remove", "alice@bank.example"]) == 0
    assert json.loads((state / "ui" / "users.json").read_text())["users"] == {}
