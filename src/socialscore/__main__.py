"""``python -m socialscore ...``: the same command line as ``socialscore ...``."""

from socialscore.terminal.app import main

if __name__ == "__main__":  # pragma: no cover
    main(prog_name="python -m socialscore")
