"""``evorobot view``: the interactive pygame viewer.

The viewer drives the very :class:`~evorobot.episode.Episode` that evolution and replay use; it
only chooses when to call :meth:`Episode.tick` and draws what the episode holds. All trials of the
individual run together (the same Space composition as in evolution), and one of them is shown,
so an unperturbed trial ends with exactly the fitness ``evorobot replay`` reports.

Speed is simulated seconds per wall second: at 1x (real time) a frame of ``dt_frame`` seconds
advances ``speed * dt_frame / dt`` ticks, the fraction carried to the next frame (at 60 fps and
dt = 0.1 s, one tick every 6 frames). When the shown trial ends, playback holds its last frame for
:data:`END_HOLD` wall seconds and goes on to the next trial, unless ``c`` set it to stop there.

Keys (also in :data:`HELP`): space pause/resume, right arrow one step, up/down speed, r restart,
n/p next/previous trial, c stop at a trial's end or continue, tab the next robot of a team (a click
on a robot chooses it too), mouse wheel zoom about the cursor, drag the background to pan, f fit
the view, drag a body to move it (a perturbation, marked in the status line; body tasks only),
s screenshot (its path printed and shown on the status line), h help, q or Esc quit. The window
is resizable. What the main area shows depends on the task
(:func:`evorobot.viewer.renderers.renderer_for`): bodies, a cart with its poles, or the scrolling
traces of a sequence.

On Linux with no display (neither ``DISPLAY`` nor ``WAYLAND_DISPLAY`` set, and ``SDL_VIDEODRIVER``
unset or naming x11/wayland) SDL would fall back to an offscreen window nobody sees, and wait;
:func:`check_display` refuses that in one line before pygame's display is touched.
"""

from __future__ import annotations

