"""The labeled rows of `make retrain`: checks (exit 2 naming the problem), deduplication, the hold-out assignment,
the fetch from a real HTTP server. No training here."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import ROOT, fast_config, write_config
from training.config import DataConfig
from training.outcomes.holdout import held_out
from training.outcomes.labeled import dvc_track, parse_labeled, read_original, write_version
from training.outcomes.retrain import main
from training.outcomes.source import fetch_labeled
from training.tests.outcomes_kit import DATA, GOOD_KEY, TARGET, labeled_rows, outcomes_server

DATA_CFG = DataConfig(path=DATA, target=TARGET, positive_label="bad")


def run_on(tmp_path, content: str | bytes, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    cfg = fast_config(tmp_path, ["logistic_regression"])
    cfg["retrain"] = {"outcomes_dir": str(tmp_path / "outcomes"), "min_labeled_rows": 5}
    path = tmp_path / "labeled.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    code = main(["--config", str(write_config(tmp_path / "params.yaml", cfg)), "--labeled", str(path)])
    return code, capsys.readouterr().err.strip()


def with_value(frame: pd.DataFrame, column: str, row: int, value: str) -> pd.DataFrame:
    frame = frame.astype(str)
    frame.loc[row, column] = value
    return frame


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda f: with_value(f, TARGET, 3, "maybe"), "creditability 'maybe' (row 5, prediction 'pred-00004') is not"),
        (lambda f: f.drop(columns=["purpose"]), "lack column(s): purpose"),
        (lambda f: f.drop(columns=["observed_date"]), "lack column(s): observed_date"),
        (lambda f: f.assign(shoe_size=42), "unknown column(s): shoe_size"),
        (lambda f: with_value(f, "credit_amount", 2, "a lot"), "column 'credit_amount' needs a number, got 'a lot'"),
        (lambda f: with_value(f, "age_in_years", 0, ""), "column 'age_in_years' needs a number, got ''"),
        (lambda f: with_value(f, "prediction_id", 1, " "), "row 3 has no prediction_id"),
        (
            lambda f: pd.concat([f, with_value(f.iloc[[0]].reset_index(drop=True), TARGET, 0, "good")]),
            "prediction 'pred-00001' comes with conflicting outcomes",
        ),
    ],
    ids=[
        "unknown-label",
        "missing-feature",
        "missing-meta",
        "extra-column",
        "not-a-number",
        "empty-number",
        "no-id",
        "conflict",
    ],
)
def test_a_bad_labeled_csv_exits_2_naming_the_problem_and_writes_nothing(
    tmp_path, capsys: pytest.CaptureFixture[str], make, message: str
) -> None:
    rows = labeled_rows(20)
    rows.loc[0, TARGET] = "bad"  # the conflict case flips row 0 to good
    code, err = run_on(tmp_path, make(rows).to_csv(index=False), capsys)
    assert code == 2, err
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "outcomes").exists()


@pytest.mark.parametrize(
    "content", [b"", b'prediction_id,model_version\n"unterminated,1\n', b"\xff\xfe\x00 not text"], ids=str
)
def test_a_malformed_file_exits_2(tmp_path, capsys: pytest.CaptureFixture[str], content: bytes) -> None:
    code, err = run_on(tmp_path, content, capsys)
    assert code == 2 and err.startswith("error: labeled rows from") and len(err.splitlines()) == 1


def test_a_missing_file_exits_2(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path / "params.yaml", fast_config(tmp_path, ["logistic_regression"]))
    assert main(["--config", str(cfg), "--labeled", str(tmp_path / "nope.csv")]) == 2
    assert "cannot read the labeled file" in capsys.readouterr().err


def test_repeated_predictions_are_kept_once_oldest_first() -> None:
    rows = labeled_rows(30)
    shuffled = pd.concat([rows.iloc[::-1], rows.iloc[5:9]], ignore_index=True)
    labeled = parse_labeled(shuffled.to_csv(index=False).encode(), read_original(DATA_CFG), DATA_CFG, "test")
    assert labeled.duplicates == 4
    assert list(labeled.ids) == list(rows["prediction_id"])
    pd.testing.assert_frame_equal(labeled.frame, rows.astype(str))


def test_columns_in_another_order_are_accepted() -> None:
    rows = labeled_rows(10)
    reordered = rows[list(reversed(rows.columns))]
    labeled = parse_labeled(reordered.to_csv(index=False).encode(), read_original(DATA_CFG), DATA_CFG, "test")
    assert list(labeled.frame.columns) == list(rows.columns)


def test_a_dropped_feature_is_not_expected_from_the_service() -> None:
    cfg = DATA_CFG.model_copy(update={"drop_features": ["telephone"]})
    rows = labeled_rows(10).drop(columns=["telephone"])
    assert len(parse_labeled(rows.to_csv(index=False).encode(), read_original(cfg), cfg, "test").frame) == 10


def test_the_hold_out_assignment_depends_on_the_id_only() -> None:
    ids = pd.Series([f"pred-{i}" for i in range(4000)])
    flags = held_out(ids, 0.3, seed=42)
    assert abs(flags.mean() - 0.3) < 0.03
    assert np.array_equal(held_out(ids[::-1], 0.3, 42), flags[::-1]), "order does not matter"
    assert np.array_equal(held_out(ids[:100], 0.3, 42), flags[:100]), "a row held out once is held out again"
    assert not np.array_equal(held_out(ids, 0.3, 7), flags), "the seed changes it"


def test_the_fetch_sends_the_key_and_asks_for_csv() -> None:
    body = labeled_rows(5).to_csv(index=False).encode()
    with outcomes_server(body) as (url, seen):
        assert fetch_labeled(url + "/", GOOD_KEY) == body
    assert seen == [seen[0]] and seen[0]["path"] == "/api/outcomes/labeled"
    assert seen[0]["Accept"] == "text/csv" and seen[0]["Authorization"] == f"Bearer {GOOD_KEY}"


@pytest.mark.slow
def test_in_a_dvc_project_the_versioned_files_are_dvc_added(tmp_path) -> None:
    """The real dvc in a fresh git + DVC project: a .dvc file with the file's md5, git told to ignore the data."""
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org"}
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True, env=env)
    subprocess.run([str(Path(sys.executable).parent / "dvc"), "init", "-q"], cwd=tmp_path, check=True, env=env)
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    version = write_version(tmp_path / "data" / "outcomes", "labeled", labeled_rows(5))
    said = dvc_track([version.path])
    assert said.startswith("tracked by DVC: data/outcomes/labeled-"), said
    recorded = yaml.safe_load(version.path.with_name(version.path.name + ".dvc").read_text())
    assert recorded["outs"][0]["md5"] == hashlib.md5(version.path.read_bytes(), usedforsecurity=False).hexdigest()
    assert f"/{version.path.name}" in (version.path.parent / ".gitignore").read_text().split()
    assert dvc_track([tmp_path.parent / "elsewhere.csv"]).startswith("not in a DVC project")


def test_the_repository_never_commits_the_outcome_files() -> None:
    """They hold applicants' data: git ignores them (DVC tracks them)."""
    done = subprocess.run(
        ["git", "check-ignore", "-q", "data/outcomes/labeled-0123456789ab.csv"], cwd=ROOT, capture_output=True
    )
    assert done.returncode == 0


def test_only_an_http_url_is_fetched(
    tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("API_KEY", GOOD_KEY)
    cfg = write_config(tmp_path / "params.yaml", fast_config(tmp_path, ["logistic_regression"]))
    assert main(["--config", str(cfg), "--url", f"file://{DATA.parent}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the service URL must be http(s)" in err


def test_no_labeled_rows_yet_is_too_few(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    """The service's answer before any outcome matured: the header only."""
    code, err = run_on(tmp_path, labeled_rows(3).iloc[:0].to_csv(index=False), capsys)
    assert code == 1 and err == (
        "retrain: 0 matured labeled rows, retrain.min_labeled_rows is 5: too few to improve anything; "
        "nothing was written or registered"
    )
    assert not (tmp_path / "outcomes").exists()
