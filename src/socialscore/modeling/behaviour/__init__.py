"""Model behaviour: identity bias and its mitigations, probes, the quality gate, explanations, language."""
