"""An uploaded applicants file as a spreadsheet wrote it: its encoding (UTF-8, else Windows-1252) and delimiter
(`,` `;` tab or `|`, the one whose header names most of the model's features) are detected, every row keeps the
line the spreadsheet shows it on (the header is line 1), and columns the model does not know (an application ID)
are set aside to be passed through, not sent."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}


class UnreadableFile(ValueError):
    """The upload is not a CSV the UI can read; the message says why in an analyst's words."""


@dataclass(frozen=True)
class ApplicantsFile:
    header: list[str]
    rows: list[list[str]]  # data rows, blank ones left out
    lines: list[int]  # the spreadsheet line of each row (the header is line 1)
    delimiter: str
    encoding: str

    def feature_columns(self, features: Sequence[str]) -> list[int]:
        """Positions of the columns sent for scoring: the model's features (a duplicate is sent, to be refused)."""
        known = set(features)
        return [i for i, name in enumerate(self.header) if name in known]

    def passed_through(self, features: Sequence[str]) -> list[str]:
        """The other columns, kept beside the results but not scored."""
        known = set(features)
        return [name for name in self.header if name not in known]

    def describe(self) -> str:
        """`semicolon-separated, Windows-1252`: how the file was read."""
        return f"{DELIMITER_NAMES[self.delimiter]}-separated, {self.encoding}"


def decode(content: bytes) -> tuple[str, str]:
    """(text, encoding name): UTF-8 (with or without a byte-order mark), else Windows-1252 (Excel's default on
    Western European Windows)."""
    try:
        return content.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"the file is neither UTF-8 nor Windows-1252 text (byte {exc.start})") from None


def detect_delimiter(text: str, features: Sequence[str]) -> str:
    """The delimiter whose split of the first line names most features; csv.Sniffer when none names any."""
    first = next(iter(text.splitlines()), "")
    known = set(features)
    hits = {d: sum(cell.strip() in known for cell in next(csv.reader([first], delimiter=d), [])) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: hits[d])
    if hits[best]:
        return best
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        return ","


def read_applicants(content: bytes, features: Sequence[str]) -> ApplicantsFile:
    """The upload's header and rows with their spreadsheet lines; UnreadableFile when it cannot be read."""
    text, encoding = decode(content)
    delimiter = detect_delimiter(text, features)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows, lines = [], []
    try:
        previous_end = 0
        for values in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in values):
                continue
            if header is None:
                header = [cell.strip() for cell in values]
            else:
                rows.append(values)
                lines.append(start)
    except csv.Error as exc:
        raise UnreadableFile(f"line {reader.line_num} is not valid CSV: {exc}") from None
    if header is None:
        raise UnreadableFile("the file is empty")
    return ApplicantsFile(header, rows, lines, delimiter, encoding)


def to_csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    """Comma-separated UTF-8, as the scoring service reads it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")
