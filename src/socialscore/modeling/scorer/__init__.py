"""The scorer: the scoring pipeline from raw text to scores, and its plain-data storage."""
