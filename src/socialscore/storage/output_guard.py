"""Refuse an output path that would destroy what the user owns: an input file, or a directory.

Checked before any work is done. "The same file" is decided by the file system (``st_dev`` and
``st_ino`` of ``os.stat``), so a symlink or a hard link to an input is caught as well as the same name.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from socialscore.errors import DataError


def check_output(output: Path, inputs: Iterable[Path] = ()) -> None:
    """Raise DataError when ``output`` is a directory or one of ``inputs`` (a missing directory is created)."""
    if output.is_dir():
        raise DataError(f"the output {output} is a directory; name a file to write (e.g. {output / 'scored.csv'})")
    try:
        written = os.stat(output)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise DataError(f"the output {output} cannot be checked: {exc.strerror}") from None
    for source in inputs:
        try:
            read = os.stat(source)
        except OSError:
            continue  # a missing input is reported by the reader, with its own message
        if (read.st_dev, read.st_ino) == (written.st_dev, written.st_ino):
            how = "is" if Path(os.path.abspath(source)) == Path(os.path.abspath(output)) else "is the same file as (a link)"
            raise DataError(
                f"the output {output} {how} the input {source}: writing it would destroy the input; "
                "choose another output path"
            )
