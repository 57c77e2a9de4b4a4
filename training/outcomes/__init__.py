"""Retraining on outcomes (`make retrain`): the service's matured labeled predictions joined to the original data."""
