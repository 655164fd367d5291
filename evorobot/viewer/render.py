"""Drawing one trial of an :class:`~evorobot.episode.Episode` onto a pygame Surface: the frame.

A renderer is a pure observer: it reads the episode's arrays and never changes them. Every
renderer shares one frame (:class:`Renderer`): the main area, a side panel and a two-line status
line. What the main area shows depends on the task (:func:`evorobot.viewer.renderers.renderer_for`
chooses): bodies in a Space (:class:`evorobot.viewer.bodies.BodyRenderer`), a cart with its poles
or the traces of a sequence task (:mod:`evorobot.viewer.dynamics`).

The panel (:mod:`evorobot.viewer.panel`, fixed scales stated there) shows one agent, robot
:attr:`Renderer.robot` of the shown trial's team: its sensor inputs, its network's quantities and
a plot of its motor commands over the last :data:`~evorobot.viewer.panel.PLOT_TICKS` ticks in
simulated seconds. The status line gives the trial, the simulated time, the fitness (so far, when
the task's fitness accumulates; see :attr:`Renderer.running_fitness`), the trial's conditions
(``task.condition_names`` with the trial's row; a noise seed is left out) and, on its second line,
what the viewer puts into :attr:`Renderer.info` (speed, pause ...) and the hint ``h: help``.

The main area maps world coordinates (local to the trial, y up) to pixels by one
:class:`Transform`: the task's bounds fitted to the area, then :attr:`Renderer.zoom` about the
area's centre and :attr:`Renderer.pan` (world units) on top (:meth:`Renderer.zoom_at`,
:meth:`Renderer.pan_by`).

Call :meth:`Renderer.observe` after every tick (the viewer and the recorder do) so that the traces
hold every tick, not only the drawn ones; a second call at the same tick records nothing, so a
paused viewer, which draws (and observes) every frame, draws the same pixels every frame.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import pygame

from evorobot.episode import Episode
from evorobot.labels import input_labels, output_labels, unit_labels
from evorobot.viewer.panel import (
    BAR_NEG,
    BAR_POS,
    PLANT_INPUT_SCALE,
    PLOT_TICKS,
    SENSOR_BAR,
    SENSOR_SCALE,
    Plot,
    Scale,
    draw_bar_rows,
    draw_plot,
    quantity_scale,
)

BACKGROUND = (18, 20, 26)
GROUND = (60, 64, 74)
AGENT = (70, 160, 255)
ROBOT_COLOURS = (AGENT, (255, 130, 90), (120, 220, 110), (225, 120, 235))
"""Body (and, darker, trail) colour of robot 0, 1, ... of a team (cycled)."""
HIGHLIGHT = (255, 255, 255)
OBJECT = (235, 235, 235)
HIDDEN_OBJECT = (90, 90, 90)
RAY_OFF = (90, 70, 40)
RAY_ON = (255, 200, 60)
LIGHT = (255, 240, 120)
LIGHT_GLOW = (90, 80, 30)
WALL = (150, 150, 160)
SENSOR_OFF = (60, 50, 20)
TEXT = (220, 220, 220)
DIM_TEXT = (150, 150, 160)
PANEL = (30, 33, 42)
CAMERA_RAY = (60, 70, 95)
FIELD = (255, 140, 60)
RETINA_HEIGHT = 12
PANEL_WIDTH = 390
STATUS_HEIGHT = 38
ZOOM_LIMITS = (0.1, 50.0)
PIXEL_LIMIT = 1 << 24
"""Largest pixel coordinate or length handed to pygame (which takes C ints): a world far larger
than the screen (a body 1e20 across, a pose gone to infinity) is drawn clipped, never overflows."""


def to_pixel(v: float) -> int:
    """``v`` rounded to a pixel within +-:data:`PIXEL_LIMIT` (NaN: off-screen, at -PIXEL_LIMIT)."""
    if math.isnan(v):
        return -PIXEL_LIMIT
    return round(min(max(v, -PIXEL_LIMIT), PIXEL_LIMIT))


@dataclass
class Transform:
    """World (local to a trial) -> screen pixels, uniform scale, y pointing up."""

    scale: float
    x0: float
    y0: float
    height: int

    def __call__(self, x: float, y: float) -> tuple[int, int]:
        return (to_pixel((x - self.x0) * self.scale), to_pixel(self.height - (y - self.y0) * self.scale))

    def length(self, d: float, least: int = 1) -> int:
        """A world length ``d`` in pixels, at least ``least`` and at most :data:`PIXEL_LIMIT`."""
        return max(least, to_pixel(d * self.scale))

    def inverse(self, px: float, py: float) -> tuple[float, float]:
        return (px / self.scale + self.x0, (self.height - py) / self.scale + self.y0)


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    t = min(max(t, 0.0), 1.0)
    return (int(a[0] + (b[0] - a[0]) * t), int(a[1] + (b[1] - a[1]) * t), int(a[2] + (b[2] - a[2]) * t))


def robot_colour(k: int) -> tuple[int, int, int]:
    """The body colour of robot ``k`` of a team."""
    return ROBOT_COLOURS[k % len(ROBOT_COLOURS)]


def trail_colour(k: int) -> tuple[int, int, int]:
    """The trail colour of robot ``k``: its body colour half-way to the background."""
    return _mix(BACKGROUND, robot_colour(k), 0.5)


def input_scale(ep: Episode) -> Scale:
    """The fixed scale of ``ep``'s inputs: a dynamics task's [-1, 1]; Beer's eye [0, gain] (a ray
    reads ``gain * (range - d) / range``); any other body's sensors [0, 1]."""
    if ep.plant_task is not None:
        return PLANT_INPUT_SCALE
    if ep.robots is None:
        return Scale(0.0, ep.agent.eye.gain)
    return SENSOR_SCALE


