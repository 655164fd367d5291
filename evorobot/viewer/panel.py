"""The viewer's side panel: bars on fixed scales and a scrolling plot with a legend and axes.

Every renderer (:class:`evorobot.viewer.render.Renderer`) shows the agent it follows in a panel of
two columns over a plot: the agent's sensor inputs (one bar each, named by
:func:`evorobot.labels.input_labels`), its network's traced quantities (one bar per unit, named by
:func:`evorobot.labels.unit_labels`), and the last :data:`PLOT_TICKS` ticks of its motor commands.

The scales are fixed, so that a bar means the same in every frame (a scale that followed the
largest value would make a quiet network look as busy as a loud one):

- a robot's sensor inputs (IR, light, bumpers, pixels, fields): ``[0, 1]``; Beer's eye rays
  ``[0, gain]`` (a ray reads ``gain * (range - d) / range``); a dynamics task's inputs (cart position, angles, a sequence's values): ``[-1, 1]``;
- neuron outputs ``o``: ``[0, 1]``; every other quantity (a CTRNN's state ``y``, an LSTM's cell
  ``c`` ...): ``[-10, 10]``.

A value outside its scale fills the bar to that end and gets a :data:`CLIPPED` mark there; every
bar prints its value, so nothing is hidden by the clipping. The plot's y axis spans ``[0, 1]``
(the range of a CTRNN's motor neurons; a command outside it is drawn on the edge), its x axis is
the simulated time in seconds, the newest tick on the right edge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pygame

Colour = tuple[int, int, int]

TEXT = (220, 220, 220)
DIM_TEXT = (150, 150, 160)
TRACK = (18, 20, 26)
AXIS = (95, 100, 115)
GRID = (45, 49, 60)
BAR_POS = (110, 200, 120)
BAR_NEG = (220, 100, 90)
SENSOR_BAR = (90, 175, 250)
CLIPPED = (255, 60, 220)
"""The mark at the end of a bar whose value lies outside the bar's scale."""
PLOT_COLOURS: tuple[Colour, ...] = ((255, 150, 70), (120, 225, 235), (235, 215, 80), (200, 130, 255),
                                    (255, 105, 160), (150, 235, 120))
"""Line colours of the plot, motor 0 first (cycled)."""
PLOT_TICKS = 300
"""Ticks the motor plot shows (30 s at dt = 0.1 s)."""
BAR_HEIGHT = 8


@dataclass(frozen=True)
class Scale:
    """The fixed range ``[lo, hi]`` a bar spans (a bipolar scale grows from 0)."""

    lo: float
    hi: float

    def frac(self, v: float) -> float:
        """Where ``v`` lies along the bar, 0 at ``lo`` and 1 at ``hi`` (not clipped)."""
        return (v - self.lo) / (self.hi - self.lo)

    def __str__(self) -> str:
        return f"[{self.lo:g}, {self.hi:g}]"


SENSOR_SCALE = Scale(0.0, 1.0)
PLANT_INPUT_SCALE = Scale(-1.0, 1.0)
OUTPUT_SCALE = Scale(0.0, 1.0)
STATE_SCALE = Scale(-10.0, 10.0)


def quantity_scale(key: str) -> Scale:
    """The fixed scale of a traced network quantity: outputs ``o`` in [0, 1], anything else in [-10, 10]."""
    return OUTPUT_SCALE if key == "o" else STATE_SCALE


def draw_bar(surf: pygame.Surface, track: pygame.Rect, value: float, scale: Scale,
             colour: Colour, negative: Colour | None = None) -> None:
    """One bar in ``track``: from the scale's zero (or its low end) to ``value``; clipped values
    fill to the end and get a :data:`CLIPPED` mark; a non-finite value draws nothing."""
    pygame.draw.rect(surf, TRACK, track)
    if not math.isfinite(value):
        return
    zero = min(max(scale.frac(0.0), 0.0), 1.0)
    frac = scale.frac(value)
    end = min(max(frac, 0.0), 1.0)
    x0 = track.left + round(zero * track.width)
    x1 = track.left + round(end * track.width)
    fill = colour if value >= 0 or negative is None else negative
    if x1 != x0:
        pygame.draw.rect(surf, fill, (min(x0, x1), track.top, abs(x1 - x0), track.height))
    if frac < 0.0:
        pygame.draw.rect(surf, CLIPPED, (track.left, track.top - 1, 2, track.height + 2))
    elif frac > 1.0:
        pygame.draw.rect(surf, CLIPPED, (track.right - 2, track.top - 1, 2, track.height + 2))


