"""The model registry: versions, aliases and run history in the project database."""
