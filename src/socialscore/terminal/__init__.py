"""The command line: the Typer app, its help formatting, the registry commands and the run banner/summary."""
