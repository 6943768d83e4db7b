"""The alias names, apart from the registry's tables: serving needs them without SQLAlchemy."""

PRODUCTION = "production"
STAGING = "staging"
