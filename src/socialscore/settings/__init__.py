"""Settings read from the environment (and ``.env``); the pipeline's own config is ``socialscore.config``."""
