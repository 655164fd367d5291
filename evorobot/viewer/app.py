"""``evorobot view``: the interactive pygame viewer.

The viewer drives the very :class:`~evorobot.episode.Episode` that evolution and replay use; it
only chooses when to call :meth:`Episode.tick` and draws what the episode holds. All trials of the
individual run together (the same Space composition as in evolution), and one of them is shown,
so an unperturbed trial ends with exactly the fitness ``evorobot replay`` reports.

Keys: space pause/resume, right arrow one step, up/down speed, r restart, n/p next/previous trial,
drag a body with the mouse (a perturbation, marked in the status line; body tasks only),
s screenshot, h help, q or Esc quit. The window is resizable. What the main area shows depends on
the task (:func:`evorobot.viewer.renderers.renderer_for`): bodies, a cart with its poles, or the
scrolling traces of a sequence.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pygame

from evorobot.episode import Episode
from evorobot.errors import EvorobotError
from evorobot.source import Source
from evorobot.viewer.renderers import renderer_for

SPEEDS = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
HELP = [
    "space  pause / resume", "right  one step (paused)", "up/down  speed", "r  restart trial",
    "n / p  next / previous trial", "drag  move a body (perturbation)", "s  screenshot",
    "h  this help", "q / Esc  quit",
]


class DisplayError(EvorobotError):
    """No display could be opened for the viewer."""


@dataclass
class ViewerState:
    """What the user controls."""

    trial: int = 0
    paused: bool = False
    speed_index: int = SPEEDS.index(1.0)
    show_help: bool = False
    perturbed: bool = False
    dragging: int | None = None
    quit: bool = False
    screenshots: list[Path] = field(default_factory=list)


class Viewer:
    """The interactive viewer over a :class:`Source` (champion, world file or run directory)."""

    def __init__(self, source: Source, trial: int = 0, screenshot_dir: Path = Path(".")) -> None:
        self.source = source
        self.state = ViewerState(trial=trial)
        self.screenshot_dir = screenshot_dir
        self._credit = 0.0
        self._load()

    # -- episode management ---------------------------------------------------------------------
    def _load(self) -> None:
        self.episode = Episode(self.source.setup, self.source.genome[None, :], self.source.conditions)
        self.state.trial %= self.episode.n_trials
        self.renderer = renderer_for(self.episode, self.state.trial, self.source.info)
        self.state.perturbed = False

    def restart(self) -> None:
        self.episode.reset()
        self.renderer = renderer_for(self.episode, self.state.trial, self.source.info)
        self.state.perturbed = False
        self._credit = 0.0

    def select_trial(self, delta: int) -> None:
        self.state.trial = (self.state.trial + delta) % self.episode.n_trials
        self.restart()

    @property
    def trial_running(self) -> bool:
        b = self.state.trial
        sc = self.episode.scores
        return not (sc.done[b] or sc.failed[b]) and self.episode.step_count < self.episode.task.max_steps

    def step(self, n: int = 1) -> None:
        """Advance the episode by ``n`` ticks while the shown trial runs."""
        for _ in range(n):
            if not self.trial_running:
                return
            self.episode.tick()
            self.renderer.observe()

    def advance(self) -> None:
        """One frame's worth of ticks at the current speed (fractional speeds accumulate)."""
        if self.state.paused:
            return
        self._credit += SPEEDS[self.state.speed_index]
        n = int(self._credit)
        self._credit -= n
        self.step(n)

    # -- input --------------------------------------------------------------------------------------
    def handle(self, event: pygame.event.Event) -> None:
        st = self.state
        if event.type == pygame.QUIT:
            st.quit = True
        elif event.type == pygame.KEYDOWN:
            key = event.key
            if key in (pygame.K_q, pygame.K_ESCAPE):
                st.quit = True
            elif key == pygame.K_SPACE:
                st.paused = not st.paused
            elif key == pygame.K_RIGHT:
                st.paused = True
                self.step(1)
            elif key == pygame.K_UP:
                st.speed_index = min(st.speed_index + 1, len(SPEEDS) - 1)
            elif key == pygame.K_DOWN:
                st.speed_index = max(st.speed_index - 1, 0)
            elif key == pygame.K_r:
                self.restart()
            elif key == pygame.K_n:
                self.select_trial(+1)
            elif key == pygame.K_p:
                self.select_trial(-1)
            elif key == pygame.K_h:
                st.show_help = not st.show_help
            elif key == pygame.K_s:
                self.screenshot()
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            st.dragging = self._body_at(event.pos)
        elif event.type == pygame.MOUSEBUTTONUP and event.button == 1:
            st.dragging = None
        elif event.type == pygame.MOUSEMOTION and st.dragging is not None:
            self.move_body(st.dragging, event.pos)

    def _body_at(self, pos: tuple[int, int]) -> int | None:
        tf = self.renderer.transform
        ep, b = self.episode, self.state.trial
        if tf is None or ep.plant_task is not None:  # a task with its own dynamics has no bodies to drag
            return None
        x, y = tf.inverse(*pos)
        best, best_d = None, 2.5 * ep.agent.body.radius
        for row in [*ep.team[b], *[o for o in ep.objects[b] if o >= 0]]:
            bx, by = ep.poses[row, 0] - ep.origins[b, 0], ep.poses[row, 1] - ep.origins[b, 1]
            d = float(np.hypot(bx - x, by - y))
            if d < best_d:
                best, best_d = int(row), d
        return best

    def move_body(self, row: int, pos: tuple[int, int]) -> None:
        """Place body ``row`` under the mouse: a perturbation (Beer-style)."""
        tf = self.renderer.transform
        assert tf is not None
        x, y = tf.inverse(*pos)
        ep, b = self.episode, self.state.trial
        ep.world.bodies[row].position = (x + ep.origins[b, 0], y + ep.origins[b, 1])
        ep.world.read(ep.poses)
        self.state.perturbed = True

    def screenshot(self, surface: pygame.Surface | None = None) -> Path:
        surface = surface or pygame.display.get_surface()
        path = self.screenshot_dir / f"evorobot-{time.strftime('%Y%m%d-%H%M%S')}-{len(self.state.screenshots)}.png"
        pygame.image.save(surface, str(path))
        self.state.screenshots.append(path)
        return path

    # -- drawing ----------------------------------------------------------------------------------
    def draw(self, surface: pygame.Surface) -> None:
        self.renderer.info = dict(self.source.info)
        self.renderer.info["speed"] = f"{SPEEDS[self.state.speed_index]:g}x"
        if self.state.paused:
            self.renderer.info["paused"] = "(space)"
        if self.state.perturbed:
            self.renderer.info["PERTURBED"] = ""
        self.renderer.draw(surface)
        if self.state.show_help:
            font = self.renderer.font
            assert font is not None
            for i, line in enumerate(HELP):
                surface.blit(font.render(line, True, (255, 255, 255), (0, 0, 0)), (10, 10 + 16 * i))

    def run(self, size: tuple[int, int] = (960, 600), fps: int = 60, events: Iterable[list] | None = None,
            max_frames: int | None = None) -> None:
        """Open the window and loop until quit. ``events``/``max_frames`` script it (tests)."""
        screen = open_display(size)
        clock = pygame.time.Clock()
        scripted = iter(events) if events is not None else None
        frames = 0
        while not self.state.quit and (max_frames is None or frames < max_frames):
            batch = next(scripted, []) if scripted is not None else pygame.event.get()
            for event in batch:
                if event.type == pygame.VIDEORESIZE:
                    screen = pygame.display.set_mode(event.size, pygame.RESIZABLE)
                self.handle(event)
            if self.source.poll():
                self._load()
            self.advance()
            self.draw(screen)
            pygame.display.flip()
            if scripted is None:
                clock.tick(fps)
            frames += 1
        pygame.display.quit()


def open_display(size: tuple[int, int]) -> pygame.Surface:
    """Open a resizable window; a missing display is a one-line :class:`DisplayError`."""
    try:
        pygame.display.init()
        pygame.font.init()
        screen = pygame.display.set_mode(size, pygame.RESIZABLE)
    except pygame.error as exc:
        raise DisplayError(f"cannot open a window ({exc}); `evorobot view` needs a display "
                           "(use `evorobot replay --record` to render headless)") from None
    pygame.display.set_caption("evorobot")
    return screen
