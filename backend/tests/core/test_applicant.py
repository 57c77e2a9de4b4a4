"""The request type generated from a bundle schema: what it accepts and how it refuses."""

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.applicant import ApplicantParser, _validate_json, row_getter
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


def test_a_valid_applicant_becomes_a_row_in_feature_order(parser: ApplicantParser) -> None:
    shuffled = dict(reversed(VALID.items()))
    assert parser.one_from_json(json.dumps(shuffled).encode()) == ("b", "x", 4, 2.0)
    assert parser.record(parser.one_from_json(json.dumps(shuffled).encode())) == VALID


def test_nullable_features_accept_null(parser: ApplicantParser) -> None:
    applicant = parser.record(parser.one_from_json(json.dumps({**VALID, "note": None, "rate": None}).encode()))
    assert applicant["note"] is None and applicant["rate"] is None


def test_integral_floats_count_as_integers(parser: ApplicantParser) -> None:
    applicant = parser.record(parser.one_from_json(json.dumps({**VALID, "count": 4.0}).encode()))
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


# The msgspec fast path: it may refuse more than pydantic (pydantic then decides and words the
# errors), but whatever it accepts pydantic accepts too, with equal values of equal types.

VALUES_NEAR_THE_SCHEMA = {  # valid values, and values just outside each rule of VALID's schema
    "kind": st.sampled_from(["a", "b", "A", "", "ab", None, 1, True]),
    "note": st.sampled_from(["x", "__missing__", None, "X", 0, False]),
    "count": st.one_of(
        st.integers(-2, 20), st.floats(-2, 20), st.sampled_from([True, False, None, "4", 2**70, -(2**70), 18.0, -0.0])
    ),
    "rate": st.one_of(
        st.floats(-1, 6),
        st.integers(-1, 6),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from([True, None, "2.0", 5.000001, -0.0, 2**70, 1e308]),
    ),
}
APPLICANTS = st.tuples(
    st.fixed_dictionaries(VALUES_NEAR_THE_SCHEMA, optional={"extra": st.just(1)}),
    st.sets(st.sampled_from(list(VALUES_NEAR_THE_SCHEMA)), max_size=1),
).map(lambda drawn: {k: v for k, v in drawn[0].items() if k not in drawn[1]})


PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])  # parser: stateless


def pydantic_result(parser: ApplicantParser, body: bytes, batch: bool) -> Any:
    """What the pydantic path makes of a body, as rows (None: refused)."""
    validator = parser.validators.batch if batch else parser.validators.single
    try:
        result = _validate_json(validator, body, batch, "")
    except ApiError:
        return None
    as_row = row_getter(parser.names)
    return [as_row(r) for r in result] if batch else as_row(result)


def typed(value: Any) -> Any:
    """Values with their types, so 4 and 4.0 (or -0.0 and 0.0) differ."""
    if isinstance(value, (list, tuple)):
        return [typed(v) for v in value]
    return (type(value).__name__, repr(value))


@settings(PROPERTY, max_examples=1000)
@given(applicant=APPLICANTS)
def test_the_fast_decoder_accepts_only_what_pydantic_accepts(parser: ApplicantParser, applicant: dict) -> None:
    body = json.dumps(applicant).encode()  # NaN and inf become the non-JSON tokens NaN / Infinity
    fast = parser.fast.one(body)
    if fast is not None:
        assert typed(fast) == typed(pydantic_result(parser, body, batch=False))


@settings(PROPERTY, max_examples=300)
@given(rows=st.lists(APPLICANTS, max_size=4))
def test_the_fast_batch_decoder_accepts_only_what_pydantic_accepts(parser: ApplicantParser, rows: list) -> None:
    body = json.dumps(rows).encode()
    fast = parser.fast.many(body)
    if fast is not None:
        assert typed(fast) == typed(pydantic_result(parser, body, batch=True))


def test_the_fast_decoder_takes_valid_bodies(parser: ApplicantParser) -> None:
    """The fast path is really used (the property tests above also pass if it refuses everything)."""
    assert parser.fast.one(json.dumps(VALID).encode()) == ("b", "x", 4, 2.0)
    rows = [VALID, {**VALID, "note": None, "rate": None, "count": 0}, {**VALID, "rate": 3}]
    assert parser.fast.many(json.dumps(rows).encode()) == [("b", "x", 4, 2.0), ("b", None, 0, None), ("b", "x", 4, 3.0)]
    for refused in ([{**VALID, "count": 4.0}], [{**VALID, "extra": 1}], [VALID] * 4, []):
        assert parser.fast.many(json.dumps(refused).encode()) is None


def test_fast_decoding_keeps_the_last_of_duplicate_keys_like_pydantic(parser: ApplicantParser) -> None:
    body = json.dumps(VALID).replace('"count": 4', '"count": 4, "count": 5').encode()
    assert parser.one_from_json(body)[2] == 5 == pydantic_result(parser, body, batch=False)[2]


def test_feature_names_need_not_be_identifiers(small_schema: dict) -> None:
    small_schema["features"][0]["name"] = "kind of loan-purpose"
    small_schema["feature_order"][0] = "kind of loan-purpose"
    small_schema["example"]["kind of loan-purpose"] = small_schema["example"].pop("kind")
    parser = ApplicantParser(BundleMetadata.model_validate(small_schema), max_rows=3)
    body = {"kind of loan-purpose": "a", **{k: v for k, v in VALID.items() if k != "kind"}}
    assert parser.record(parser.fast.one(json.dumps(body).encode())) == body
