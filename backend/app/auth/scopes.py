"""What an API key may do: the scopes a route requires, and what each one allows."""

from __future__ import annotations

from typing import Final

SCORE: Final = "score"
READ: Final = "read"
AUDIT: Final = "audit"
OUTCOMES: Final = "outcomes"
METRICS: Final = "metrics"
PROBE: Final = "probe"
ON_BEHALF_OF: Final = "on-behalf-of"

SCOPES: Final[dict[str, str]] = {
    SCORE: "score applicants: POST /predict and /predict/batch",
    READ: "read the served model and its data: /model, /model/plots/*, /schema, /monitoring/summary, "
    "/outcomes/performance",
    AUDIT: "list who scored what: /audit/predictions and /audit/keys; export labeled predictions: /outcomes/labeled",
    OUTCOMES: "record observed outcomes of predictions: POST /outcomes",
    METRICS: "scrape /metrics (Prometheus)",
    PROBE: "mark requests as deployment checks (X-Traffic-Source: probe), left out of monitoring",
    ON_BEHALF_OF: "name the analyst a request is made for (X-On-Behalf-Of): the analyst UI's service key",
}
