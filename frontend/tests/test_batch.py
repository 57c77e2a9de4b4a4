"""Batch helpers: the template, reading uploads as spreadsheets write them, the scored CSV, the summary and the
problems table."""

from __future__ import annotations

import csv
import io

import pandas as pd

import pytest

from analyst_ui.batch import problems_table, read_scored_csv, summarize, template_csv
from analyst_ui.batch_file import UnreadableFile, read_applicants
from analyst_ui.client import Problem

FEATURES = [
    {"name": "purpose", "type": "categorical", "categories": ["car", "radio, tv"]},
    {"name": "duration", "type": "numeric", "dtype": "integer"},
    {"name": "telephone", "type": "categorical", "categories": ["none", "yes"], "nullable": True},
]


def test_template_has_every_feature_in_order_and_the_example_quoted_where_needed() -> None:
    content = template_csv(FEATURES, {"duration": 12, "purpose": "radio, tv", "telephone": None})
    rows = list(csv.reader(io.StringIO(content.decode())))
    assert rows == [["purpose", "duration", "telephone"], ["radio, tv", "12", ""]]


def test_scored_csv_keeps_text_as_text() -> None:
    table = read_scored_csv(
        b"purpose,telephone,probability_default,label,risk_band\ncar,none,0.7,1,high\ncar,,0.1,0,low\n"
    )
    assert table["telephone"].tolist()[0] == "none"
    assert pd.isna(table["telephone"].tolist()[1])
    assert table["label"].tolist() == [1, 0]


def test_summary_counts_rows_above_the_threshold_and_per_band() -> None:
    table = pd.DataFrame(
        {
            "probability_default": [0.9, 0.5, 0.2, 0.05],
            "label": [1, 1, 0, 0],
            "risk_band": ["high", "high", "medium", "low"],
        }
    )
    summary = summarize(table)
    assert (summary.count, summary.above_threshold, summary.share_above_threshold) == (4, 2, 0.5)
    assert summary.mean_probability == 0.4125
    assert summary.band_counts == {"low": 1, "medium": 1, "high": 2}
    assert summary.decision_counts == {}  # a backend older than decisions
    decided = summarize(table.assign(decision=["decline", "decline", "refer", "approve"]))
    assert decided.decision_counts == {"decline": 2, "refer": 1, "approve": 1}


def test_problems_table_keeps_header_problems_without_a_row() -> None:
    table = problems_table([Problem(None, "age", "unknown column"), Problem(3, "duration", "not a number")])
    assert list(table.columns) == ["line", "column", "problem"]
    assert pd.isna(table["line"][0]) and table["line"][1] == 3
    assert table["column"].tolist() == ["age", "duration"]


NAMES = [f["name"] for f in FEATURES]


def test_a_semicolon_separated_windows_file_is_read_with_its_spreadsheet_lines() -> None:
    content = "application_id;purpose;duration;telephone\r\nA-1;car;12;yes\r\n;;;\r\nA-ü;radio, tv;24;\r\n"
    file = read_applicants(content.encode("cp1252"), NAMES)
    assert (file.delimiter, file.encoding, file.describe()) == (
        ";",
        "Windows-1252",
        "semicolon-separated, Windows-1252",
    )
    assert file.rows == [["A-1", "car", "12", "yes"], ["A-ü", "radio, tv", "24", ""]]
    assert file.lines == [2, 4]  # the header is line 1; the blank line 3 is skipped but counted
    assert file.feature_columns(NAMES) == [1, 2, 3] and file.passed_through(NAMES) == ["application_id"]


def test_a_comma_separated_utf8_file_with_quoted_line_breaks_keeps_its_lines() -> None:
    content = '\ufeffpurpose,duration,telephone\n"radio,\ntv",12,none\ncar,6,yes\n'.encode()
    file = read_applicants(content, NAMES)
    assert (file.delimiter, file.encoding) == (",", "UTF-8")
    assert file.header == NAMES and file.lines == [2, 4]


def test_an_empty_file_is_unreadable() -> None:
    with pytest.raises(UnreadableFile, match="empty"):
        read_applicants(b"\n\n", NAMES)
