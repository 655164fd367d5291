"""Drawing one trial of an :class:`~evorobot.episode.Episode` onto a pygame Surface.

A renderer is a pure observer: it reads the episode's arrays and never changes them. Every
renderer shares one frame (:class:`Renderer`): the main area, a side panel with every neuron's
state and output as bars over a scrolling trace of the outputs, and a status line (trial, time,
fitness, generation, seed). What the main area shows depends on the task
(:func:`evorobot.viewer.renderers.renderer_for` chooses): bodies in a Space here
(:class:`BodyRenderer`), a cart with its poles or the traces of a sequence task in
:mod:`evorobot.viewer.dynamics`.

:class:`BodyRenderer` draws the world to scale (one transform from world coordinates to pixels,
y up). A robot's camera is drawn as its rays (grey as the pixel each reads) and, under the world,
a strip of the first robot's retina (one grey cell per pixel, left to right) with its receptive
fields as bars beneath.

Call :meth:`Renderer.observe` after every tick (the viewer and the recorder do) so that the
scrolling traces hold every tick, not only the drawn ones.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import pygame

from evorobot.controllers.ctrnn import ContinuousNetwork
from evorobot.episode import Episode
from evorobot.sim.world import CIRCLE, POLYGON

BACKGROUND = (18, 20, 26)
GROUND = (60, 64, 74)
AGENT = (70, 160, 255)
OBJECT = (235, 235, 235)
HIDDEN_OBJECT = (90, 90, 90)
RAY_OFF = (90, 70, 40)
RAY_ON = (255, 200, 60)
LIGHT = (255, 240, 120)
LIGHT_GLOW = (90, 80, 30)
WALL = (150, 150, 160)
SENSOR_OFF = (60, 50, 20)
TEXT = (220, 220, 220)
PANEL = (30, 33, 42)
BAR_POS = (110, 200, 120)
BAR_NEG = (220, 100, 90)
CAMERA_RAY = (60, 70, 95)
FIELD = (255, 140, 60)
RETINA_HEIGHT = 12
PANEL_WIDTH = 220
STATUS_HEIGHT = 24


@dataclass
class Transform:
    """World (local to a trial) -> screen pixels, uniform scale, y pointing up."""

    scale: float
    x0: float
    y0: float
    height: int

    def __call__(self, x: float, y: float) -> tuple[int, int]:
        return (round((x - self.x0) * self.scale), round(self.height - (y - self.y0) * self.scale))

    def inverse(self, px: float, py: float) -> tuple[float, float]:
        return (px / self.scale + self.x0, (self.height - py) / self.scale + self.y0)


def world_bounds(ep: Episode, b: int) -> tuple[float, float, float, float]:
    """Bounds (xmin, xmax, ymin, ymax) of trial ``b``'s world.

    A robot arena is framed by its shapes (the walls enclose it); Beer's world by its moving
    bodies, the agent's x limit and the eye's reach.
    """
    ox, oy = ep.origins[b]
    if ep.robots is not None:
        g, w = ep.geometry, b
        xs, ys = [], []
        for s in range(g.world_start[w], g.world_start[w + 1]):
            x, y, a = ep.poses[g.body[s]]
            cx = x + math.cos(a) * g.centre[s, 0] - math.sin(a) * g.centre[s, 1] - ox
            cy = y + math.sin(a) * g.centre[s, 0] + math.cos(a) * g.centre[s, 1] - oy
            xs += [cx - g.radius[s], cx + g.radius[s]]
            ys += [cy - g.radius[s], cy + g.radius[s]]
        return min(xs), max(xs), min(ys), max(ys)
    rows = [*ep.team[b], *[o for o in ep.objects[b] if o >= 0]]
    xs = [ep.world.bodies[r].position.x - ox for r in rows]
    ys = [ep.world.bodies[r].position.y - oy for r in rows]
    reach = ep.agent.body.radius + ep.agent.eye.range
    limit = ep.task.x_limit
    xmin = min(min(xs) - reach / 2, -limit - ep.agent.body.radius if math.isfinite(limit) else math.inf)
    xmax = max(max(xs) + reach / 2, limit + ep.agent.body.radius if math.isfinite(limit) else -math.inf)
    ymin = min(ys) - 2 * ep.agent.body.radius
    ymax = max(max(ys) + 2 * ep.agent.body.radius, ymin + reach)
    return xmin, xmax, ymin, ymax


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    t = min(max(t, 0.0), 1.0)
    return (int(a[0] + (b[0] - a[0]) * t), int(a[1] + (b[1] - a[1]) * t), int(a[2] + (b[2] - a[2]) * t))


class Renderer:
    """The frame every renderer shares: the main area (drawn by the subclass's :meth:`_draw_world`),
    the network panel and the status line. Trial ``trial`` of ``episode`` is shown."""

    running_fitness = False
    """Whether the status line shows the fitness of a trial still running (meaningful when the
    task's accumulators are its fitness so far, as in pole balancing or a sequence)."""

    def __init__(self, episode: Episode, trial: int = 0, info: dict[str, str] | None = None) -> None:
        self.episode = episode
        self.trial = trial
        self.info = dict(info or {})
        self.history: deque[np.ndarray] = deque(maxlen=PANEL_WIDTH - 20)
        """The shown network's outputs, one row per tick (the panel's trace)."""
        self.font: pygame.font.Font | None = None
        self.transform: Transform | None = None
        """World -> pixels of the last :meth:`draw` (None when the main area is not a world)."""
        self._seen = episode.step_count

    def observe(self) -> None:
        """Record this tick's values into the scrolling traces; call after every tick. A second call
        at the same tick does nothing; a tick count that went back (a reset) clears the traces."""
        step = self.episode.step_count
        if step < self._seen:
            self.reset_history()
        if step == self._seen:
            return
        self._seen = step
        self._record()

    def _record(self) -> None:
        ep = self.episode
        self.history.append(ep.outputs[self.trial * ep.n_robots].copy())  # the first robot of a team

    def reset_history(self) -> None:
        self.history.clear()
        self._seen = self.episode.step_count

    def _fit(self, bounds: tuple[float, float, float, float], width: int, height: int) -> Transform:
        """The uniform scale that fits ``bounds`` (xmin, xmax, ymin, ymax) in width x height, centred."""
        xmin, xmax, ymin, ymax = bounds
        scale = min(width / (xmax - xmin), height / (ymax - ymin))
        x0 = xmin - (width / scale - (xmax - xmin)) / 2
        y0 = ymin - (height / scale - (ymax - ymin)) / 2
        return Transform(scale, x0, y0, height)

    def draw(self, surface: pygame.Surface) -> None:
        """Render the main area, panel and status line onto ``surface``."""
        self.observe()
        if self.font is None:
            pygame.font.init()
            self.font = pygame.font.Font(None, 18)
        w, h = surface.get_size()
        surface.fill(BACKGROUND)
        world_area = pygame.Rect(0, 0, max(w - PANEL_WIDTH, 50), max(h - STATUS_HEIGHT, 50))
        self._draw_world(surface.subsurface(world_area))
        self._draw_panel(surface, pygame.Rect(world_area.right, 0, w - world_area.right, world_area.height))
        self._draw_status(surface, pygame.Rect(0, world_area.bottom, w, h - world_area.bottom))

    def _draw_world(self, surf: pygame.Surface) -> None:
        """Draw the main area of the shown trial onto ``surf`` (its own coordinates)."""
        raise NotImplementedError

    def _draw_panel(self, surf: pygame.Surface, rect: pygame.Rect) -> None:
        ep, b = self.episode, self.trial
        pygame.draw.rect(surf, PANEL, rect)
        font = self.font
        assert font is not None
        inner = ep.controller.trace(ep.state)
        y = rect.top + 6
        labels = ep.controller.neurons if isinstance(ep.controller, ContinuousNetwork) else None
        for name, arr in inner.items():
            surf.blit(font.render(name, True, TEXT), (rect.left + 6, y))
            y += 14
            values = arr[b * ep.n_robots]  # the first robot of a team
            lo = 0.0 if name == "o" else -max(1.0, float(np.max(np.abs(values))))
            for i, v in enumerate(values):
                label = labels[i] if labels and i < len(labels) else str(i)
                surf.blit(font.render(label, True, TEXT), (rect.left + 6, y))
                bar = pygame.Rect(rect.left + 36, y + 2, rect.width - 46, 8)
                pygame.draw.rect(surf, BACKGROUND, bar)
                frac = (v - lo) / (1.0 - lo) if name == "o" else v / -lo
                if name == "o":
                    pygame.draw.rect(surf, BAR_POS, (bar.left, bar.top, round(bar.width * min(max(frac, 0), 1)), 8))
                else:
                    mid = bar.centerx
                    length = round(bar.width / 2 * min(abs(frac), 1.0))
                    pygame.draw.rect(surf, BAR_POS if v >= 0 else BAR_NEG,
                                     (mid if v >= 0 else mid - length, bar.top, length, 8))
                y += 12
            y += 6
        # scrolling trace of the motor outputs
        top, height = y + 4, max(rect.bottom - y - 10, 20)
        pygame.draw.rect(surf, BACKGROUND, (rect.left + 6, top, rect.width - 12, height))
        hist = np.array(self.history)
        colours = [AGENT, RAY_ON, BAR_POS, BAR_NEG]
        for k in range(hist.shape[1] if hist.size else 0):
            pts = [(rect.left + 6 + i, top + height - 1 - round(v * (height - 2))) for i, v in enumerate(hist[:, k])]
            if len(pts) > 1:
                pygame.draw.lines(surf, colours[k % len(colours)], False, pts, 1)

    def status_text(self) -> str:
        ep, b = self.episode, self.trial
        done, failed = ep.scores.done[b], ep.scores.failed[b]
        if done or failed:
            fit = f"fitness {ep.task.fitness(ep.scores, ep.conditions)[b]:.4f}" + (" FAILED" if failed else "")
        elif self.running_fitness:
            fit = f"running, fitness so far {ep.task.fitness(ep.scores, ep.conditions)[b]:.4g}"
        else:
            fit = "running"
        parts = [f"trial {b % ep.n_trials}/{ep.n_trials}", f"t {ep.time:7.2f}", fit]
        parts += [f"{k} {v}" for k, v in self.info.items()]
        return "   ".join(parts)

    def _draw_status(self, surf: pygame.Surface, rect: pygame.Rect) -> None:
        font = self.font
        assert font is not None
        pygame.draw.rect(surf, PANEL, rect)
        surf.blit(font.render(self.status_text(), True, TEXT), (rect.left + 6, rect.top + 5))


class BodyRenderer(Renderer):
    """Bodies in a Space (:class:`~evorobot.tasks.base.BodyTask`): agents, objects, walls, lights,
    sensor rays and the retina strip."""

    def __init__(self, episode: Episode, trial: int = 0, info: dict[str, str] | None = None) -> None:
        super().__init__(episode, trial, info)
        self.bounds = world_bounds(episode, trial)
        self.retina_cells: list[pygame.Rect] = []
        """Where the last :meth:`draw` put each retina pixel (screen coordinates)."""

    def _follow(self) -> None:
        """Centre a ``view_follow``-wide window on the team (tasks whose arena dwarfs the agents)."""
        ep, b, half = self.episode, self.trial, self.episode.task.view_follow
        cx = float(np.mean(ep.poses[ep.team[b], 0])) - ep.origins[b, 0]
        cy = float(np.mean(ep.poses[ep.team[b], 1])) - ep.origins[b, 1]
        self.bounds = (cx - half, cx + half, cy - half, cy + half)

    def _draw_grid(self, surf: pygame.Surface, step: float = 10.0) -> None:
        """Faint ground lines every ``step`` so that motion shows when the view follows the team."""
        tf = self.transform
        assert tf is not None
        xmin, xmax, ymin, ymax = self.bounds
        for k in range(math.floor(xmin / step), math.ceil(xmax / step) + 1):
            pygame.draw.line(surf, PANEL, tf(k * step, ymin - step), tf(k * step, ymax + step), 1)
        for k in range(math.floor(ymin / step), math.ceil(ymax / step) + 1):
            pygame.draw.line(surf, PANEL, tf(xmin - step, k * step), tf(xmax + step, k * step), 1)

    # -- pieces ----------------------------------------------------------------------------------
    def _local(self, row: int) -> tuple[float, float, float]:
        ep, b = self.episode, self.trial
        x, y, a = ep.poses[row]
        return x - ep.origins[b, 0], y - ep.origins[b, 1], a

    def _draw_world(self, surf: pygame.Surface) -> None:
        if self.episode.task.view_follow > 0:
            self._follow()
        self.transform = tf = self._fit(self.bounds, surf.get_width(), surf.get_height())
        ep, b = self.episode, self.trial
        g = ep.geometry
        if ep.task.view_follow > 0:
            self._draw_grid(surf)
        limit = ep.task.x_limit
        if math.isfinite(limit):
            y_ground = -ep.agent.body.radius
            pygame.draw.line(surf, GROUND, tf(-limit, y_ground), tf(limit, y_ground), 2)
        # lights and rays first, so bodies are drawn over them
        for k in range(g.n_lights[b]):
            lx, ly, intensity = g.lights[b, k]
            centre = tf(lx - ep.origins[b, 0], ly - ep.origins[b, 1])
            for frac in (1.0, 0.6, 0.3):  # a glow whose size follows the intensity
                rad = max(2, round(frac * 6.0 * intensity * tf.scale))
                pygame.draw.circle(surf, _mix(LIGHT_GLOW, LIGHT, 1.0 - frac), centre, rad)
        for agent in range(b * ep.n_robots, (b + 1) * ep.n_robots):
            self._draw_rays(surf, agent)
        for s in range(g.world_start[b], g.world_start[b + 1]):
            row = g.body[s]
            x, y, a = self._local(row)
            member = np.flatnonzero(ep.team[b] == row)
            is_agent = member.size > 0
            if is_agent:
                colour = AGENT
            elif row >= len(ep.world.bodies):  # static: walls and obstacles, shaded by brightness
                colour = _mix(GROUND, WALL, float(g.brightness[s]))
            else:
                colour = OBJECT if g.visible[s] else HIDDEN_OBJECT
            co, si = math.cos(a), math.sin(a)
            if g.kind[s] == CIRCLE:  # its centre may sit off the body's origin (static circles)
                cx, cy = x + co * g.centre[s, 0] - si * g.centre[s, 1], y + si * g.centre[s, 0] + co * g.centre[s, 1]
                pygame.draw.circle(surf, colour, tf(cx, cy), max(1, round(g.radius[s] * tf.scale)))
            else:
                v = g.verts[g.vert_start[s] : g.vert_start[s] + g.vert_count[s]]
                pts = [tf(x + co * vx - si * vy, y + si * vx + co * vy) for vx, vy in v]
                if g.kind[s] == POLYGON:
                    pygame.draw.polygon(surf, colour, pts)
                else:
                    pygame.draw.line(surf, colour, pts[0], pts[1], 3)
            if is_agent:
                r0 = ep.agent.body.radius
                tip = (x + r0 * math.cos(a), y + r0 * math.sin(a))
                pygame.draw.line(surf, BACKGROUND, tf(x, y), tf(*tip), 2)
                self._draw_light_sensors(surf, b * ep.n_robots + int(member[0]), x, y, a)
        self._draw_retina(surf, b * ep.n_robots)

    def _draw_retina(self, surf: pygame.Surface, agent: int) -> None:
        """The camera's pixels of ``agent`` as a strip of grey cells at the bottom left, its
        receptive fields as bars under the pixels they cover."""
        ep = self.episode
        self.retina_cells = []
        if ep.robots is None or ep.robots.n_pixels == 0 or ep.robots.pixels.shape[0] <= agent:
            return
        values = ep.robots.pixels[agent]
        k = values.shape[0]
        cell = max(2, min(10, (surf.get_width() - 12) // k))
        top = surf.get_height() - RETINA_HEIGHT - 12
        pygame.draw.rect(surf, WALL, (5, top - 1, cell * k + 2, RETINA_HEIGHT + 2), 1)
        for i, v in enumerate(values):
            grey = round(255 * min(max(float(v), 0.0), 1.0))
            rect = pygame.Rect(6 + i * cell, top, cell, RETINA_HEIGHT)
            pygame.draw.rect(surf, (grey, grey, grey), rect)
            self.retina_cells.append(rect)
        fields = ep.morphology
        if fields is not None:
            for f in range(fields.lo.shape[1]):
                lo, hi = int(fields.lo[agent, f]), int(fields.hi[agent, f])
                y = top + RETINA_HEIGHT + 3 + 3 * (f % 3)
                pygame.draw.line(surf, FIELD, (6 + lo * cell, y), (5 + hi * cell, y), 2)

    def _draw_rays(self, surf: pygame.Surface, agent: int) -> None:
        """The rays of ``agent`` (Beer's eye or IR), coloured by activation, ending at their hit."""
        ep, tf = self.episode, self.transform
        assert tf is not None
        ax, ay, heading = self._local(ep.agent_body[agent])
        r0 = ep.agent.body.radius
        if ep.robots is not None:
            angles, reach = ep.robots.ir_angles, ep.robots.ir_range
            values = np.repeat(ep.inputs[agent, : ep.robots.n_ir], ep.robots.ir_rays)  # each ray its sensor's
        else:
            angles, reach = ep.agent.eye.angles(), ep.agent.eye.range
            values = None
        for r, ang in enumerate(angles):
            u = (math.cos(heading + ang), math.sin(heading + ang))
            d = float(ep.distances[agent, r])
            d = min(max(d, 0.0), reach) if math.isfinite(d) else reach
            act = 1.0 - d / reach if values is None else float(values[r])
            p0 = (ax + r0 * u[0], ay + r0 * u[1])
            p1 = (p0[0] + d * u[0], p0[1] + d * u[1])
            pygame.draw.line(surf, _mix(RAY_OFF, RAY_ON, act), tf(*p0), tf(*p1), 1)
        if ep.robots is not None and ep.robots.n_pixels and ep.robots.pixels.shape[0] > agent:
            for r, ang in enumerate(ep.robots.cam_angles):  # camera rays, grey as their pixel
                u = (math.cos(heading + ang), math.sin(heading + ang))
                d = float(ep.robots.cam_dist[agent, r])
                p0 = (ax + r0 * u[0], ay + r0 * u[1])
                p1 = (p0[0] + d * u[0], p0[1] + d * u[1])
                pygame.draw.line(surf, _mix(CAMERA_RAY, OBJECT, float(ep.robots.pixels[agent, r])), tf(*p0), tf(*p1), 1)

    def _draw_light_sensors(self, surf: pygame.Surface, agent: int, x: float, y: float, heading: float) -> None:
        """A dot on the perimeter per light sensor, brighter as its reading rises."""
        ep, tf = self.episode, self.transform
        assert tf is not None
        if ep.robots is None:
            return
        r0, first = ep.agent.body.radius, ep.robots.n_ir
        for k, ang in enumerate(ep.robots.light_angles):
            p = (x + 0.8 * r0 * math.cos(heading + ang), y + 0.8 * r0 * math.sin(heading + ang))
            value = float(ep.inputs[agent, first + k])
            pygame.draw.circle(surf, _mix(SENSOR_OFF, LIGHT, value), tf(*p), max(2, round(0.18 * r0 * tf.scale)))
