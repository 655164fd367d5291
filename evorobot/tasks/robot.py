"""Arenas for differential-drive robots: walls, obstacles, start poses; the base of robot tasks.

A robot task's world is a rectangular arena centred on the origin (``arena_width`` ×
``arena_height``, centimetres), closed by four wall boxes of ``wall_thickness`` outside it, with
static obstacles listed in the world file::

    [[task.obstacles]]
    shape = "circle"     # or "box" (width × height, turned by angle_deg) or "polygon" (vertices)
    x = 20.0
    y = -15.0
    radius = 5.0

Walls and obstacles are static pymunk shapes: robots collide with them (and with each other),
and every sensor sees them. Trials last ``duration`` seconds. Start poses are drawn per trial from
the trial's rng, uniformly over the arena at least ``start_margin`` from walls and obstacles, with
a uniform heading (the usual randomisation of Floreano & Mondada 1994 and of evorobot). Each
trial's row of conditions also carries an integer seed for its sensor noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from evorobot._types import FloatArray
from evorobot.agent import AgentSpec
from evorobot.errors import ConfigError
from evorobot.sim.world import STATIC, World
from evorobot.spec import Points, setting
from evorobot.tasks.base import BodyTask

NOISE_SEEDS = 2**53
"""Noise seeds are drawn below this bound, so that a float64 conditions column holds them exactly."""


@dataclass(frozen=True)
class ObstacleSpec:
    """One ``[[task.obstacles]]`` entry: a static circle, box or convex polygon."""

    shape: str = setting("circle", choices=("circle", "box", "polygon"), doc="obstacle shape")
    x: float = setting(0.0, doc="centre x (arena frame, origin at the arena's centre)")
    y: float = setting(0.0, doc="centre y")
    radius: float = setting(5.0, gt=0, doc="circle radius")
    width: float = setting(10.0, gt=0, doc="box width")
    height: float = setting(10.0, gt=0, doc="box height")
    angle_deg: float = setting(0.0, doc="rotation of a box or polygon (degrees, counter-clockwise)")
    vertices: Points = setting(((-5.0, -5.0), (5.0, -5.0), (0.0, 5.0)), doc="polygon vertices about (x, y)")
    brightness: float = setting(1.0, ge=0, le=1, doc="grey level seen by cameras and drawn by the viewer")

    def outline(self) -> list[tuple[float, float]]:
        """Vertices of a box or polygon in the arena frame."""
        if self.shape == "box":
            w, h = self.width / 2, self.height / 2
            local = [(-w, -h), (w, -h), (w, h), (-w, h)]
        else:
            local = list(self.vertices)
        c, s = math.cos(math.radians(self.angle_deg)), math.sin(math.radians(self.angle_deg))
        return [(self.x + c * u - s * v, self.y + s * u + c * v) for u, v in local]

    def bounding_radius(self) -> float:
        if self.shape == "circle":
            return self.radius
        return max(math.hypot(px - self.x, py - self.y) for px, py in self.outline())


@dataclass(frozen=True)
class ArenaSpec:
    """Settings every robot task has (the arena, trial count and length, start poses)."""

    arena_width: float = setting(100.0, gt=0, doc="arena width (cm)")
    arena_height: float = setting(100.0, gt=0, doc="arena height (cm)")
    wall_thickness: float = setting(5.0, gt=0, doc="thickness of the four wall boxes outside the arena")
    wall_brightness: float = setting(1.0, ge=0, le=1, doc="grey level of the walls (cameras, viewer)")
    obstacles: tuple[ObstacleSpec, ...] = setting((), doc="static obstacles ([[task.obstacles]])")
    trials: int = setting(10, ge=1, doc="trials per evaluation, each with a fresh random set-up")
    duration: float = setting(40.0, gt=0, doc="trial length in seconds")
    start_margin: float = setting(8.0, ge=0, doc="minimum clearance of a start position from walls and obstacles")


def _convex(points: list[tuple[float, float]]) -> bool:
    signs = set()
    n = len(points)
    for k in range(n):
        (ax, ay), (bx, by), (cx, cy) = points[k], points[(k + 1) % n], points[(k + 2) % n]
        cross = (bx - ax) * (cy - by) - (by - ay) * (cx - bx)
        if cross != 0:
            signs.add(cross > 0)
    return len(signs) == 1


class RobotTask(BodyTask):
    """Base of the robot tasks: builds the arena and draws start poses (see the module docstring).

    A subclass provides ``conditions`` (calling :meth:`start_pose`), ``build_extra`` (lights),
    ``new_scores``, ``score`` and ``fitness``; its conditions' last column is the noise seed.
    """

    def __init__(self, spec: Any, agent: AgentSpec, dt: float, where: str) -> None:
        super().__init__(spec, agent, dt, where)
        if not agent.is_robot:
            raise ConfigError(f"{where}: needs a differential-drive robot (agent [motor] type = "
                              f'"differential"), got `{agent.motor.type}`')
        for i, ob in enumerate(spec.obstacles):
            if ob.shape == "polygon" and (len(ob.vertices) < 3 or not _convex(list(ob.vertices))):
                raise ConfigError(f"{where}: obstacles[{i}]: `vertices` must describe a convex polygon "
                                  f"of at least 3 corners, got {[list(v) for v in ob.vertices]}")
        self.radius = agent.body.radius
        half_w, half_h = spec.arena_width / 2, spec.arena_height / 2
        clear = self.radius + spec.start_margin
        if clear >= min(half_w, half_h):
            raise ConfigError(f"{where}: `start_margin` {spec.start_margin} leaves no room to start in a "
                              f"{spec.arena_width} x {spec.arena_height} arena")

    @property
    def n_trials(self) -> int:
        return self.spec.trials

    @property
    def max_steps(self) -> int:
        return max(1, round(self.spec.duration / self.dt))

    def start_pose(self, rng: np.random.Generator, clear: float | None = None) -> tuple[float, float, float]:
        """A uniform random pose clear of walls and obstacles by the robot's radius + ``start_margin``."""
        sp = self.spec
        clear = self.radius + sp.start_margin if clear is None else clear
        hx, hy = sp.arena_width / 2 - clear, sp.arena_height / 2 - clear
        for _ in range(10_000):
            x, y = rng.uniform(-hx, hx), rng.uniform(-hy, hy)
            if all(math.hypot(x - ob.x, y - ob.y) > ob.bounding_radius() + clear for ob in sp.obstacles):
                return float(x), float(y), float(rng.uniform(-math.pi, math.pi))
        raise ConfigError(f"task {self.name}: no free start position: the obstacles fill the arena")

    def noise_seeds(self, conditions: FloatArray) -> FloatArray:
        return conditions[:, -1]

    def agent_start(self, cond: FloatArray) -> tuple[float, float, float]:
        return (float(cond[0]), float(cond[1]), float(cond[2]))

    def build(self, world: World, space: int, cond: FloatArray) -> list[int]:
        sp = self.spec
        w, h, t = sp.arena_width / 2, sp.arena_height / 2, sp.wall_thickness
        for x0, y0, x1, y1 in ((-w - t, -h - t, w + t, -h), (-w - t, h, w + t, h + t),
                               (-w - t, -h, -w, h), (w, -h, w + t, h)):
            world.add_polygon(STATIC, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)], sp.wall_brightness)
        for ob in sp.obstacles:
            if ob.shape == "circle":
                world.add_circle(STATIC, ob.radius, ob.brightness, offset=(ob.x, ob.y))
            else:
                world.add_polygon(STATIC, ob.outline(), ob.brightness)
        return self.build_extra(world, space, cond)

    def build_extra(self, world: World, space: int, cond: FloatArray) -> list[int]:
        """Add what else a trial's world holds (lights, moving objects); return the rows of its
        object bodies. Nothing by default."""
        return []
