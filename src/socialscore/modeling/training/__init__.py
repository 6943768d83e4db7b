"""Training: the per-label estimators, the out-of-core trainer, cross-validation, thresholds and metrics."""
