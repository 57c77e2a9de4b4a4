"""The PromQL the controller asks, over the backends' own metrics (scraped per color, `color` label) and only
for the scoring routes; probes and shadow copies (`source="probe"`, `source="shadow"`) never count as predictions."""

from __future__ import annotations

SCORING_ROUTES = 'route=~"/predict|/predict/batch"'
NOT_SERVED = 'source!~"probe|shadow"'  # deployment checks and nginx's shadow copies
BEFORE_WINDOW = "5m"  # the previous color's latency: over this long before the switch


def _selector(*matchers: str) -> str:
    return "{" + ",".join(matchers) + "}"


def scoring_requests(color: str, window: str, status: str | None = None) -> str:
    """Scoring requests answered by `color` over `window` (only those with a status matching `status`)."""
    matchers = [f'color="{color}"', SCORING_ROUTES, *([f'status=~"{status}"'] if status else [])]
    return f"sum(increase(http_requests_total{_selector(*matchers)}[{window}]))"


def scoring_rate(color: str, window: str, status: str | None = None) -> str:
    """The same per second."""
    return scoring_requests(color, window, status).replace("increase(", "rate(", 1)


def p99(color: str, window: str) -> str:
    """The p99 latency of `color`'s scoring requests over `window`."""
    color_matcher = f'color="{color}"'
    bucket = f"http_request_duration_seconds_bucket{_selector(color_matcher, SCORING_ROUTES)}"
    return f"histogram_quantile(0.99, sum by (le) (increase({bucket}[{window}])))"


def predictions(color: str, window: str, label: str | None = None) -> str:
    """Applicants served by `color` over `window`, probes and shadow copies left out (only those with `label`)."""
    matchers = [f'color="{color}"', NOT_SERVED, *([f'label="{label}"'] if label else [])]
    return f"sum(increase(predictions_total{_selector(*matchers)}[{window}]))"


def probability_buckets(color: str, window: str) -> str:
    """The cumulative counts of `color`'s predicted probabilities per bucket (`le`) over `window`; probes and
    mirrored (shadow) requests never count."""
    matchers = [f'color="{color}"', 'source!~"probe|shadow"']
    return f"sum by (le) (increase(prediction_probability_bucket{_selector(*matchers)}[{window}]))"
