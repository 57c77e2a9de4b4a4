"""Production monitoring: the prediction log and drift against the bundle's reference."""
