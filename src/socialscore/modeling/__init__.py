"""Modelling: the scoring pipeline, its storage, the quality gate, and model behaviour (bias, mitigation,
explanations, language awareness)."""
