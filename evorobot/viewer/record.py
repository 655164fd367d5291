"""Offscreen recording of a trial (``evorobot replay --record OUT``): PNG frames, GIF or MP4.

Rendering uses a plain pygame Surface and needs no display. A folder gets ``frame_00000.png``...;
``OUT.gif`` needs Pillow and ``OUT.mp4`` needs imageio with ffmpeg (the ``record`` extra).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pygame

from evorobot.episode import Episode
from evorobot.errors import DependencyNotInstalled
from evorobot.viewer import check_record_target
from evorobot.viewer.renderers import renderer_for


def _encoder(out: Path) -> tuple[str, Any]:
    suffix = out.suffix.lower()
    if suffix == ".gif":
        try:
            from PIL import Image
        except ImportError:
            raise DependencyNotInstalled(
                f"{out}: writing a GIF needs Pillow: pip install 'evorobot[record]'") from None
        return ("gif", Image)
    if suffix == ".mp4":
        try:
            import imageio.v2 as imageio
        except ImportError:
            raise DependencyNotInstalled(
                f"{out}: writing an MP4 needs imageio and ffmpeg: pip install 'evorobot[record]'") from None
        return ("mp4", imageio)
    return ("png", None)


def record_trial(episode: Episode, trial: int, out: Path, info: dict[str, str] | None = None,
                 size: tuple[int, int] = (960, 540), every: int = 1) -> int:
    """Run ``episode`` and render trial ``trial`` after every ``every`` ticks; return frame count."""
    kind, lib = _encoder(out)
    check_record_target(out)
    pygame.font.init()
    surface = pygame.Surface(size)
    renderer = renderer_for(episode, trial, info)
    frames_dir = Path(tempfile.mkdtemp(prefix=".frames-", dir=out.parent))
    count = 0
    try:
        def save() -> None:
            nonlocal count
            renderer.draw(surface)
            pygame.image.save(surface, str(frames_dir / f"frame_{count:05d}.png"))
            count += 1

        save()
        b = trial
        while not (episode.scores.done[b] or episode.scores.failed[b]) and episode.step_count < episode.task.max_steps:
            episode.tick()
            renderer.observe()
            if episode.step_count % every == 0:
                save()
        save()
        files = sorted(frames_dir.glob("frame_*.png"))
        if kind == "png":
            if out.exists():
                out.rmdir()  # empty, checked above
            os.replace(frames_dir, out)
        elif kind == "gif":
            images = [lib.open(f).convert("P", palette=lib.Palette.ADAPTIVE) for f in files]
            tmp = out.with_name(f".{out.name}.tmp")
            images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=33, loop=0)
            os.replace(tmp, out)
        else:
            tmp = out.with_name(f".{out.name}.tmp.mp4")
            with lib.get_writer(tmp, fps=30) as writer:
                for f in files:
                    writer.append_data(lib.imread(f))
            os.replace(tmp, out)
    finally:
        if frames_dir.exists():
            shutil.rmtree(frames_dir, ignore_errors=True)
    return count
