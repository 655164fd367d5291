"""Rendering for the environments: the viewer's own renderer (:mod:`evorobot.viewer.renderers`)
drawing one trial of the environment's episode, as an RGB array or in a window.

pygame is imported on the first frame only; ``rgb_array`` needs no display (an off-screen
surface), ``human`` opens a window and paces frames at the environment's ``render_fps``
(real time: one frame per tick of ``dt`` simulated seconds).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from evorobot.episode import Episode

if TYPE_CHECKING:
    from evorobot.viewer.render import Renderer

RENDER_MODES = ("rgb_array", "human")
SIZE = (900, 560)


def check_mode(render_mode: str | None, where: str) -> None:
    """Refuse a render mode the environments do not have."""
    if render_mode is not None and render_mode not in RENDER_MODES:
        raise ValueError(f"{where}: render_mode must be one of {', '.join(RENDER_MODES)} or None, got {render_mode!r}")


class Screen:
    """Draws trial ``trial`` (robot ``robot`` in the panel) of the current episode."""

    def __init__(self, mode: str, fps: int, title: str) -> None:
        self.mode, self.fps, self.title = mode, fps, title
        self.renderer: Renderer | None = None
        self._episode: Episode | None = None
        self._window: Any = None
        self._clock: Any = None

    def follow(self, ep: Episode, trial: int = 0, robot: int = 0) -> None:
        """Draw ``ep`` from now on (a new trial: the traces start again)."""
        from evorobot.viewer.renderers import renderer_for

        previous = self.renderer
        self.renderer = renderer_for(ep, trial, {"env": self.title})
        if previous is not None:
            self.renderer.copy_view(previous)
        self.renderer.select_robot(robot)
        self._episode = ep

    def observe(self) -> None:
        """Record this tick into the traces (call after every step)."""
        if self.renderer is not None:
            self.renderer.observe()

    def frame(self) -> np.ndarray | None:
        """The frame: an (H, W, 3) uint8 array in ``rgb_array`` mode; drawn to the window in ``human``."""
        import pygame

        assert self.renderer is not None, "reset the environment before rendering"
        if self.mode == "rgb_array":
            surface = pygame.Surface(SIZE)
            self.renderer.draw(surface)
            return np.transpose(pygame.surfarray.array3d(surface), (1, 0, 2)).copy()
        if self._window is None:
            from evorobot.viewer.app import open_display

            self._window = open_display(SIZE)
            pygame.display.set_caption(self.title)
            self._clock = pygame.time.Clock()
        pygame.event.pump()
        self.renderer.draw(self._window)
        pygame.display.flip()
        self._clock.tick(self.fps)
        return None

    def close(self) -> None:
        """Close the window, if one was opened."""
        if self._window is not None:
            import pygame

            pygame.display.quit()
            self._window = None


class Rendered:
    """``render`` and ``close`` of an environment that keeps its :class:`Screen` (None: no render
    mode) in ``screen`` and its episode in ``episode``."""

    screen: Screen | None
    episode: Episode | None

    def render(self) -> np.ndarray | None:
        """The current frame (``rgb_array``), or draw it to the window (``human``)."""
        return None if self.screen is None else self.screen.frame()

    def close(self) -> None:
        """Close the window, if any, and drop the episode."""
        if self.screen is not None:
            self.screen.close()
        self.episode = None
