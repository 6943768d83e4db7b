"""Modelling, one subpackage per concern: ``featurizers`` (texts to features), ``training`` (estimators,
out-of-core trainer, validation, metrics), ``behaviour`` (bias, mitigation, probes, gate, explanations,
language) and ``scorer`` (the scoring pipeline and its storage)."""
