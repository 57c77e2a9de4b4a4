"""Service settings, read once from environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the service; each one is an environment variable of the same name."""

    model_config = SettingsConfigDict(case_sensitive=False, frozen=True)

    MODEL_DIR: Path = Field(Path("models/credit-default/latest"), description="bundle directory to serve")
    DEPLOY_COLOR: Literal["blue", "green"] = Field("blue", description="this stack's color (headers, metrics)")
    MAX_BATCH_ROWS: int = Field(10_000, gt=0, description="largest batch accepted by /predict/batch")
    MAX_BODY_BYTES: int = Field(16 * 1024 * 1024, gt=0, description="largest request body accepted")
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    TOP_FACTORS: int = Field(5, gt=0, le=50, description="explanation factors returned by /predict")

    @field_validator("LOG_LEVEL", mode="before")
    @classmethod
    def _upper_case_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process (read from the environment once)."""
    return Settings()
