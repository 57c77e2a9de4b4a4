"""One router per resource: health, model, predict, metrics, monitoring."""
