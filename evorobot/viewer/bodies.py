"""Drawing a body task's world (:class:`~evorobot.tasks.base.BodyTask`): agents, their trails,
objects, walls, lights, sensor rays and a camera's retina.

The world is drawn to scale by the frame's transform (:class:`evorobot.viewer.render.Transform`).
:func:`world_bounds` frames it: a robot arena by the actual extent of its shapes (segment end
points, polygon vertices, circles), so that the arena fills the main area; Beer's world by its
moving bodies, the agent's x limit and the eye's reach; a task whose arena dwarfs its agents
(``view_follow`` > 0) by a window of that half-width centred on the team, every frame.

Each robot of a team has its own colour (:data:`evorobot.viewer.render.ROBOT_COLOURS`), body and
trail alike; the trail is the robot's path since the trial's start, one position per tick recorded
in :meth:`BodyRenderer.observe`. The robot the panel shows is ringed when the team has several. A
robot's camera is drawn as its rays (grey as the pixel each reads) and, under the world, a strip of
the shown robot's retina (one grey cell per pixel, left to right) with its receptive fields as bars
beneath.
"""

from __future__ import annotations

import math

import numpy as np
import pygame

from evorobot.episode import Episode
from evorobot.sim.world import CIRCLE, POLYGON
from evorobot.viewer.render import (
    BACKGROUND,
    CAMERA_RAY,
    FIELD,
    GROUND,
    HIDDEN_OBJECT,
    HIGHLIGHT,
    LIGHT,
    LIGHT_GLOW,
    OBJECT,
    PANEL,
    PIXEL_LIMIT,
    RAY_OFF,
    RAY_ON,
    RETINA_HEIGHT,
    SENSOR_OFF,
    WALL,
    Renderer,
    _mix,
    robot_colour,
    trail_colour,
)

ARENA_MARGIN = 0.02
"""Space left around a robot arena, as a fraction of its larger side."""


def world_bounds(ep: Episode, b: int) -> tuple[float, float, float, float]:
    """Bounds (xmin, xmax, ymin, ymax) of trial ``b``'s world, local to the trial (see the module
    docstring)."""
    ox, oy = ep.origins[b]
    if ep.robots is not None:
        g = ep.geometry
        xs: list[float] = []
        ys: list[float] = []
        for s in range(g.world_start[b], g.world_start[b + 1]):
            x, y, a = ep.poses[g.body[s]]
            co, si = math.cos(a), math.sin(a)
            if g.kind[s] == CIRCLE:
                cx = x + co * g.centre[s, 0] - si * g.centre[s, 1] - ox
                cy = y + si * g.centre[s, 0] + co * g.centre[s, 1] - oy
                xs += [cx - g.radius[s], cx + g.radius[s]]
                ys += [cy - g.radius[s], cy + g.radius[s]]
            else:
                for vx, vy in g.verts[g.vert_start[s] : g.vert_start[s] + g.vert_count[s]]:
                    xs.append(x + co * vx - si * vy - ox)
                    ys.append(y + si * vx + co * vy - oy)
        pad = ARENA_MARGIN * max(max(xs) - min(xs), max(ys) - min(ys))
        return min(xs) - pad, max(xs) + pad, min(ys) - pad, max(ys) + pad
    rows = [*ep.team[b], *[o for o in ep.objects[b] if o >= 0]]
    xs = [ep.poses[r, 0] - ox for r in rows]
    ys = [ep.poses[r, 1] - oy for r in rows]
    reach = ep.agent.body.radius + ep.agent.eye.range
    limit = ep.task.x_limit
    xmin = min(min(xs) - reach / 2, -limit - ep.agent.body.radius if math.isfinite(limit) else math.inf)
    xmax = max(max(xs) + reach / 2, limit + ep.agent.body.radius if math.isfinite(limit) else -math.inf)
    ymin = min(ys) - 2 * ep.agent.body.radius
    ymax = max(max(ys) + 2 * ep.agent.body.radius, ymin + reach)
    return xmin, xmax, ymin, ymax