import os
import sys
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
"""Simulated seconds per wall second (1.0 is real time)."""
END_HOLD = 1.5
"""Wall seconds the last frame of a trial stays before playback goes on to the next trial."""
MESSAGE_SECONDS = 4.0
"""How long a message (a saved screenshot's path) stays on the status line."""
ZOOM_STEP = 2.0 ** 0.25
"""Zoom per notch of the mouse wheel (four notches double the scale)."""
DISPLAY_FREE_DRIVERS = ("x11", "wayland")
HELP = [
    "space  pause / resume", "right  one step (paused)", "up / down  speed (x real time)",
    "r  restart trial", "n / p  next / previous trial", "c  stop at a trial's end / go on",
    "tab, click  choose the robot shown", "wheel  zoom about the cursor", "drag background  pan",
    "f  fit the view", "drag a body  move it (perturbation)", "s  screenshot", "h  this help",
    "q / Esc  quit",
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
    stop_at_end: bool = False
    dragging: int | None = None
    panning: bool = False
    quit: bool = False
    message: str = ""
    message_until: float = 0.0
    screenshots: list[Path] = field(default_factory=list)


class Viewer:
    """The interactive viewer over a :class:`Source` (champion, world file or run directory)."""

    def __init__(self, source: Source, trial: int = 0, screenshot_dir: Path = Path(".")) -> None:
        self.source = source
        self.state = ViewerState(trial=trial)
        self.screenshot_dir = screenshot_dir
        self._credit = 0.0
        self._held = 0.0
        self._load()

    # -- episode management ---------------------------------------------------------------------
    def _load(self) -> None:
        self.episode = Episode(self.source.setup, self.source.genome[None, :], self.source.conditions)
        self.state.trial %= self.episode.n_trials
        old = self.__dict__.get("renderer")
        self.renderer = renderer_for(self.episode, self.state.trial, self.source.info)
        if old is not None:  # a reloaded champion keeps the view
            self.renderer.copy_view(old)
        self.state.perturbed = False

    def restart(self) -> None:
        self.episode.reset()
        old = self.renderer
        self.renderer = renderer_for(self.episode, self.state.trial, self.source.info)
        self.renderer.copy_view(old)
        self.state.perturbed = False
        self._credit = 0.0
        self._held = 0.0

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

    def advance(self, dt_frame: float) -> None:
        """One frame of ``dt_frame`` wall seconds: ``speed * dt_frame / dt`` ticks, the fraction
        carried over; at the end of the shown trial, after :data:`END_HOLD` seconds, the next trial
        (unless stopping at the end)."""
        if self.state.paused:
            return
        if not self.trial_running:
            self._held += dt_frame
            if not self.state.stop_at_end and self._held >= END_HOLD - 1e-9:
                self.select_trial(+1)
            return
        self._credit += SPEEDS[self.state.speed_index] * dt_frame / self.episode.dt
        n = int(self._credit + 1e-9)  # 6 frames of 1/60 s at dt 0.1 make one tick, not 0.999...
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
            elif key == pygame.K_c:
                st.stop_at_end = not st.stop_at_end
            elif key == pygame.K_TAB:
                self.renderer.select_robot(self.renderer.robot + 1)
            elif key == pygame.K_f:
                self.renderer.fit_view()
            elif key == pygame.K_s:
                path = self.screenshot()
                print(path, flush=True)
                self.say(f"saved {path}")
        elif event.type == pygame.MOUSEWHEEL:
            pos = event.dict["pos"] if "pos" in event.dict else pygame.mouse.get_pos()
            if self._in_world(pos):
                self.renderer.zoom_at(pos, ZOOM_STEP ** event.y)
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1 and self._in_world(event.pos):
            st.dragging = self._body_at(event.pos)
            st.panning = st.dragging is None
            team = list(self.episode.team[st.trial]) if self.episode.plant_task is None else []
            if st.dragging in team:
                self.renderer.select_robot(team.index(st.dragging))
        elif event.type == pygame.MOUSEBUTTONUP and event.button == 1:
            st.dragging, st.panning = None, False
        elif event.type == pygame.MOUSEMOTION and st.dragging is not None:
            self.move_body(st.dragging, event.pos)
        elif event.type == pygame.MOUSEMOTION and st.panning:
            self.renderer.pan_by(*event.rel)

    def say(self, text: str, seconds: float = MESSAGE_SECONDS) -> None:
        """Show ``text`` on the status line for ``seconds`` wall seconds."""
        self.state.message, self.state.message_until = text, time.monotonic() + seconds

    def _in_world(self, pos: tuple[int, int]) -> bool:
        """Whether ``pos`` lies in the main area (not on the panel or the status line)."""
        w, h = self.renderer.world_size
        return 0 <= pos[0] < w and 0 <= pos[1] < h

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
        ep.world.move_body(row, (x + ep.origins[b, 0], y + ep.origins[b, 1]))
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
        st = self.state
        speed = SPEEDS[st.speed_index]
        info = {"speed": f"{speed:g}x" + (" (real time)" if speed == 1.0 else "") + " (up/down)"}
        if st.paused:
            info["paused"] = "(space)"
        info["at trial end:"] = "stop (c)" if st.stop_at_end else "next trial (c)"
        if self.renderer.zoom != 1.0:
            info["zoom"] = f"{self.renderer.zoom:.2g}x (f: fit)"
        if st.perturbed:
            info["PERTURBED"] = ""
        info.update(self.source.info)
        if st.message and time.monotonic() < st.message_until:
            info[st.message] = ""
        self.renderer.info = info
        self.renderer.draw(surface)
        if self.state.show_help:
            font = self.renderer.font
            assert font is not None
            lines = [font.render(line, True, (255, 255, 255)) for line in HELP]
            box = pygame.Rect(6, 6, max(x.get_width() for x in lines) + 12, 16 * len(lines) + 8)
            pygame.draw.rect(surface, (0, 0, 0), box)
            pygame.draw.rect(surface, (120, 120, 130), box, 1)
            for i, text in enumerate(lines):
                surface.blit(text, (box.left + 6, box.top + 5 + 16 * i))

    def run(self, size: tuple[int, int] = (1100, 650), fps: int = 60, events: Iterable[list] | None = None,
            max_frames: int | None = None) -> None:
        """Open the window and loop until quit. ``events``/``max_frames`` script it (tests); a scripted
        frame lasts exactly ``1 / fps`` seconds."""
        screen = open_display(size)
        clock = pygame.time.Clock()
        scripted = iter(events) if events is not None else None
        frames = 0
        dt_frame = 1.0 / fps
        while not self.state.quit and (max_frames is None or frames < max_frames):
            batch = next(scripted, []) if scripted is not None else pygame.event.get()
            for event in batch:
                if event.type == pygame.VIDEORESIZE:
                    screen = pygame.display.set_mode(event.size, pygame.RESIZABLE)
                self.handle(event)
            if self.source.poll():
                self._load()
            self.advance(dt_frame)
            self.draw(screen)
            pygame.display.flip()
            if scripted is None:  # real time: the wall time this frame took (a stall counts 0.1 s at most)
                dt_frame = min(clock.tick(fps) / 1000.0, 0.1)
            frames += 1
        pygame.display.quit()


def check_display(env: dict[str, str] | None = None, platform: str = sys.platform) -> None:
    """Refuse, with a one-line :class:`DisplayError`, to open a window where there is no display
    (see the module docstring); elsewhere SDL decides."""
    env = dict(os.environ) if env is None else env
    if not platform.startswith("linux"):
        return
    drivers = [d.strip().lower() for d in env.get("SDL_VIDEODRIVER", "").split(",") if d.strip()]
    if any(d not in DISPLAY_FREE_DRIVERS for d in drivers):  # dummy, offscreen, kmsdrm ...: SDL's business
        return
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return
    raise DisplayError("cannot open a window (no display: DISPLAY and WAYLAND_DISPLAY are unset); "
                       "`evorobot view` needs a display (use `evorobot replay --record` to render headless)")


def open_display(size: tuple[int, int]) -> pygame.Surface:
    """Open a resizable window; a missing display is a one-line :class:`DisplayError`."""
    check_display()
    try:
        pygame.display.init()
        pygame.font.init()
        screen = pygame.display.set_mode(size, pygame.RESIZABLE)
    except pygame.error as exc:
        raise DisplayError(f"cannot open a window ({exc}); `evorobot view` needs a display "
                           "(use `evorobot replay --record` to render headless)") from None
    pygame.display.set_caption("evorobot")
    return screen
