"""Featurizers: raw texts to sparse feature rows (vocabulary TF-IDF, hashed n-grams, engineered features)."""
