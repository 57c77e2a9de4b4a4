"""The request type, generated from the bundle's feature schema, and body parsing with it.

A validated applicant is a Row: a tuple of its values in the model's feature order (what the
model needs, and lighter than a dict per applicant on large batches).

Categoricals accept only the schema's categories; numbers must be finite JSON numbers within
[lower_bound, upper_bound] (integer features take JSON integers, or integral floats such as 36.0,
which JSON Schema also counts as integers); every feature is required (null only where the schema
says nullable); unknown fields are refused.

JSON bodies are decoded and validated in one pass by msgspec, with a decoder generated from the
schema (a Struct that forbids unknown fields, Literal categories, Meta bounds). It accepts a subset
of what the pydantic type accepts, with the same values (a property test checks this); a body it
refuses goes on to the pydantic type, which either accepts it (e.g. integral floats) or words every
error: each offending field and row, not just msgspec's first. The OpenAPI document shows the same
schema with integer features as integers.
"""

from __future__ import annotations

import math
import operator
import sys
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal, Optional

import msgspec
from msgspec.structs import astuple
from pydantic import AfterValidator, ConfigDict, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from app.core.bundle import BundleMetadata, CategoricalFeature, NumericFeature
from app.core.errors import ApiError, FieldError, field_errors, validation_error

MISSING_CATEGORY = "__missing__"
Row = tuple[Any, ...]  # one validated applicant: its values in the model's feature order
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


def fast_feature_type(feature: NumericFeature | CategoricalFeature) -> Any:
    """The msgspec type of one feature: only values the pydantic type accepts, with the same result."""
    if isinstance(feature, CategoricalFeature):
        annotation: Any = Literal[tuple(feature.categories)]
    else:
        lower = max(feature.lower_bound, -sys.float_info.max)  # finite bounds: msgspec then refuses inf
        upper = min(feature.upper_bound, sys.float_info.max)
        if feature.dtype == "integer":
            annotation = Annotated[int, msgspec.Meta(ge=math.ceil(lower), le=math.floor(upper))]
        else:
            annotation = Annotated[float, msgspec.Meta(ge=float(lower), le=float(upper))]
    return Optional[annotation] if feature.nullable else annotation


class _FastDecoders:
    """msgspec decoders for one applicant and for a batch (Rows); None means "let pydantic decide"."""

    def __init__(self, metadata: BundleMetadata, max_rows: int) -> None:
        features = metadata.ordered_features()
        # Positional field names, renamed to the features': feature names need not be identifiers.
        fields = [(f"f{i}", fast_feature_type(f)) for i, f in enumerate(features)]
        rename = {f"f{i}": f.name for i, f in enumerate(features)}
        applicant = msgspec.defstruct("Applicant", fields, forbid_unknown_fields=True, rename=rename)
        self.single = msgspec.json.Decoder(applicant)
        self.batch = msgspec.json.Decoder(Annotated[list[applicant], msgspec.Meta(min_length=1, max_length=max_rows)])

    def one(self, body: bytes) -> Row | None:
        try:
            return astuple(self.single.decode(body))
        except (msgspec.ValidationError, msgspec.DecodeError):
            return None

    def many(self, body: bytes) -> list[Row] | None:
        try:
            return list(map(astuple, self.batch.decode(body)))
        except (msgspec.ValidationError, msgspec.DecodeError):
            return None


class _Validators:
    """A single and a batch validator of one request type."""

    def __init__(self, request_type: type, max_rows: int) -> None:
        self.single = TypeAdapter(request_type)
        self.batch = TypeAdapter(Annotated[list[request_type], Field(min_length=1, max_length=max_rows)])


class ApplicantParser:
    """Turns request bodies (JSON, or CSV records) into validated applicants (Rows).

    Batches hold 1..max_rows applicants: more is a 413, none a 422.
    """

    def __init__(self, metadata: BundleMetadata, max_rows: int) -> None:
        self.names = tuple(metadata.feature_order)
        self.documented = TypeAdapter(build_request_type(metadata))  # the schema clients see (integers as integers)
        self.validators = _Validators(build_request_type(metadata, integral_floats=True), max_rows)
        self.fast = _FastDecoders(metadata, max_rows)
        self._row = row_getter(self.names)

    def record(self, row: Row) -> dict[str, Any]:
        """A row as a dict keyed by feature name."""
        return dict(zip(self.names, row))

    def json_schema(self) -> dict[str, Any]:
        return self.documented.json_schema(ref_template="#/components/schemas/{model}")

    def one_from_json(self, body: bytes) -> Row:
        """One applicant from a JSON object body."""
        fast = self.fast.one(body)
        if fast is not None:
            return fast
        return self._row(_validate_json(self.validators.single, body, False, "a JSON object (one applicant)"))

    def one_from_dict(self, record: dict[str, Any]) -> Row:
        try:
            return self._row(self.validators.single.validate_python(record))
        except ValidationError as exc:
            raise _as_api_error(exc, batch=False, expected="an applicant") from None

    def many_from_json(self, body: bytes) -> list[Row]:
        """Applicants from a JSON array body."""
        fast = self.fast.many(body)
        if fast is not None:
            return fast
        return list(map(self._row, _validate_json(self.validators.batch, body, True, "a JSON array of applicants")))

    def many_from_records(self, records: list[dict[str, Any]]) -> list[Row]:
        """Applicants from already-decoded records (CSV rows: integral numbers are ints already)."""
        try:
            return list(map(self._row, self.validators.batch.validate_python(records)))
        except ValidationError as exc:
            raise _as_api_error(exc, batch=True, expected="a list of applicants") from None


def row_getter(names: Sequence[str]) -> Callable[[dict[str, Any]], Row]:
    """dict -> tuple of its values in `names` order (itemgetter returns a bare value for one name)."""
    if len(names) == 1:
        return lambda record: (record[names[0]],)
    return operator.itemgetter(*names)


def _validate_json(validator: TypeAdapter, body: bytes, batch: bool, expected: str) -> Any:
    """The body validated by pydantic; an ApiError naming every problem."""
    try:
        return validator.validate_json(body)
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
