"""Reading input files safely: decoding, file-system checks and resource guards, label parsing,
column names, and id checks. ``socialscore.storage.datasets.read_table`` builds on these."""
