"""The request type generated from a bundle schema: what it accepts and how it refuses."""

import json
from typing import Any

import pytest

from app.core.applicant import ApplicantParser
from app.core.bundle import BundleMetadata
from app.core.errors import ApiError

VALID = {"kind": "b", "note": "x", "count": 4, "rate": 2.0}


@pytest.fixture
def parser(small_metadata: BundleMetadata) -> ApplicantParser:
    return ApplicantParser(small_metadata, max_rows=3)


def refusal(call, *args: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call(*args)
    return caught.value


def test_json_schema_mirrors_the_bundle_schema(parser: ApplicantParser) -> None:
    schema = parser.json_schema()
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["kind", "note", "count", "rate"]
    props = schema["properties"]
    assert props["kind"]["enum"] == ["a", "b"]
    assert props["count"]["type"] == "integer" and (props["count"]["minimum"], props["count"]["maximum"]) == (0, 18)
    assert {"type": "null"} in props["rate"]["anyOf"] and {"type": "null"} in props["note"]["anyOf"]


def test_a_valid_applicant_becomes_a_plain_dict(parser: ApplicantParser) -> None:
    assert parser.one_from_json(json.dumps(VALID).encode()) == VALID


def test_nullable_features_accept_null(parser: ApplicantParser) -> None:
    applicant = parser.one_from_json(json.dumps({**VALID, "note": None, "rate": None}).encode())
    assert applicant["note"] is None and applicant["rate"] is None


def test_integral_floats_count_as_integers(parser: ApplicantParser) -> None:
    applicant = parser.one_from_json(json.dumps({**VALID, "count": 4.0}).encode())
    assert applicant["count"] == 4 and isinstance(applicant["count"], int)


@pytest.mark.parametrize(
    "body, field, fragment",
    [
        ({k: v for k, v in VALID.items() if k != "kind"}, "kind", "field required"),
        ({**VALID, "colour": "red"}, "colour", "unknown field"),
        ({**VALID, "kind": "z"}, "kind", "'a' or 'b'"),
        ({**VALID, "kind": 1}, "kind", "'a' or 'b'"),
        ({**VALID, "count": "4"}, "count", "valid number"),
        ({**VALID, "count": 4.5}, "count", "should be an integer"),
        ({**VALID, "count": True}, "count", "valid number"),
        ({**VALID, "count": 19}, "count", "less than or equal to 18"),
        ({**VALID, "count": -1}, "count", "greater than or equal to 0"),
        ({**VALID, "count": None}, "count", "valid"),
        ({**VALID, "rate": 1e400}, "rate", "finite number"),
    ],
)
def test_each_bad_value_is_named(parser: ApplicantParser, body: dict, field: str, fragment: str) -> None:
    error = refusal(parser.one_from_json, json.dumps(body).encode())
    assert error.status_code == 422
    assert [e.field for e in error.errors] == [field]
    assert fragment in error.errors[0].message


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_refused(parser: ApplicantParser, token: str) -> None:
    body = json.dumps(VALID).replace('"rate": 2.0', f'"rate": {token}').encode()
    error = refusal(parser.one_from_json, body)
    assert (error.status_code, error.errors[0].field) == (422, "rate")


def test_all_problems_are_listed_at_once(parser: ApplicantParser) -> None:
    error = refusal(parser.one_from_json, json.dumps({"kind": "z", "count": "x", "extra": 1}).encode())
    assert {e.field for e in error.errors} == {"kind", "count", "note", "rate", "extra"}


@pytest.mark.parametrize("body", [b"{bad", b"[1,", b"nope"])
def test_malformed_json_is_a_400(parser: ApplicantParser, body: bytes) -> None:
    error = refusal(parser.one_from_json, body)
    assert error.status_code == 400 and error.detail.startswith("malformed JSON")


def test_a_non_object_is_refused_as_a_whole(parser: ApplicantParser) -> None:
    error = refusal(parser.one_from_json, b"[1, 2]")
    assert error.status_code == 422 and error.detail == "the body must be a JSON object (one applicant)"


def test_batch_errors_carry_the_row(parser: ApplicantParser) -> None:
    body = json.dumps([VALID, {**VALID, "kind": "z"}, 5]).encode()
    error = refusal(parser.many_from_json, body)
    assert [(e.row, e.field) for e in error.errors] == [(1, "kind"), (2, None)]


def test_batch_size_limits(parser: ApplicantParser) -> None:
    assert len(parser.many_from_json(json.dumps([VALID] * 3).encode())) == 3
    assert refusal(parser.many_from_json, json.dumps([VALID] * 4).encode()).status_code == 413
    assert refusal(parser.many_from_json, b"[]").status_code == 422
    assert refusal(parser.many_from_json, json.dumps(VALID).encode()).detail == (
        "the body must be a JSON array of applicants"
    )
