"""Model-side building blocks: featurisers, trainers and the scoring pipeline."""