class Renderer:
    """The frame every renderer shares: the main area (drawn by the subclass's :meth:`_draw_world`),
    the panel and the status line. Trial ``trial`` of ``episode`` is shown."""

    running_fitness = False
    """Whether the status line shows the fitness of a trial still running: the task's fitness as if
    the trial ended now (meaningful when the task's accumulators are its fitness so far, as in
    pole balancing, a sequence or a robot's time near the light; not for a falling object's
    fitness, which is its offset on arrival)."""

    def __init__(self, episode: Episode, trial: int = 0, info: dict[str, str] | None = None) -> None:
        self.episode = episode
        self.trial = trial
        self.info = dict(info or {})
        self.robot = 0
        """Which robot of the shown trial's team the panel shows."""
        self.zoom = 1.0
        self.pan = (0.0, 0.0)
        """The view's offset from the fitted centre, in world units."""
        self.history: deque[np.ndarray] = deque(maxlen=PLOT_TICKS)
        """Every robot's outputs in the shown trial, one (robots, outputs) array per tick."""
        self.font: pygame.font.Font | None = None
        self.small_font: pygame.font.Font | None = None
        self.transform: Transform | None = None
        """World -> pixels of the last :meth:`draw` (None when the main area is not a world)."""
        self.sensor_bars: list[pygame.Rect] = []
        """The track of each input's bar in the last :meth:`draw` (surface coordinates)."""
        self.unit_bars: dict[str, list[pygame.Rect]] = {}
        """The tracks of each traced network quantity's bars in the last :meth:`draw`."""
        self.plot: Plot | None = None
        self.panel_rect: pygame.Rect | None = None
        self._area = (1, 1)
        self._seen = episode.step_count

    @property
    def agent(self) -> int:
        """Row of the shown agent in the episode's per-agent arrays (inputs, outputs, states)."""
        return self.trial * self.episode.n_robots + self.robot

    @property
    def world_size(self) -> tuple[int, int]:
        """Width and height (pixels) of the main area in the last :meth:`draw`."""
        return self._area

    def select_robot(self, k: int) -> None:
        """Show robot ``k`` (modulo the team's size) in the panel."""
        self.robot = k % self.episode.n_robots

    # -- traces ----------------------------------------------------------------------------------
    def observe(self) -> None:
        """Record this tick's values into the traces; call after every tick. A second call at the
        same tick does nothing; a tick count that went back (a reset) clears the traces."""
        step = self.episode.step_count
        if step < self._seen:
            self.reset_history()
        if step == self._seen:
            return
        self._seen = step
        self._record()

    def _record(self) -> None:
        ep, n = self.episode, self.episode.n_robots
        self.history.append(ep.outputs[self.trial * n : (self.trial + 1) * n].copy())

    def reset_history(self) -> None:
        self.history.clear()
        self._seen = self.episode.step_count

    # -- the view --------------------------------------------------------------------------------
    def _fit(self, bounds: tuple[float, float, float, float], width: int, height: int) -> Transform:
        """Fit ``bounds`` (xmin, xmax, ymin, ymax) in width x height, centred, then apply the zoom
        (about the centre) and the pan."""
        xmin, xmax, ymin, ymax = bounds
        scale = min(width / (xmax - xmin), height / (ymax - ymin)) * self.zoom
        cx, cy = (xmin + xmax) / 2 + self.pan[0], (ymin + ymax) / 2 + self.pan[1]
        return Transform(scale, cx - width / (2 * scale), cy - height / (2 * scale), height)

    def zoom_at(self, pos: tuple[int, int], factor: float) -> None:
        """Zoom by ``factor`` keeping the world point under ``pos`` (pixels of the main area) fixed."""
        tf = self.transform
        if tf is None:
            return
        zoom = min(max(self.zoom * factor, ZOOM_LIMITS[0]), ZOOM_LIMITS[1])
        wx, wy = tf.inverse(*pos)
        w, h = self._area
        scale = tf.scale * zoom / self.zoom
        cx, cy = tf.x0 + w / (2 * tf.scale), tf.y0 + h / (2 * tf.scale)  # current centre
        nx, ny = wx - pos[0] / scale + w / (2 * scale), wy - (h - pos[1]) / scale + h / (2 * scale)
        self.pan = (self.pan[0] + nx - cx, self.pan[1] + ny - cy)
        self.zoom = zoom
        self.transform = Transform(scale, nx - w / (2 * scale), ny - h / (2 * scale), tf.height)

    def pan_by(self, dx: int, dy: int) -> None:
        """Move the view with a drag of (dx, dy) pixels (the world follows the mouse)."""
        tf = self.transform
        if tf is None:
            return
        self.pan = (self.pan[0] - dx / tf.scale, self.pan[1] + dy / tf.scale)
        self.transform = Transform(tf.scale, tf.x0 - dx / tf.scale, tf.y0 + dy / tf.scale, tf.height)

    def fit_view(self) -> None:
        """Back to the fitted view (no zoom, no pan)."""
        self.zoom, self.pan = 1.0, (0.0, 0.0)

    def copy_view(self, other: Renderer) -> None:
        """Take ``other``'s zoom, pan and shown robot (a new renderer for the next trial)."""
        self.zoom, self.pan, self._area = other.zoom, other.pan, other._area
        self.select_robot(other.robot)

    # -- drawing ---------------------------------------------------------------------------------
    def draw(self, surface: pygame.Surface) -> None:
        """Render the main area, panel and status line onto ``surface``."""
        self.observe()
        if self.font is None or self.small_font is None:
            pygame.font.init()
            self.font = pygame.font.Font(None, 18)
            self.small_font = pygame.font.Font(None, 16)
        w, h = surface.get_size()
        surface.fill(BACKGROUND)
        world_area = pygame.Rect(0, 0, max(w - PANEL_WIDTH, 50), max(h - STATUS_HEIGHT, 50))
        self._area = world_area.size
        self._draw_world(surface.subsurface(world_area))
        self.panel_rect = pygame.Rect(world_area.right, 0, w - world_area.right, world_area.height)
        self._draw_panel(surface, self.panel_rect)
        self._draw_status(surface, pygame.Rect(0, world_area.bottom, w, h - world_area.bottom))

    def _draw_world(self, surf: pygame.Surface) -> None:
        """Draw the main area of the shown trial onto ``surf`` (its own coordinates)."""
        raise NotImplementedError

    def _draw_panel(self, surf: pygame.Surface, rect: pygame.Rect) -> None:
        """Sensors (left column) and network (right column) of the shown agent over its motor plot."""
        ep, a = self.episode, self.agent
        font = self.small_font
        assert font is not None and self.font is not None
        pygame.draw.rect(surf, PANEL, rect)
        line = font.get_linesize()
        top = rect.top + 4
        if ep.n_robots > 1:
            text = f"robot {self.robot} of {ep.n_robots} (tab or click to choose)"
            surf.blit(self.font.render(text, True, robot_colour(self.robot)), (rect.left + 6, top))
            top += self.font.get_linesize() + 2
        bottom = rect.bottom - max(120, rect.height // 3) - 6  # the bars' room; the plot takes what they leave
        left_w = (rect.width - 22) * 2 // 5
        inner = ep.controller.trace(ep.state)
        rows = max(ep.n_inputs + 1, sum(arr.shape[1] + 1 for arr in inner.values()), 1)
        row_h = min(max((bottom - top - line) // rows, 9), 13)
        # sensors
        scale = input_scale(ep)
        surf.blit(font.render(f"inputs {scale}", True, TEXT), (rect.left + 6, top))
        y0 = top + line + 2
        max_rows = max((bottom - y0) // row_h, 0)
        self.sensor_bars = draw_bar_rows(surf, font, rect.left + 6, y0, left_w, row_h, input_labels(ep),
                                         ep.inputs[a], scale, SENSOR_BAR, max_rows=max_rows)
        used = y0 + min(ep.n_inputs, max_rows) * row_h
        # network
        x, y = rect.left + 16 + left_w, top
        self.unit_bars = {}
        for key, arr in inner.items():
            if y + line + row_h > bottom:
                break
            scale = quantity_scale(key)
            title = f"{key}: outputs {scale}" if key == "o" else f"{key} {scale}"
            surf.blit(font.render(title, True, TEXT), (x, y))
            y += line + 2
            values = arr[a]
            max_rows = max((bottom - y) // row_h, 0)
            self.unit_bars[key] = draw_bar_rows(surf, font, x, y, rect.right - 6 - x, row_h,
                                                unit_labels(ep.controller, key, values.shape[0]), values,
                                                scale, BAR_POS, BAR_NEG, max_rows=max_rows)
            y += min(values.shape[0], max_rows) * row_h + 4
        used = max(used, y)
        # the motor plot
        hist = np.array(self.history)[:, self.robot, :] if self.history else np.zeros((0, ep.n_outputs))
        title = "motors" if ep.n_robots == 1 else f"robot {self.robot} motors"
        area = pygame.Rect(rect.left + 4, used + 10, rect.width - 8, rect.bottom - used - 14)
        self.plot = draw_plot(surf, font, area, hist, output_labels(ep), self._seen * ep.dt, ep.dt, title)

    # -- the status line -------------------------------------------------------------------------
    def fitness_so_far(self) -> float:
        """The shown trial's fitness as if it ended now (:attr:`running_fitness`)."""
        ep = self.episode
        scores = ep.scores._replace(done=np.ones_like(ep.scores.done))
        return float(ep.task.fitness(scores, ep.conditions)[self.trial])

    def condition_text(self) -> str:
        """The shown trial's conditions, named (a noise seed left out)."""
        ep = self.episode
        row = ep.conditions[self.trial]
        return "  ".join(f"{name} {float(v):.3g}" for name, v in zip(ep.task.condition_names, row)
                         if name != "noise_seed")

    def status_text(self) -> str:
        """The first status line: trial, time, fitness, conditions."""
        ep, b = self.episode, self.trial
        done, failed = ep.scores.done[b], ep.scores.failed[b]
        if done or failed:
            fit = f"fitness {ep.task.fitness(ep.scores, ep.conditions)[b]:.4f}" + (" FAILED" if failed else "")
        elif self.running_fitness:
            fit = f"running, fitness so far {self.fitness_so_far():.4g}"
        else:
            fit = "running (fitness when the trial ends)"
        parts = [f"trial {b % ep.n_trials}/{ep.n_trials}", f"t {ep.time:.1f} s", fit]
        cond = self.condition_text()
        return "   ".join(parts + ([cond] if cond else []))

    def info_text(self) -> str:
        """The second status line: what the viewer or the recorder put into :attr:`info`."""
        return "   ".join(f"{k} {v}".strip() for k, v in self.info.items())

    def _draw_status(self, surf: pygame.Surface, rect: pygame.Rect) -> None:
        font = self.font
        assert font is not None
        pygame.draw.rect(surf, PANEL, rect)
        surf.blit(font.render(self.status_text(), True, TEXT), (rect.left + 6, rect.top + 4))
        y = rect.top + 4 + font.get_linesize()
        hint = font.render("h: help", True, TEXT)
        info = font.render(self.info_text(), True, DIM_TEXT)
        room = pygame.Rect(0, 0, max(rect.width - hint.get_width() - 26, 0), info.get_height())
        surf.blit(info, (rect.left + 6, y), area=room)
        surf.blit(hint, (rect.right - hint.get_width() - 8, y))
