"""Model behaviour: identity-term bias, its mitigation, explanations and language awareness."""
