"""Service settings, read once from environment variables (each field is the variable of its name)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.monitoring.summary import parse_window


class Settings(BaseSettings):
    """Every knob of the service; each one is an environment variable of the same name."""

    model_config = SettingsConfigDict(case_sensitive=False, frozen=True)

    SERVED_BUNDLE: Path = Field(
        Path("models/credit-default/latest"), description="the bundle directory this process serves"
    )
    DEPLOY_COLOR: Literal["blue", "green"] = Field("blue", description="this stack's color (headers, metrics)")
    APP_REVISION: str = Field(
        "unknown", pattern=r"^[A-Za-z0-9._-]{1,80}$", description="the code revision (release tag) this process runs"
    )
    MAX_BATCH_ROWS: int = Field(10_000, gt=0, description="largest batch accepted by /predict/batch")
    MAX_BODY_BYTES: int = Field(16 * 1024 * 1024, gt=0, description="largest request body accepted")
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    TOP_FACTORS: int = Field(5, gt=0, le=50, description="explanation factors returned by /predict")
    PREDICTION_LOG_ENABLED: bool = Field(True, description="record every prediction in the prediction log")
    PREDICTION_LOG_PATH: Path = Field(Path("var/predictions.db"), description="SQLite file of the prediction log")
    PREDICTION_LOG_RETENTION_DAYS: float = Field(30.0, gt=0, description="older predictions are deleted")
    API_KEYS_PATH: Path = Field(
        Path("var/api-keys.json"), description="the API key store (hashes) the deploy CLI writes; missing: fail closed"
    )
    API_KEYS_RECHECK_S: float = Field(
        1.0, ge=0, le=60, description="how often the key store file is checked for changes (no restart needed)"
    )
    KEY_USAGE_FLUSH_S: float = Field(5.0, gt=0, description="how often each key's last use is written")
    DRIFT_PSI_WARN: float = Field(0.1, gt=0, description="PSI from which a feature or the score is 'warn'")
    DRIFT_PSI_ALERT: float = Field(0.25, gt=0, description="PSI from which a feature or the score is 'alert'")
    DRIFT_MIN_ROWS: int = Field(30, gt=0, description="fewer predictions in a window: 'insufficient_data'")
    DRIFT_MAX_P_VALUE: float = Field(
        0.01, gt=0, lt=1, description="a PSI counts only if a chi-square test finds the change significant"
    )
    DRIFT_METRICS_WINDOW: str = Field("1h", description="window of the drift gauges on /metrics (15m, 1h, 1d...)")
    DRIFT_METRICS_TTL_S: float = Field(30.0, ge=0, description="drift gauges are recomputed at most this often")
    OUTCOME_MATURITY_DAYS: int = Field(
        0,
        ge=0,
        description="an outcome counts once observed at least this many days after its prediction (earlier ones are "
        "counted apart); set it to the outcome horizon in production, below PREDICTION_LOG_RETENTION_DAYS",
    )
    OUTCOME_MIN_LABELED: int = Field(
        30, gt=0, description="fewer matured labeled predictions: realized performance is 'insufficient'"
    )
    OUTCOME_BOOTSTRAP_RESAMPLES: int = Field(200, ge=20, le=5000, description="resamples of the AUC's interval")
    OUTCOME_METRICS_WINDOW: str = Field("30d", description="window of the realized-performance gauges on /metrics")
    OUTCOME_METRICS_TTL_S: float = Field(
        60.0, ge=0, description="realized-performance gauges are recomputed at most " "this often"
    )
    COALESCE_SINGLE_ROWS: bool = Field(True, description="score concurrent single-row requests in one model call")
    # How `python -m app` runs uvicorn (app/__main__.py).
    HOST: str = Field("127.0.0.1", min_length=1, description="address to listen on (0.0.0.0 in containers)")
    PORT: int = Field(8000, ge=1, le=65535, description="TCP port to listen on")
    WORKERS: int = Field(1, ge=1, le=64, description="worker processes")
    ACCESS_LOG: bool = Field(False, description="uvicorn's access log (request metrics and nginx's log replace it)")
    TIMEOUT_KEEP_ALIVE_S: int = Field(5, ge=1, description="idle keep-alive connections are closed after this")
    TIMEOUT_GRACEFUL_SHUTDOWN_S: int = Field(20, ge=1, description="on SIGTERM, in-flight requests get this long")

    @field_validator("LOG_LEVEL", mode="before")
    @classmethod
    def _upper_case_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("DRIFT_METRICS_WINDOW", "OUTCOME_METRICS_WINDOW")
    @classmethod
    def _valid_window(cls, value: str) -> str:
        parse_window(value)
        return value

    @model_validator(mode="after")
    def _warn_below_alert(self) -> Settings:
        if self.DRIFT_PSI_WARN >= self.DRIFT_PSI_ALERT:
            raise ValueError("DRIFT_PSI_WARN must be lower than DRIFT_PSI_ALERT")
        if self.OUTCOME_MATURITY_DAYS >= self.PREDICTION_LOG_RETENTION_DAYS:
            raise ValueError(
                "OUTCOME_MATURITY_DAYS must be below PREDICTION_LOG_RETENTION_DAYS (no logged prediction "
                "could mature)"
            )
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process (read from the environment once)."""
    return Settings()
