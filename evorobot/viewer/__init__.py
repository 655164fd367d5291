"""The pygame viewer and offscreen recorder: the only package that imports pygame.

This ``__init__`` itself imports nothing heavy, so :func:`check_record_target` can vet a
``--record`` target, and the encoder its suffix needs, before any simulation runs. It silences pygame's greeting before any of the
package's modules imports pygame.
"""

import os
import shutil
from importlib.util import find_spec
from pathlib import Path

from evorobot.errors import DependencyNotInstalled, EvorobotError

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")


def check_record_target(out: Path) -> None:
    """Refuse, in one line, a ``--record`` target that exists and is not empty, whose folder is
    missing, or whose encoder is not installed (Pillow for ``.gif``; imageio with an ffmpeg, from
    imageio-ffmpeg or on the PATH, for ``.mp4``)."""
    suffix = out.suffix.lower()
    if suffix == ".gif" and find_spec("PIL") is None:
        raise DependencyNotInstalled(f"{out}: writing a GIF needs Pillow: pip install 'evorobot[record]'")
    if suffix == ".mp4" and (find_spec("imageio") is None
                             or (find_spec("imageio_ffmpeg") is None and shutil.which("ffmpeg") is None)):
        raise DependencyNotInstalled(
            f"{out}: writing an MP4 needs imageio and ffmpeg: pip install 'evorobot[record]'")
    if out.exists() and (out.is_file() or any(out.iterdir())):
        raise EvorobotError(f"{out}: already exists; choose another --record target")
    if not out.parent.is_dir():
        raise EvorobotError(f"{out}: its folder {out.parent} does not exist")
