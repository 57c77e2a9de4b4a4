"""The labeled rows: checked against the training data's columns and labels, deduplicated, versioned as files."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from training.config import DataConfig
from training.data import split_feature_types
from training.errors import TrainingInputError
from training.pipeline import write_file

META_COLUMNS = ("prediction_id", "model_version", "scored_at", "observed_date")
DVC_TIMEOUT_SECONDS = 300


class TooFewLabeledRows(Exception):
    """Not enough matured labeled rows to retrain on: exit 1, nothing written or registered."""


@dataclass(frozen=True)
class LabeledRows:
    """The labeled predictions as the API gives them (every value a string), one row per prediction, oldest first."""

    frame: pd.DataFrame
    duplicates: int  # rows dropped because their prediction id came again with the same outcome

    @property
    def ids(self) -> pd.Series:
        return self.frame["prediction_id"]


@dataclass(frozen=True)
class DatasetVersion:
    """A content-addressed CSV file: <directory>/<kind>-<sha256 prefix>.csv."""

    path: Path
    sha256: str
    rows: int


def read_original(cfg: DataConfig) -> pd.DataFrame:
    """The original training CSV as pandas reads it for training; TrainingInputError when unreadable."""
    try:
        return pd.read_csv(cfg.path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise TrainingInputError(f"data file {cfg.path} is not a readable CSV: {exc}") from None


def feature_columns(original: pd.DataFrame, cfg: DataConfig) -> list[str]:
    """The served features in the data's order: every column but the target and the dropped features."""
    return [c for c in original.columns if c != cfg.target and c not in cfg.drop_features]


def expected_columns(original: pd.DataFrame, cfg: DataConfig) -> list[str]:
    """The columns of `GET /outcomes/labeled`: the prediction's id, version and dates, the features, the target."""
    return [*META_COLUMNS, *feature_columns(original, cfg), cfg.target]


def parse_labeled(content: bytes, original: pd.DataFrame, cfg: DataConfig, source: str) -> LabeledRows:
    """Check the labeled CSV against the original data (columns, labels, numbers) and drop repeated predictions;
    TrainingInputError names the first problem."""
    try:
        frame = pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise TrainingInputError(f"labeled rows from {source} are not a readable CSV: {exc}") from None
    expected = expected_columns(original, cfg)
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise TrainingInputError(f"labeled rows from {source} lack column(s): {', '.join(missing)}")
    extra = [str(c) for c in frame.columns if c not in expected]
    if extra:
        raise TrainingInputError(f"labeled rows from {source} have unknown column(s): {', '.join(extra)}")
    frame = frame[expected]
    _check_values(frame, original, cfg, source)
    return _deduplicated(frame, cfg.target, source)


def _where(frame: pd.DataFrame, position: int) -> str:
    return f"row {position + 2}, prediction {frame['prediction_id'].iloc[position]!r}"


def _first(mask: pd.Series) -> int:
    return int(mask.to_numpy().nonzero()[0][0])


def _check_values(frame: pd.DataFrame, original: pd.DataFrame, cfg: DataConfig, source: str) -> None:
    empty_ids = frame["prediction_id"].str.strip() == ""
    if empty_ids.any():
        raise TrainingInputError(f"labeled rows from {source}: row {_first(empty_ids) + 2} has no prediction_id")
    labels = sorted(original[cfg.target].astype(str).unique())
    unknown = ~frame[cfg.target].isin(labels)
    if unknown.any():
        at = _first(unknown)
        raise TrainingInputError(
            f"labeled rows from {source}: {cfg.target} {frame[cfg.target].iloc[at]!r} ({_where(frame, at)}) is not "
            f"one of the dataset's labels: {', '.join(labels)}"
        )
    features = original[feature_columns(original, cfg)]
    numeric, _ = split_feature_types(features, cfg.categorical_features)
    for column in numeric:
        values = pd.to_numeric(frame[column], errors="coerce")
        may_be_empty = bool(original[column].isna().any())  # an empty value only where the data has missing ones
        bad = values.isna() & ((frame[column].str.strip() != "") | (not may_be_empty))
        if bad.any():
            at = _first(bad)
            raise TrainingInputError(
                f"labeled rows from {source}: column '{column}' needs a number, got {frame[column].iloc[at]!r} "
                f"({_where(frame, at)})"
            )


def _deduplicated(frame: pd.DataFrame, target: str, source: str) -> LabeledRows:
    outcomes = frame.groupby("prediction_id", sort=False)[target].nunique()
    conflicting = outcomes[outcomes > 1]
    if len(conflicting):
        raise TrainingInputError(
            f"labeled rows from {source}: prediction {conflicting.index[0]!r} comes with conflicting outcomes"
        )
    unique = frame.drop_duplicates("prediction_id", keep="first")
    unique = unique.sort_values(["scored_at", "prediction_id"], kind="stable").reset_index(drop=True)
    return LabeledRows(unique, len(frame) - len(unique))


def content_sha256(frame: pd.DataFrame) -> str:
    """The sha256 of the frame's CSV: the version of its file."""
    return hashlib.sha256(frame.to_csv(index=False).encode("utf-8")).hexdigest()


def write_version(directory: Path, kind: str, frame: pd.DataFrame) -> DatasetVersion:
    """Write the frame as <kind>-<sha256 prefix>.csv through a temp file and a rename (the same rows give the same
    file, which is left as it is)."""
    text = frame.to_csv(index=False)
    digest = content_sha256(frame)
    path = Path(directory) / f"{kind}-{digest[:12]}.csv"
    if not path.is_file():
        write_file(path, text)
    return DatasetVersion(path, digest, len(frame))


def dvc_root(path: Path) -> Path | None:
    """The DVC project the file lies in (a directory with .dvc/ and dvc.yaml), if any."""
    for parent in Path(path).resolve().parents:
        if (parent / ".dvc").is_dir() and (parent / "dvc.yaml").is_file():
            return parent
    return None


def dvc_track(paths: Sequence[Path]) -> str:
    """`dvc add` the files when they lie in a DVC project (the operator commits the .dvc files and runs dvc push,
    as for any DVC-tracked data); returns what happened, in one line. Failing to track is reported, not fatal."""
    root = dvc_root(paths[0])
    if root is None:
        return "not in a DVC project: the files are not tracked by DVC"
    search = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    dvc = shutil.which("dvc", path=search)
    if dvc is None:
        return "dvc is not installed (make install): the files are not tracked by DVC"
    relative = [str(Path(p).resolve().relative_to(root)) for p in paths]
    try:
        done = subprocess.run(
            [dvc, "add", "--quiet", *relative],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=DVC_TIMEOUT_SECONDS,
            env={**os.environ, "DVC_NO_ANALYTICS": "1"},
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"dvc add failed ({exc}): the files are not tracked by DVC"
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
        return f"dvc add failed ({last}): the files are not tracked by DVC"
    return f"tracked by DVC: {', '.join(r + '.dvc' for r in relative)} (commit them, then dvc push)"
