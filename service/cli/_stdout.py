"""Keep stdout for the JSON answer whatever libraries print (Ray's ``(raylet) …`` lines, C-level banners).

:func:`stdout_to_stderr` points file descriptor 1 at stderr for the duration of the work, so Python writes,
writes from C extensions and the output of child processes (Ray's raylet and workers inherit the descriptor)
all land on stderr; the real stdout is restored afterwards for the JSON.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def stdout_to_stderr(enabled: bool = True) -> Iterator[None]:
    """While the block runs, everything written to stdout (fd 1) goes to stderr (fd 2)."""
    if not enabled:
        yield
        return
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no stdout at all (a daemon): nothing to protect
        yield
        return
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()  # whatever was buffered belongs to the block: it goes to stderr
        os.dup2(saved, 1)
        os.close(saved)
