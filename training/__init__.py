"""Training pipeline: candidates, MLflow tracking and registry, bundle export."""
