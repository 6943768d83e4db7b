"""Modelling: the scoring pipeline, its storage, the quality gate, model behaviour (bias, mitigation,
explanations, language awareness) and scale (the hashing featuriser, the out-of-core trainer)."""
