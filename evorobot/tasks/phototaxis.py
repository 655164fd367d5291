"""Phototaxis: drive a differential-drive robot to a point light in a walled arena.

Description
    A Khepera-like robot in a 1 m square arena must reach a light placed at random (the classic
    first task of evolutionary robotics: e.g. Floreano & Mondada 1996; Harvey, Husbands & Cliff
    1994 evolved the visual version; Nolfi & Floreano 2000, ch. 4-5).
Sensors
    The agent file's ``[light]`` sensors (and ``[ir]``, ``[bumper]`` if present); the light is
    hidden behind obstacles.
Motors
    Differential drive (``[motor] type = "differential"``).
Fitness
    Per tick, the closeness ``c = clip((d0 - d) / (d0 - reach), 0, 1)`` where ``d`` is the distance
    from the robot's centre to the light after the tick and ``d0`` its value at the start pose
    (before the first tick): 0 at the start distance or farther, 1 within ``reach`` of the light.
    The trial's fitness is the mean of ``c`` over the trial's ticks, so it rewards both closing in
    and closing in early, and staying there; a robot already within ``reach`` after every tick
    scores exactly 1.
    Diagnostic ``reached``: whether the robot's centre came within ``reach`` (10 cm) of the light.
Trials
    ``trials`` (10) per evaluation, fresh each generation: uniform light position at least
    ``light_margin`` from the walls and from every obstacle's bounding circle (a light is never
    inside an obstacle), uniform start pose at least ``min_start_distance`` from the light
    (:mod:`evorobot.tasks.robot`).
Termination
    After ``duration`` seconds (40 s; the robot crosses the arena's diagonal in ~10 s).
References
    Floreano, D. & Mondada, F. (1996). Evolution of homing navigation in a real mobile robot.
    IEEE Trans. SMC-B 26(3). Nolfi, S. & Floreano, D. (2000). Evolutionary Robotics. MIT Press.
    Adapted: the papers score sensor readings or time at the goal; the closeness average used here
    is a smooth shaping of "reach the light" whose value 1 means reached at once.
Version
    2 (version 1 took ``d0`` after the first tick, so the first tick always scored 0, and could
    place the light inside an obstacle).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from evorobot._types import FloatArray, IntArray
from evorobot.agent import AgentSpec
from evorobot.errors import ConfigError
from evorobot.sim.world import World
from evorobot.spec import setting
from evorobot.tasks.base import Frame, Scores
from evorobot.tasks.robot import NOISE_SEEDS, ArenaSpec, RobotTask


@dataclass(frozen=True)
class PhototaxisSpec(ArenaSpec):
    """Settings of the phototaxis task."""

    light_intensity: float = setting(1.0, gt=0, doc="intensity of the point light")
    light_margin: float = setting(15.0, ge=0, doc="minimum distance of the light from the walls")
    min_start_distance: float = setting(40.0, ge=0, doc="minimum start distance from the light")
    reach: float = setting(10.0, gt=0, doc="distance from the light that counts as reached")


@njit(cache=True)
def _closeness(poses: FloatArray, agent_body: IntArray, origins: FloatArray, conditions: FloatArray,
               reach: float, step: int, last: int, done: np.ndarray, failed: np.ndarray, values: FloatArray) -> None:
    """values[b] = (sum of closeness, start distance, minimum distance); the start pose is
    ``conditions[b, 0:2]`` and the light ``conditions[b, 3:5]`` in the agent's world."""
    for b in range(agent_body.shape[0]):
        if done[b] or failed[b]:
            continue
        a = agent_body[b]
        d = math.hypot(poses[a, 0] - origins[b, 0] - conditions[b, 3], poses[a, 1] - origins[b, 1] - conditions[b, 4])
        if not math.isfinite(d):
            failed[b] = True
            continue
        if step == 0:  # d0: the distance at the start pose, before the first tick
            d0 = math.hypot(conditions[b, 0] - conditions[b, 3], conditions[b, 1] - conditions[b, 4])
            values[b, 1] = d0
            values[b, 2] = min(d0, d)
        c = 1.0 if d <= reach else (values[b, 1] - d) / max(values[b, 1] - reach, 1e-9)
        values[b, 0] += min(max(c, 0.0), 1.0)
        values[b, 2] = min(values[b, 2], d)
        if step + 1 >= last:
            done[b] = True


class Phototaxis(RobotTask):
    """Reach a randomly placed point light (see the module docstring)."""

    name = "phototaxis"
    Spec = PhototaxisSpec
    version = 2
    condition_names = ("x", "y", "heading", "light_x", "light_y", "noise_seed")

    def __init__(self, spec: Any, agent: AgentSpec, dt: float, where: str) -> None:
        super().__init__(spec, agent, dt, where)
        if agent.light is None:
            raise ConfigError(f"{where}: phototaxis needs light sensors (an [light] table in the agent)")
        free = min(spec.arena_width, spec.arena_height) / 2 - spec.light_margin
        if free <= 0:
            raise ConfigError(f"{where}: `light_margin` {spec.light_margin} leaves no room for the light")
        if spec.min_start_distance >= math.hypot(spec.arena_width, spec.arena_height) / 2:
            raise ConfigError(f"{where}: `min_start_distance` {spec.min_start_distance} is too large for the arena")

    def conditions(self, rng: np.random.Generator) -> FloatArray:
        sp = self.spec
        rows = []
        for _ in range(sp.trials):
            lx, ly = self.light_position(rng)
            for _ in range(10_000):
                x, y, heading = self.start_pose(rng)
                if math.hypot(x - lx, y - ly) >= sp.min_start_distance:
                    break
            rows.append((x, y, heading, lx, ly, float(rng.integers(NOISE_SEEDS))))
        return np.array(rows, dtype=np.float64)

    def light_position(self, rng: np.random.Generator) -> tuple[float, float]:
        """A uniform light position ``light_margin`` clear of the walls and of every obstacle's
        bounding circle."""
        sp = self.spec
        hx, hy = sp.arena_width / 2 - sp.light_margin, sp.arena_height / 2 - sp.light_margin
        for _ in range(10_000):
            lx, ly = rng.uniform(-hx, hx), rng.uniform(-hy, hy)
            if all(math.hypot(lx - ob.x, ly - ob.y) > ob.bounding_radius() + sp.light_margin for ob in sp.obstacles):
                return float(lx), float(ly)
        raise ConfigError(f"task {self.name}: no room for the light: the obstacles fill the arena")

    def build_extra(self, world: World, space: int, cond: FloatArray) -> list[int]:
        world.add_light((float(cond[3]), float(cond[4])), self.spec.light_intensity)
        return []

    def new_scores(self, n: int) -> Scores:
        return Scores(np.zeros(n, np.bool_), np.zeros(n, np.bool_), np.zeros((n, 3)))

    def score(self, frame: Frame, step: int, scores: Scores) -> None:
        _closeness(frame.poses, frame.agent_body, frame.origins, frame.conditions, self.spec.reach, step,
                   self.max_steps, scores.done, scores.failed, scores.values)

    def fitness(self, scores: Scores, conditions: FloatArray) -> FloatArray:
        fit = scores.values[:, 0] / self.max_steps
        return np.where(scores.failed | ~scores.done, self.worst, fit)

    def diagnostics(self, scores: Scores, conditions: FloatArray) -> dict[str, FloatArray]:
        return {"reached": (scores.values[:, 2] <= self.spec.reach).astype(np.float64),
                "closest": scores.values[:, 2]}
