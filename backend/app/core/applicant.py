"""The request type, generated from the bundle's feature schema, and body parsing with it.

Categoricals accept only the schema's categories; numbers must be finite JSON numbers within
[lower_bound, upper_bound] (JSON integers for integer features); every feature is required
(null only where the schema says nullable); unknown fields are refused. The type is a
TypedDict (validation returns plain dicts, twice as fast as model instances for batches) and
validation runs in pydantic-core straight from the request bytes.

JSON Schema counts 18.0 as an integer, so integer features also take integral floats: a body
that fails the fast strict pass is validated again by a tolerant twin type (integral floats
become ints); its errors are the ones reported.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from pydantic import AfterValidator, ConfigDict, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from app.core.bundle import BundleMetadata, CategoricalFeature, NumericFeature
from app.core.errors import ApiError, FieldError, field_errors, validation_error

MISSING_CATEGORY = "__missing__"
REQUEST_CONFIG = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, title="Applicant")


def feature_type(feature: NumericFeature | CategoricalFeature, integral_floats: bool = False) -> Any:
    """The annotated type of one feature (integral_floats: integer features also take 18.0)."""
    if isinstance(feature, CategoricalFeature):
        annotation: Any = Literal[tuple(feature.categories)]
        info = Field(description=f"one of {len(feature.categories)} categories", examples=[feature.example])
    else:
        annotation = int if feature.dtype == "integer" else float
        seen = f"{feature.model_extra.get('min')}..{feature.model_extra.get('max')}"
        info = Field(
            ge=feature.lower_bound,
            le=feature.upper_bound,
            description=f"{feature.dtype}; seen in training: {seen}",
            examples=[feature.example],
        )
    if isinstance(feature, NumericFeature) and feature.dtype == "integer" and integral_floats:
        annotation = Annotated[float, AfterValidator(_integral)]
    if feature.nullable:
        annotation = Optional[annotation]
    return Annotated[annotation, info]


def _integral(value: float) -> int:
    if not value.is_integer():
        raise ValueError("Input should be an integer")
    return int(value)


def build_request_type(metadata: BundleMetadata, integral_floats: bool = False) -> type:
    """A strict TypedDict `Applicant` with one required key per feature, in the model's order."""
    fields = {f.name: feature_type(f, integral_floats) for f in metadata.ordered_features()}
    applicant = TypedDict("Applicant", fields)  # type: ignore[misc]
    applicant.__pydantic_config__ = REQUEST_CONFIG  # type: ignore[attr-defined]
    return applicant


class _Validators:
    """A strict single and batch validator pair."""

    def __init__(self, request_type: type, max_rows: int) -> None:
        self.single = TypeAdapter(request_type)
        self.batch = TypeAdapter(Annotated[list[request_type], Field(min_length=1, max_length=max_rows)])


class ApplicantParser:
    """Turns request bodies (JSON, or CSV records) into validated applicants (plain dicts).

    Batches hold 1..max_rows applicants: more is a 413, none a 422.
    """

    def __init__(self, metadata: BundleMetadata, max_rows: int) -> None:
        self.strict = _Validators(build_request_type(metadata), max_rows)
        self.tolerant = _Validators(build_request_type(metadata, integral_floats=True), max_rows)

    def json_schema(self) -> dict[str, Any]:
        return self.strict.single.json_schema(ref_template="#/components/schemas/{model}")

    def one_from_json(self, body: bytes) -> dict[str, Any]:
        """One applicant from a JSON object body."""
        return _strict_then_tolerant(
            self.strict.single, self.tolerant.single, body, False, "a JSON object (one applicant)"
        )

    def one_from_dict(self, record: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.tolerant.single.validate_python(record)
        except ValidationError as exc:
            raise _as_api_error(exc, batch=False, expected="an applicant") from None

    def many_from_json(self, body: bytes) -> list[dict[str, Any]]:
        """Applicants from a JSON array body."""
        return _strict_then_tolerant(self.strict.batch, self.tolerant.batch, body, True, "a JSON array of applicants")

    def many_from_records(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Applicants from already-decoded records (CSV rows: integral numbers are ints already)."""
        try:
            return self.strict.batch.validate_python(records)
        except ValidationError as exc:
            raise _as_api_error(exc, batch=True, expected="a list of applicants") from None


def _strict_then_tolerant(strict: TypeAdapter, tolerant: TypeAdapter, body: bytes, batch: bool, expected: str) -> Any:
    """The fast strict pass; on failure the tolerant twin, whose errors are the ones reported."""
    try:
        return strict.validate_json(body)
    except ValidationError:
        pass
    try:
        return tolerant.validate_json(body)
    except ValidationError as exc:
        raise _as_api_error(exc, batch, expected) from None


def _as_api_error(exc: ValidationError, batch: bool, expected: str) -> ApiError:
    """Malformed JSON is a 400, too many rows a 413; anything else (shape, fields, values) a 422."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    if first["type"] == "json_invalid":
        return ApiError(400, f"malformed JSON: {first['msg'].removeprefix('Invalid JSON: ')}")
    if first["loc"] == () and first["type"] == "too_long":
        return ApiError(413, f"{first['ctx']['actual_length']} rows exceed MAX_BATCH_ROWS={first['ctx']['max_length']}")
    if first["loc"] == () and first["type"] == "too_short":
        return ApiError(422, "the batch has no rows", [FieldError(None, None, "at least one row is required")])
    if len(errors) == 1 and first["loc"] == () and first["type"] in ("dict_type", "list_type"):
        return ApiError(422, f"the body must be {expected}", [FieldError(None, None, first["msg"])])
    return validation_error(field_errors(exc, batch), "batch" if batch else "applicant data")