class BodyRenderer(Renderer):
    """Bodies in a Space (see the module docstring)."""

    def __init__(self, episode: Episode, trial: int = 0, info: dict[str, str] | None = None,
                 running_fitness: bool = True) -> None:
        super().__init__(episode, trial, info)
        self.running_fitness = running_fitness
        self.bounds = world_bounds(episode, trial)
        self.retina_cells: list[pygame.Rect] = []
        """Where the last :meth:`draw` put each retina pixel (screen coordinates)."""
        self.trails: list[list[tuple[float, float]]] = []
        """Each robot's positions (local to the trial): where it started, then one per tick."""
        self._start_trails()

    # -- trails ----------------------------------------------------------------------------------
    def _start_trails(self) -> None:
        self.trails = [[self._local(int(row))[:2]] for row in self.episode.team[self.trial]]

    def _record(self) -> None:
        super()._record()
        for trail, row in zip(self.trails, self.episode.team[self.trial]):
            trail.append(self._local(int(row))[:2])

    def reset_history(self) -> None:
        super().reset_history()
        self._start_trails()

    def _draw_trails(self, surf: pygame.Surface) -> None:
        tf = self.transform
        assert tf is not None
        for k, trail in enumerate(self.trails):
            if len(trail) < 2:
                continue
            p = np.asarray(trail)
            px = np.round((p[:, 0] - tf.x0) * tf.scale)
            py = np.round(tf.height - (p[:, 1] - tf.y0) * tf.scale)
            pts = np.nan_to_num(np.column_stack((px, py)), nan=-PIXEL_LIMIT).clip(-PIXEL_LIMIT, PIXEL_LIMIT)
            pts = pts.astype(np.int64).tolist()
            pygame.draw.lines(surf, trail_colour(k), False, pts, 2)

    # -- the view --------------------------------------------------------------------------------
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
        xmin, ymin = tf.inverse(0, surf.get_height())
        xmax, ymax = tf.inverse(surf.get_width(), 0)
        if (xmax - xmin) / step > 400:  # zoomed far out: a grid would be a grey sheet
            return
        for k in range(math.floor(xmin / step), math.ceil(xmax / step) + 1):
            pygame.draw.line(surf, PANEL, tf(k * step, ymin - step), tf(k * step, ymax + step), 1)
        for k in range(math.floor(ymin / step), math.ceil(ymax / step) + 1):
            pygame.draw.line(surf, PANEL, tf(xmin - step, k * step), tf(xmax + step, k * step), 1)

    # -- pieces ----------------------------------------------------------------------------------
    def _local(self, row: int) -> tuple[float, float, float]:
        ep, b = self.episode, self.trial
        x, y, a = ep.poses[row]
        return float(x - ep.origins[b, 0]), float(y - ep.origins[b, 1]), float(a)

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
        # lights, trails and rays first, so bodies are drawn over them
        for k in range(g.n_lights[b]):
            lx, ly, intensity = g.lights[b, k]
            centre = tf(lx - ep.origins[b, 0], ly - ep.origins[b, 1])
            for frac in (1.0, 0.6, 0.3):  # a glow whose size follows the intensity
                rad = tf.length(frac * 6.0 * intensity, 2)
                pygame.draw.circle(surf, _mix(LIGHT_GLOW, LIGHT, 1.0 - frac), centre, rad)
        self._draw_trails(surf)
        for agent in range(b * ep.n_robots, (b + 1) * ep.n_robots):
            self._draw_rays(surf, agent)
        for s in range(g.world_start[b], g.world_start[b + 1]):
            row = g.body[s]
            x, y, a = self._local(row)
            member = np.flatnonzero(ep.team[b] == row)
            is_agent = member.size > 0
            if is_agent:
                colour = robot_colour(int(member[0]))
            elif row >= len(ep.world.bodies):  # static: walls and obstacles, shaded by brightness
                colour = _mix(GROUND, WALL, float(g.brightness[s]))
            else:
                colour = OBJECT if g.visible[s] else HIDDEN_OBJECT
            co, si = math.cos(a), math.sin(a)
            if g.kind[s] == CIRCLE:  # its centre may sit off the body's origin (static circles)
                cx, cy = x + co * g.centre[s, 0] - si * g.centre[s, 1], y + si * g.centre[s, 0] + co * g.centre[s, 1]
                pygame.draw.circle(surf, colour, tf(cx, cy), tf.length(g.radius[s]))
            else:
                v = g.verts[g.vert_start[s] : g.vert_start[s] + g.vert_count[s]]
                pts = [tf(x + co * vx - si * vy, y + si * vx + co * vy) for vx, vy in v]
                if g.kind[s] == POLYGON:
                    pygame.draw.polygon(surf, colour, pts)
                else:
                    pygame.draw.line(surf, colour, pts[0], pts[1], 3)
            if is_agent:
                k = int(member[0])
                r0 = ep.agent.body.radius
                tip = (x + r0 * math.cos(a), y + r0 * math.sin(a))
                pygame.draw.line(surf, BACKGROUND, tf(x, y), tf(*tip), 2)
                self._draw_light_sensors(surf, b * ep.n_robots + k, x, y, a)
                if ep.n_robots > 1 and k == self.robot:
                    pygame.draw.circle(surf, HIGHLIGHT, tf(x, y), min(tf.length(r0, 0) + 4, PIXEL_LIMIT), 1)
        self._draw_retina(surf, self.agent)

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
            pygame.draw.circle(surf, _mix(SENSOR_OFF, LIGHT, value), tf(*p), tf.length(0.18 * r0, 2))
