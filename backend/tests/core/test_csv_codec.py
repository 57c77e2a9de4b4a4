"""CSV batches: typed values, header and row checks, and the CSV answer."""

import csv
import io

import pytest

from app.core.bundle import BundleMetadata
from app.core.csv_codec import parse_csv, to_csv
from app.core.errors import ApiError

HEADER = "kind,note,count,rate"


def parse(text: str, metadata: BundleMetadata, encoding: str = "utf-8"):
    return parse_csv(text.encode(encoding), metadata)


def refusal(text: str, metadata: BundleMetadata) -> ApiError:
    with pytest.raises(ApiError) as caught:
        parse(text, metadata)
    return caught.value


def test_values_are_typed_and_blank_lines_skipped(small_metadata: BundleMetadata) -> None:
    header, records = parse(f"{HEADER}\r\nb,x,4,2.5\n\na,,7.0,\n", small_metadata)
    assert header == ["kind", "note", "count", "rate"]
    assert records == [
        {"kind": "b", "note": "x", "count": 4, "rate": 2.5},
        {"kind": "a", "note": None, "count": 7, "rate": None},
    ]


def test_columns_may_come_in_any_order_and_a_bom_is_fine(small_metadata: BundleMetadata) -> None:
    header, records = parse("\ufeffrate,count,note,kind\n1,2,x,a\n", small_metadata)
    assert header == ["rate", "count", "note", "kind"] and records[0]["count"] == 2


def test_unparseable_numbers_are_left_for_validation(small_metadata: BundleMetadata) -> None:
    _, records = parse(f"{HEADER}\na,x,lots,4.5\n", small_metadata)
    assert records[0]["count"] == "lots" and records[0]["rate"] == 4.5


@pytest.mark.parametrize(
    "header, problems",
    [
        ("kind,note,count", {("rate", "column missing from the header")}),
        ("kind,note,count,rate,extra", {("extra", "unknown column")}),
        ("kind,note,count,rate,kind", {("kind", "duplicate column")}),
    ],
)
def test_a_wrong_header_names_each_column(small_metadata: BundleMetadata, header: str, problems: set) -> None:
    error = refusal(f"{header}\n", small_metadata)
    assert error.status_code == 422
    assert {(e.field, e.message) for e in error.errors} == problems


def test_ragged_rows_are_a_400_naming_each_row(small_metadata: BundleMetadata) -> None:
    error = refusal(f"{HEADER}\na,x,1,1\na,x,1\na,x,1,1,1\n", small_metadata)
    assert error.status_code == 400
    assert [e.row for e in error.errors] == [1, 2]


@pytest.mark.parametrize("body", [b"", b"\n\n", b"\xff\xfe\x00bad"])
def test_empty_or_undecodable_bodies_are_400(small_metadata: BundleMetadata, body: bytes) -> None:
    with pytest.raises(ApiError) as caught:
        parse_csv(body, small_metadata)
    assert caught.value.status_code == 400


def test_to_csv_appends_the_results() -> None:
    rows = [(None, 3), ("x", 4)]  # values in ("note", "count") order
    results = [(0.25, "medium", "a, b"), (0.5, "high", "")]
    text = to_csv(["count", "note"], ["note", "count"], rows, ("p", "band", "reason"), results).decode()
    assert list(csv.reader(io.StringIO(text))) == [
        ["count", "note", "p", "band", "reason"],
        ["3", "", "0.25", "medium", "a, b"],
        ["4", "x", "0.5", "high", ""],
    ]
