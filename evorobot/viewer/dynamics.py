"""Drawing the tasks that bring their own dynamics (:class:`~evorobot.tasks.base.DynamicsTask`).

- :class:`CartRenderer`: a cart on its track between the limits ``+- x_limit``, with its poles,
  each a line of twice its half-length from the hinge on top of the cart, at its angle from the
  vertical (positive leans toward +x, drawn to the right). Where a task keeps these in its state
  is a :class:`CartLayout` (chosen in :mod:`evorobot.viewer.renderers`).
- :class:`TraceRenderer`: every other dynamics task (a sequence data set): the last
  :data:`TRACE_TICKS` ticks of the shown trial, the network's inputs in one lane, its outputs and
  the target (the entries of the task's ``trace(frame)`` whose name contains ``target``) in another,
  the newest tick at the right edge; each lane with a legend, its values at its ends and the
  simulated time (s) at its edges.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import pygame

from evorobot.episode import Episode
from evorobot.viewer.render import BAR_NEG, GROUND, PANEL, TEXT, Renderer

CART = (170, 175, 190)
POLES = ((235, 150, 60), (225, 95, 205))
"""Colour of pole 1, pole 2, ... (cycled)."""
HINGE = (250, 250, 250)
LIMIT = BAR_NEG
INPUT_COLOURS = ((90, 175, 250), (120, 225, 235), (160, 140, 255), (70, 120, 205))
OUTPUT_COLOURS = ((255, 150, 70), (255, 105, 160), (235, 215, 80), (205, 125, 55))
TARGET = (120, 235, 120)
AXIS_TEXT = (150, 150, 160)
TRACE_TICKS = 200
"""Ticks a trace lane shows."""
LEGEND_HEIGHT = 16


@dataclass(frozen=True)
class CartLayout:
    """Where a cart task keeps its cart and poles in its state ``s`` (W, k): the cart's position
    (m) in column 0, each pole's angle from the vertical (rad) in ``angle_columns``; the poles'
    half-lengths (m) and the track's limit ``x_limit`` (m)."""

    angle_columns: tuple[int, ...]
    half_lengths: tuple[float, ...]
    x_limit: float


