"""What the command line shows a user: help metavars, ``-h``, small number formats."""
