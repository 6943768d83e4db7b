"""Text rules: storage normalisation and PII scrubbing, model preprocessing, NLTK resources."""
