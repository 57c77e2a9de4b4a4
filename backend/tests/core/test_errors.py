"""Pydantic errors become (row, field, message) entries; long lists are capped."""

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from app.core.errors import MAX_LISTED_ERRORS, ApiError, FieldError, field_errors, validation_error


class Row(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    age: int


def errors_of(data: object) -> list[FieldError]:
    with pytest.raises(ValidationError) as caught:
        Row.model_validate(data)
    return field_errors(caught.value, batch=False)


def test_single_errors_name_field_and_show_the_input() -> None:
    listed = errors_of({"age": "old", "extra": 1})
    assert [(e.row, e.field) for e in listed] == [(None, "age"), (None, "extra")]
    assert listed[0].message == "Input should be a valid integer (got 'old')"
    assert listed[1].message == "unknown field"


def test_missing_field_is_named() -> None:
    assert errors_of({}) == [FieldError(None, "age", "field required")]


def test_long_inputs_are_shortened() -> None:
    (error,) = errors_of({"age": "x" * 500})
    assert len(error.message) < 150 and error.message.endswith("...)")


def test_validation_error_counts_rows_and_caps_the_list() -> None:
    many = [FieldError(i, "age", "bad") for i in range(MAX_LISTED_ERRORS + 5)]
    error = validation_error(many, "batch")
    assert error.status_code == 422
    assert f"{MAX_LISTED_ERRORS + 5} problem(s) in {MAX_LISTED_ERRORS + 5} row(s)" in error.detail
    assert len(error.body()["errors"]) == MAX_LISTED_ERRORS


def test_api_error_body_shape() -> None:
    body = ApiError(413, "too big", [FieldError(3, "x", "m")]).body()
    assert body == {"detail": "too big", "errors": [{"row": 3, "field": "x", "message": "m"}]}
