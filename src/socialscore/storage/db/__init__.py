"""The project database: one engine per URL, whole-table replace, checksums."""
