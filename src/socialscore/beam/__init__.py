"""Apache Beam engines for socialscore's batch steps (optional extra: ``socialscore[beam]``)."""
