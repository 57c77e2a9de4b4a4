"""The champion vs challenger report (documents GET /monitoring/shadow)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ShadowSide(BaseModel):
    color: str | None = Field(description="blue or green (None when nothing was compared)")
    model_versions: dict[str, int] = Field(description="compared applicants per model version")
    requests: int = Field(description="compared requests")
    flagged_share: float | None = Field(description="share of compared applicants flagged (label 1)")
    mean_seconds: float | None = Field(description="mean serving time in the backend (handler start to scored answer)")
    p95_seconds: float | None = Field(description="95th percentile of the serving time")
    unanswered: int = Field(
        description="requests of the shadow period this side did not answer while the other did (errors, timeouts)"
    )


class ShadowReport(BaseModel):
    window: str
    window_seconds: int
    from_: str = Field(alias="from")
    to: str
    requests_compared: int = Field(description="served requests paired with the challenger's copy (same request id)")
    rows_compared: int = Field(description="applicants scored by both colors")
    label_agreement: float | None = Field(description="share with the same label (flagged or not)")
    decision_agreement: float | None = Field(description="share with the same decision of the decision policy")
    mean_abs_delta: float | None = Field(description="mean |challenger - champion| probability of default")
    p95_abs_delta: float | None = Field(description="95th percentile of |challenger - champion| probability")
    champion: ShadowSide = Field(description="the active color: the answers clients got")
    challenger: ShadowSide = Field(description="the idle color: its answers to the shadow copies (discarded)")
    risk_bands: list[str] = Field(description="the order of the band transition matrix's rows and columns")
    band_transitions: list[list[int]] = Field(
        description="applicants in band i on the champion (row) and band j on the challenger (column)"
    )
    decisions: list[str] = Field(description="the order of the decision transition matrix's rows and columns")
    decision_transitions: list[list[int]] = Field(description="the same by decision")
