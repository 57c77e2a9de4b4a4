"""Settings, bundle loading, scoring, explanations and metrics: everything below the HTTP layer."""
