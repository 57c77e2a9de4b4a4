"""The bounds of the controller and of the decision-sanity gate (deploy/controller.yaml), validated: a bad value
is a UsageError naming it, so neither `make up` nor the controller starts on bounds that make no sense."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from deploy.errors import UsageError

DEFAULT_CONFIG = Path(__file__).resolve().parent / "controller.yaml"
Share = Field(ge=0.0, le=1.0)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Probe(_Strict):
    interval_s: float = Field(0.5, gt=0, le=10)
    timeout_s: float = Field(0.8, gt=0, le=30)


class Failover(_Strict):
    after_failed_probes: int = Field(3, ge=1, le=100)
    max_5xx_ratio: float = Field(0.5, gt=0.0, le=1.0)
    min_requests_per_s: float = Field(1.0, ge=0)
    idle_healthy_probes: int = Field(3, ge=1, le=100)
    cooldown_s: float = Field(120, ge=0)
    error_window_s: float = Field(30, ge=5, le=3600)


class _LiveTraffic(_Strict):
    """How a color is judged on its live traffic over a window (the watch, a canary's step), analysed this often."""

    _section: ClassVar[str]
    _window: ClassVar[str]
    analysis_interval_s: float = Field(5, gt=0)
    max_5xx_ratio: float = Field(0.05, ge=0.0, le=1.0)
    min_requests: int = Field(20, ge=1)
    max_p99_ratio: float = Field(3.0, ge=1.0)
    min_p99_floor_s: float = Field(0.25, ge=0)

    @model_validator(mode="after")
    def _interval_within_window(self) -> _LiveTraffic:
        if self.analysis_interval_s > getattr(self, self._window):
            raise ValueError(f"{self._section}.analysis_interval_s must not exceed {self._section}.{self._window}")
        return self


class Watch(_LiveTraffic):
    _section, _window = "watch", "window_s"
    window_s: float = Field(60, gt=0, le=86_400)
    max_flagged_share_delta: float = Share
    min_predictions: int = Field(30, ge=1)


class Sanity(_Strict):
    max_probability_delta: float = Field(0.001, ge=0.0, le=1.0)
    max_flagged_share_delta: float = Share
    min_flagged_share: float = Share
    max_flagged_share: float = Share
    max_score_psi: float = Field(0.5, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Sanity:
        if self.min_flagged_share >= self.max_flagged_share:
            raise ValueError("sanity.min_flagged_share must be below sanity.max_flagged_share")
        return self


class Canary(_LiveTraffic):
    _section, _window = "canary", "step_window_s"
    step_window_s: float = Field(60, ge=5, le=86_400)
    max_score_psi: float = Field(0.25, gt=0)


class ControllerConfig(_Strict):
    probe: Probe = Probe()
    failover: Failover = Failover()
    watch: Watch
    sanity: Sanity
    canary: Canary = Canary()

    @model_validator(mode="after")
    def _probe_fits(self) -> ControllerConfig:
        if self.probe.timeout_s > self.probe.interval_s * self.failover.after_failed_probes * 4:
            raise ValueError("probe.timeout_s is too long for failover.after_failed_probes probes")
        return self


def load_controller_config(path: Path = DEFAULT_CONFIG) -> ControllerConfig:
    """The config at `path`; UsageError (exit 2) with every problem named on one line."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"controller config {path} is unreadable: {exc}") from None
    try:
        return ControllerConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors())
        raise UsageError(f"controller config {path} is invalid: {problems}") from None
