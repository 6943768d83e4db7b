"""One exception family for expected failures: the CLI prints the message on one line and exits 1."""


class SocialScoreError(Exception):
    """An expected failure (bad input, missing artifact, unreachable database) with a one-line message."""


class ConfigError(SocialScoreError):
    """The configuration is invalid; the message names the key."""


class DataError(SocialScoreError):
    """An input file cannot be used as it is."""


class MissingArtifactError(SocialScoreError):
    """A step's input does not exist yet; the message names the step to run first."""


class DatabaseError(SocialScoreError):
    """The database cannot be reached or used; the message never holds a password."""


class ModelError(SocialScoreError):
    """A model bundle is missing, corrupt or incompatible."""
