"""Read and check a bundle directory: metadata.json against the bundle contract."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app.core.bundle_decisions import DecisionPolicyInfo, ReasonTableInfo

METADATA_FILE = "metadata.json"
SUPPORTED_SCHEMA_VERSIONS = {1}


class BundleError(Exception):
    """The bundle is missing, unreadable or inconsistent; the message is the readiness reason."""


class _Lenient(BaseModel):
    """Unknown keys are kept: newer bundles may add fields this service does not use."""

    model_config = ConfigDict(extra="allow", frozen=True)


class NumericFeature(_Lenient):
    name: str = Field(min_length=1)
    type: Literal["numeric"]
    dtype: Literal["integer", "float"]
    lower_bound: int | float
    upper_bound: int | float
    nullable: bool
    example: float | int | None = None

    @model_validator(mode="after")
    def _bounds_ordered(self) -> NumericFeature:
        if self.lower_bound > self.upper_bound:
            raise ValueError(f"feature {self.name}: lower_bound > upper_bound")
        return self


class CategoricalFeature(_Lenient):
    name: str = Field(min_length=1)
    type: Literal["categorical"]
    categories: list[str] = Field(min_length=1)
    nullable: bool
    example: str | None = None


Feature = Annotated[NumericFeature | CategoricalFeature, Field(discriminator="type")]


class RiskBands(_Lenient):
    medium: float = Field(ge=0.0, le=1.0)
    high: float = Field(ge=0.0, le=1.0)


class DatasetInfo(_Lenient):
    target: str
    positive_label: str
    negative_label: str | None = None  # older bundles do not name it (outcomes need it)


class BundleMetadata(_Lenient):
    """The part of metadata.json this service relies on."""

    name: str
    version: str = Field(min_length=1)
    run_id: str
    algorithm: str
    flavor: Literal["catboost", "sklearn"]
    model_path: str = "model"
    trained_at: str
    dataset: DatasetInfo
    dropped_features: list[str]
    metrics: dict[str, float | None]
    threshold: float = Field(gt=0.0, lt=1.0)
    risk_bands: RiskBands
    features: list[Feature] = Field(min_length=1)
    feature_order: list[str]
    example: dict[str, Any]
    feature_importance: dict[str, float] = Field(default_factory=dict)
    candidates: list[dict[str, Any]] = Field(default_factory=list)
    plots: dict[str, str] = Field(default_factory=dict)
    decision_policy: DecisionPolicyInfo | None = None  # optional: older bundles have neither
    reason_codes: ReasonTableInfo | None = None
    bundle_schema_version: int

    @model_validator(mode="after")
    def _consistent(self) -> BundleMetadata:
        names = [f.name for f in self.features]
        if len(set(names)) != len(names):
            raise ValueError("duplicate feature names")
        if sorted(self.feature_order) != sorted(names):
            raise ValueError("feature_order does not list exactly the schema's features")
        if set(self.example) != set(names):
            raise ValueError("the example row does not have exactly the schema's features")
        if self.bundle_schema_version not in SUPPORTED_SCHEMA_VERSIONS:
            raise ValueError(f"bundle_schema_version {self.bundle_schema_version} is not supported")
        if self.risk_bands.medium > self.risk_bands.high:
            raise ValueError("risk_bands.medium is above risk_bands.high")
        return self

    def ordered_features(self) -> list[NumericFeature | CategoricalFeature]:
        """The schema entries in the model's column order."""
        by_name = {f.name: f for f in self.features}
        return [by_name[name] for name in self.feature_order]


@dataclass(frozen=True)
class Bundle:
    """A checked bundle: its resolved directory, the parsed metadata and the raw JSON."""

    path: Path
    metadata: BundleMetadata
    raw: dict[str, Any]

    @property
    def model_dir(self) -> Path:
        return self.path / self.metadata.model_path

    def plot_path(self, name: str) -> Path | None:
        """The file of a plot listed in the metadata, if it exists inside the bundle."""
        relative = self.metadata.plots.get(name)
        if relative is None:
            return None
        candidate = (self.path / relative).resolve()
        if not candidate.is_file() or not candidate.is_relative_to(self.path):
            return None
        return candidate


def read_bundle(directory: Path) -> Bundle:
    """Parse <directory>/metadata.json; BundleError with a one-line reason on any problem."""
    if not directory.exists():
        raise BundleError(f"bundle directory {directory} does not exist")
    path = directory.resolve()
    metadata_file = path / METADATA_FILE
    if not metadata_file.is_file():
        raise BundleError(f"{metadata_file} is missing")
    try:
        raw = json.loads(metadata_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{metadata_file} is not readable JSON: {exc}") from None
    try:
        metadata = BundleMetadata.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "metadata"
        raise BundleError(f"{metadata_file}: {where}: {first['msg']} ({exc.error_count()} problem(s))") from None
    if not (path / metadata.model_path).is_dir():
        raise BundleError(f"model directory {path / metadata.model_path} is missing")
    return Bundle(path=path, metadata=metadata, raw=raw)
