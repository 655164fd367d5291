"""The pygame viewer and offscreen recorder: the only package that imports pygame.

This ``__init__`` itself imports nothing heavy, so :func:`check_record_target` can vet a
``--record`` target before any simulation runs. It silences pygame's greeting before any of the
package's modules imports pygame.
"""

import os
from pathlib import Path

from evorobot.errors import EvorobotError

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")


def check_record_target(out: Path) -> None:
    """Refuse, in one line, a ``--record`` target that exists and is not empty, or whose folder is missing."""
    if out.exists() and (out.is_file() or any(out.iterdir())):
        raise EvorobotError(f"{out}: already exists; choose another --record target")
    if not out.parent.is_dir():
        raise EvorobotError(f"{out}: its folder {out.parent} does not exist")
