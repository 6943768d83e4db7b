"""Files and the database: CSV formats and repair, safe CSV writing, the project database."""