def draw_bar_rows(surf: pygame.Surface, font: pygame.font.Font, left: int, top: int, width: int,
                  row_height: int, labels: list[str], values: np.ndarray, scale: Scale, colour: Colour,
                  negative: Colour | None = None, max_rows: int | None = None) -> list[pygame.Rect]:
    """Rows of ``label  bar  value`` from (left, top); return each drawn bar's track.

    With ``max_rows`` fewer than the values, the last row says how many were left out."""
    n = len(values) if max_rows is None or max_rows >= len(values) else max(max_rows - 1, 0)
    label_w = min(max((font.size(s)[0] for s in labels[:n]), default=0) + 4, width // 3)
    value_w = font.size("+00.00")[0] + 2
    tracks = []
    for i in range(n):
        y = top + i * row_height
        v = float(values[i])
        surf.blit(font.render(labels[i], True, TEXT), (left, y))
        track = pygame.Rect(left + label_w, y + (row_height - BAR_HEIGHT) // 2, width - label_w - value_w,
                            BAR_HEIGHT)
        draw_bar(surf, track, v, scale, colour, negative)
        text = f"{v:+.2f}" if math.isfinite(v) and abs(v) < 100 else f"{v:+.0e}"
        surf.blit(font.render(text, True, DIM_TEXT), (track.right + 3, y))
        tracks.append(track)
    if n < len(values):
        surf.blit(font.render(f"... {len(values) - n} more", True, DIM_TEXT), (left, top + n * row_height))
    return tracks


def nice_step(span: float, max_ticks: int) -> float:
    """The smallest of 1, 2, 5 x 10^k that cuts ``span`` into at most ``max_ticks`` parts."""
    if span <= 0 or max_ticks < 1:
        return max(span, 1.0)
    raw = span / max_ticks
    base = 10.0 ** math.floor(math.log10(raw))
    for m in (1.0, 2.0, 5.0, 10.0):
        if m * base >= raw:
            return m * base
    return 10.0 * base


@dataclass
class Plot:
    """Where the last :func:`draw_plot` drew: its data rectangle and the time it ends at."""

    rect: pygame.Rect
    t_end: float
    dt: float

    def x(self, t: float) -> int:
        """Pixel column of simulated time ``t`` (``t_end`` at the right edge)."""
        ticks = (self.t_end - t) / self.dt
        return self.rect.right - 1 - round(ticks * (self.rect.width - 1) / (PLOT_TICKS - 1))

    def y(self, v: float) -> int:
        """Pixel row of value ``v`` (clipped to [0, 1]; 1 at the top)."""
        return self.rect.bottom - 1 - round(min(max(v, 0.0), 1.0) * (self.rect.height - 1))


def draw_plot(surf: pygame.Surface, font: pygame.font.Font, area: pygame.Rect, history: np.ndarray,
              names: list[str], t_end: float, dt: float, title: str = "") -> Plot:
    """The motor plot in ``area``: a legend, a y axis 0..1, a time axis in simulated seconds.

    ``history`` is (T, n), one row per tick, its last row at time ``t_end``; tick ``i`` of T lies
    ``(T - 1 - i) * dt`` seconds before it."""
    line_h = font.get_linesize()
    x = area.left + 4
    if title:
        label = font.render(title, True, TEXT)
        surf.blit(label, (x, area.top))
        x += label.get_width() + 8
    for k, name in enumerate(names):  # the legend
        label = font.render(name, True, PLOT_COLOURS[k % len(PLOT_COLOURS)])
        if x + label.get_width() > area.right - 4:
            break
        surf.blit(label, (x, area.top))
        x += label.get_width() + 8
    y_axis_w = font.size("0.5")[0] + 6
    rect = pygame.Rect(area.left + y_axis_w, area.top + line_h + 4, area.width - y_axis_w - 6,
                       max(area.height - 2 * line_h - 8, 10))
    plot = Plot(rect, t_end, dt)
    pygame.draw.rect(surf, TRACK, rect)
    for v in (0.0, 0.5, 1.0):  # y axis: ticks, labels, grid
        y = plot.y(v)
        if v == 0.5:
            pygame.draw.line(surf, GRID, (rect.left, y), (rect.right - 1, y), 1)
        pygame.draw.line(surf, AXIS, (rect.left - 3, y), (rect.left - 1, y), 1)
        label = font.render(f"{v:g}", True, DIM_TEXT)
        surf.blit(label, (rect.left - 4 - label.get_width(), y - label.get_height() // 2))
    span = (PLOT_TICKS - 1) * dt  # x axis: nice ticks in simulated seconds
    step = nice_step(span, max(rect.width // 60, 1))
    t0 = t_end - span
    k = math.ceil(max(t0, 0.0) / step - 1e-9)  # no time before the trial's start
    while k * step <= t_end + 1e-9:
        t = k * step
        xt = plot.x(t)
        pygame.draw.line(surf, AXIS, (xt, rect.bottom), (xt, rect.bottom + 3), 1)
        label = font.render(f"{t:g} s", True, DIM_TEXT)
        lx = min(max(xt - label.get_width() // 2, rect.left), rect.right - label.get_width())
        surf.blit(label, (lx, rect.bottom + 4))
        k += 1
    pygame.draw.line(surf, AXIS, (rect.left, rect.top), (rect.left, rect.bottom), 1)
    pygame.draw.line(surf, AXIS, (rect.left, rect.bottom), (rect.right - 1, rect.bottom), 1)
    n_ticks = history.shape[0]
    for k in range(history.shape[1] if n_ticks else 0):
        pts = [(plot.x(t_end - (n_ticks - 1 - i) * dt), plot.y(float(v)))
               for i, v in enumerate(history[:, k]) if math.isfinite(v)]
        if len(pts) > 1:
            pygame.draw.lines(surf, PLOT_COLOURS[k % len(PLOT_COLOURS)], False, pts, 1)
    return plot