class CartRenderer(Renderer):
    """A cart and its poles, to scale (one transform, y up, the track at y = 0)."""

    running_fitness = True

    def __init__(self, episode: Episode, layout: CartLayout, trial: int = 0,
                 info: dict[str, str] | None = None) -> None:
        super().__init__(episode, trial, info)
        self.layout = layout
        self.cart_width = 0.2 * layout.x_limit
        self.cart_height = 0.5 * self.cart_width
        margin = 0.1 * layout.x_limit
        half = layout.x_limit + self.cart_width / 2 + margin
        top = self.cart_height + 2 * max(layout.half_lengths)
        self.bounds = (-half, half, -margin, top + margin)

    def cart(self) -> tuple[float, list[float]]:
        """The shown trial's cart position and pole angles."""
        s = self.episode.plant.s[self.trial]
        return float(s[0]), [float(s[c]) for c in self.layout.angle_columns]

    def hinge(self, x: float) -> tuple[float, float]:
        """Where the poles are hinged, on top of the cart at ``x`` (world coordinates)."""
        return x, self.cart_height

    def pole_tip(self, x: float, k: int, theta: float) -> tuple[float, float]:
        """The free end of pole ``k`` at angle ``theta`` on the cart at ``x``."""
        hx, hy = self.hinge(x)
        length = 2 * self.layout.half_lengths[k]
        return hx + length * math.sin(theta), hy + length * math.cos(theta)

    def _draw_world(self, surf: pygame.Surface) -> None:
        self.transform = tf = self._fit(self.bounds, surf.get_width(), surf.get_height())
        lim = self.layout.x_limit
        pygame.draw.line(surf, GROUND, tf(self.bounds[0], 0.0), tf(self.bounds[1], 0.0), 2)
        for side in (-lim, lim):
            pygame.draw.line(surf, LIMIT, tf(side, 0.0), tf(side, self.cart_height), 2)
        x, angles = self.cart()
        if not all(math.isfinite(v) for v in (x, *angles)):
            return  # a blown-up plant: the status line says the trial failed
        corner = tf(x - self.cart_width / 2, self.cart_height)
        size = (tf.length(self.cart_width, 0), tf.length(self.cart_height, 0))
        pygame.draw.rect(surf, CART, pygame.Rect(corner, size))
        width = tf.length(0.05, 2)
        hinge = tf(*self.hinge(x))
        for k, theta in enumerate(angles):
            pygame.draw.line(surf, POLES[k % len(POLES)], hinge, tf(*self.pole_tip(x, k, theta)), width)
        pygame.draw.circle(surf, HINGE, hinge, max(2, width // 2))
        font = self.font
        assert font is not None
        text = f"x {x:+.3f} m   " + "   ".join(
            f"theta{k + 1} {math.degrees(a):+6.2f} deg" for k, a in enumerate(angles))
        surf.blit(font.render(text, True, TEXT), (6, 6))


@dataclass
class Lane:
    """One plot of scrolling traces: its pixel rectangle and the value range it spans."""

    rect: pygame.Rect
    lo: float
    hi: float

    def y(self, v: float) -> int:
        """Pixel row of value ``v`` (``hi`` at the top row, ``lo`` at the bottom row)."""
        frac = (v - self.lo) / (self.hi - self.lo)
        return self.rect.bottom - 1 - round(frac * (self.rect.height - 1))

    def x(self, age: int) -> int:
        """Pixel column of the sample ``age`` ticks before the newest (the newest at the right)."""
        return self.rect.right - 1 - round(age * (self.rect.width - 1) / (TRACE_TICKS - 1))


class TraceRenderer(Renderer):
    """Scrolling traces of a sequence task's inputs, outputs and target (see the module docstring)."""

    running_fitness = True

    def __init__(self, episode: Episode, trial: int = 0, info: dict[str, str] | None = None) -> None:
        super().__init__(episode, trial, info)
        task = episode.plant_task
        assert task is not None
        self.input_names, self.output_names = task.interface.inputs, task.interface.outputs
        self.target_names = [k for k in task.trace(episode.frame) if "target" in k]
        self.inputs: deque[np.ndarray] = deque(maxlen=TRACE_TICKS)
        self.outputs: deque[np.ndarray] = deque(maxlen=TRACE_TICKS)
        self.targets: deque[np.ndarray] = deque(maxlen=TRACE_TICKS)
        self.lanes: list[Lane] = []
        """The lanes of the last :meth:`draw` (inputs, then outputs and target), surface coordinates
        of the main area."""

    def _record(self) -> None:
        super()._record()
        ep, b = self.episode, self.trial
        task = ep.plant_task
        assert task is not None
        self.inputs.append(ep.inputs[b].copy())
        self.outputs.append(ep.outputs[b].copy())
        if self.target_names:
            trace = task.trace(ep.frame)
            self.targets.append(np.array([trace[k][b] for k in self.target_names], dtype=np.float64))

    def reset_history(self) -> None:
        super().reset_history()
        for hist in (self.inputs, self.outputs, self.targets):
            hist.clear()

    def _draw_world(self, surf: pygame.Surface) -> None:
        self.transform = None
        w, h = surf.get_size()
        half = h // 2
        ticks = len(self.outputs)  # a task with no inputs or targets to show has empty lanes of that length
        ins = np.array(self.inputs, dtype=np.float64).reshape(ticks, len(self.input_names))
        outs = np.array(self.outputs, dtype=np.float64).reshape(ticks, len(self.output_names))
        tgts = np.array(self.targets, dtype=np.float64).reshape(ticks, len(self.target_names))
        in_colours = [INPUT_COLOURS[k % len(INPUT_COLOURS)] for k in range(ins.shape[1])]
        out_colours = [OUTPUT_COLOURS[k % len(OUTPUT_COLOURS)] for k in range(outs.shape[1])]
        tgt_colours = [TARGET] * tgts.shape[1]
        top = self._lane(surf, pygame.Rect(0, 0, w, half), [ins], [*zip(self.input_names, in_colours)])
        bottom = self._lane(surf, pygame.Rect(0, half, w, h - half), [tgts, outs],
                            [*zip(self.target_names, tgt_colours), *zip(self.output_names, out_colours)])
        self.lanes = [top, bottom]
        # the target under the outputs, thicker, so that an output on its target still shows both
        for lane, hist, colours, width in ((top, ins, in_colours, 1), (bottom, tgts, tgt_colours, 3),
                                           (bottom, outs, out_colours, 1)):
            for k, colour in enumerate(colours):
                self._trace(surf, lane, hist[:, k], colour, width)

    def _lane(self, surf: pygame.Surface, area: pygame.Rect, data: list[np.ndarray],
              legend: list[tuple[str, tuple[int, int, int]]]) -> Lane:
        """A lane in ``area``: a legend line, then the plot spanning the data's range (at least [0, 1])."""
        font = self.font
        assert font is not None
        x = area.left + 6
        for name, colour in legend:
            label = font.render(name, True, colour)
            if x + label.get_width() > area.right - 6:
                break
            surf.blit(label, (x, area.top + 3))
            x += label.get_width() + 12
        values = np.concatenate([d.ravel() for d in data])
        values = values[np.isfinite(values)]
        lo = min(0.0, float(values.min())) if values.size else 0.0
        hi = max(1.0, float(values.max())) if values.size else 1.0
        pad = 0.05 * (hi - lo)
        plot = pygame.Rect(area.left + 6, area.top + LEGEND_HEIGHT + 2, area.width - 12,
                           max(area.height - LEGEND_HEIGHT - 8, 10))
        pygame.draw.rect(surf, PANEL, plot, 1)
        lane = Lane(plot, lo - pad, hi + pad)
        if lo < 0.0 < hi:
            pygame.draw.line(surf, PANEL, (plot.left, lane.y(0.0)), (plot.right - 1, lane.y(0.0)), 1)
        # axes: the values at the lane's ends, the simulated time at its left and right edges
        for v in sorted({lo, 0.0, hi} if lo < 0.0 < hi else {lo, hi}):
            label = font.render(f"{v:.3g}", True, AXIS_TEXT)
            y = min(max(lane.y(v) - label.get_height() // 2, plot.top + 1), plot.bottom - label.get_height() - 1)
            surf.blit(label, (plot.left + 3, y))
        ep = self.episode
        for age, align in ((TRACE_TICKS - 1, 0), (0, 1)):
            t = ep.time - age * ep.dt
            if t < 0:
                continue
            label = font.render(f"{t:.4g} s", True, AXIS_TEXT)
            x = lane.x(age) + 40 if align == 0 else lane.x(age) - 3 - label.get_width()  # clear of the values
            surf.blit(label, (x, plot.bottom - label.get_height() - 1))
        return lane

    def _trace(self, surf: pygame.Surface, lane: Lane, values: np.ndarray, colour: tuple[int, int, int],
               width: int) -> None:
        """One trace, newest value at the right; non-finite values leave a gap."""
        n = values.shape[0]
        run: list[tuple[int, int]] = []
        for i, v in enumerate(values):
            if math.isfinite(v):
                run.append((lane.x(n - 1 - i), lane.y(float(v))))
                continue
            self._polyline(surf, colour, run, width)
            run = []
        self._polyline(surf, colour, run, width)

    @staticmethod
    def _polyline(surf: pygame.Surface, colour: tuple[int, int, int], pts: list[tuple[int, int]],
                  width: int) -> None:
        if len(pts) > 1:
            pygame.draw.lines(surf, colour, False, pts, width)
        elif pts:
            pygame.draw.circle(surf, colour, pts[0], max(1, width // 2 + 1))

