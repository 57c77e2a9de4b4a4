"""CSV batches: header and row checks, text to typed values, and the CSV answer."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from app.core.bundle import BundleMetadata, CategoricalFeature, NumericFeature
from app.core.errors import ApiError, FieldError


def parse_csv(body: bytes, metadata: BundleMetadata) -> tuple[list[str], list[dict[str, Any]]]:
    """(header, records) with numbers converted; blank lines are skipped, rows count from 0."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApiError(400, f"the CSV body is not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    try:
        lines = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    except csv.Error as exc:
        raise ApiError(400, f"malformed CSV: {exc}") from None
    if not lines:
        raise ApiError(400, "the CSV body has no header row")
    header = [name.strip() for name in lines[0]]
    _check_header(header, metadata)
    check_widths(header, lines[1:], status=400)
    features = {f.name: f for f in metadata.features}
    converters = [(name, features[name]) for name in header]
    records = [
        {name: _convert(value, feature) for (name, feature), value in zip(converters, values)} for values in lines[1:]
    ]
    return header, records


def check_widths(header: list[str], rows: list[list[str]], status: int) -> None:
    """ApiError(`status`) listing the rows (from 0) without as many fields as the header."""
    ragged = [
        FieldError(row, None, f"expected {len(header)} fields like the header, got {len(values)}")
        for row, values in enumerate(rows)
        if len(values) != len(header)
    ]
    if ragged:
        raise ApiError(status, f"malformed CSV: {len(ragged)} row(s) do not have as many fields as the header", ragged)


def _check_header(header: list[str], metadata: BundleMetadata) -> None:
    known = set(metadata.feature_order)
    seen: set[str] = set()
    errors = []
    for name in header:
        if name in seen:
            errors.append(FieldError(None, name, "duplicate column"))
        elif name not in known:
            errors.append(FieldError(None, name, "unknown column"))
        seen.add(name)
    errors += [
        FieldError(None, name, "column missing from the header") for name in metadata.feature_order if name not in seen
    ]
    if errors:
        raise ApiError(422, f"the CSV header does not match the model's features: {len(errors)} problem(s)", errors)


def _convert(text: str, feature: NumericFeature | CategoricalFeature) -> Any:
    """Numbers from text (integral values as int for integer features); empty text is null."""
    if isinstance(feature, CategoricalFeature):
        return None if text == "" and feature.nullable else text
    stripped = text.strip()
    if stripped == "":
        return None
    try:
        number = float(stripped)
    except ValueError:
        return text
    if feature.dtype == "integer" and number.is_integer():
        return int(number)
    return number


def to_csv(
    columns: Sequence[str],
    names: Sequence[str],
    rows: Iterable[Sequence[Any]],
    result_columns: Sequence[str],
    results: Iterable[Sequence[Any]],
) -> bytes:
    """`columns` of the rows (values in `names` order), then the `result_columns` (`results`: one row of
    values per row); null as an empty field."""
    positions = [names.index(column) for column in columns]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*columns, *result_columns])
    for row, result in zip(rows, results):
        writer.writerow([*("" if row[p] is None else row[p] for p in positions), *result])
    return buffer.getvalue().encode("utf-8")
