"""Visual discrimination: approach a white target seen by a camera, avoid a white distractor.

Description
    The incremental sequence of Harvey, Husbands & Cliff (1994): a robot with a camera and evolved
    receptive fields approaches a large white target, then a small one, then a moving one, and
    finally a white triangle while avoiding a white rectangle. One task; the stage is the world
    file's settings (``worlds/vision_*.toml``): the target's shape and size, its speed, and
    whether a distractor is present. The arena's walls are dark (``wall_brightness``, 0: as
    black as the background), so what the camera sees is the objects.
Sensors
    The agent's ``[camera]`` (:class:`evorobot.agent.CameraSpec`: brightness x Lambertian shading
    per pixel, through evolved receptive fields) and any ``[ir]``/``[bumper]`` it has.
Motors
    Differential drive.
Fitness
    Harvey's ``beta (D1 - d1) - sigma (D2 - d2)`` (D: start distance, d: current distance from the
    robot's centre to the target's (1) and distractor's (2) centres), normalised and averaged over
    the trial: per tick ``beta c1 - sigma c2`` with the closeness
    ``c = clip((D - d) / (D - reach), 0, 1)`` (0 at the start distance or farther, 1 when touching:
    ``reach`` is the object's bounding radius plus the robot's radius plus 1 cm); the trial's
    fitness is its mean over the ticks, in ``[-sigma, beta]``. Without a distractor only the
    target term remains (the earlier stages). Diagnostics: ``reached`` (came within reach of the
    target) and, with a distractor, ``nearer_triangle`` (``nearer_target`` for a box target):
    whether the trial ends with the robot nearer the target than the distractor.
Trials
    ``trials`` per evaluation, fresh each generation: target (and distractor) at uniform positions
    at least ``object_margin`` from the walls and ``min_separation`` apart, each turned to face the
    robot's start position within ``jitter_deg``; the robot at a uniform position at least
    ``min_start_distance`` from each object, with a uniform heading or (``start_heading =
    "objects"``) one towards the objects' midpoint within ``heading_jitter_deg``. A moving target (``speed`` >
    0) is a kinematic body going back and forth at ``speed`` along a random direction, ``travel``
    cm end to end around its start (reversed in :meth:`steer_objects`, one numba call per tick).
Termination
    After ``duration`` seconds.
References
    Harvey, I., Husbands, P. & Cliff, D. (1994). Seeing the light: artificial evolution, real
    vision. From Animals to Animats 3 (SAB94), MIT Press, 392-401. Adapted: a 2-D world, so the
    camera is a 1-D retina and the triangle a triangular prism whose two slanted faces are shaded
    differently from the rectangle's flat face (Lambertian shading instead of a 2-D image); the
    gantry's targets on the arena wall become free-standing objects turned towards the start;
    the fitness terms are normalised by the start distances and averaged over the trial (the
    paper sums the raw distance differences at evaluation points) so that trials of any geometry
    weigh alike.
Version
    1.
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
class VisualDiscriminationSpec(ArenaSpec):
    """Settings of one stage of the visual discrimination task."""

    target_shape: str = setting("box", choices=("box", "triangle"), doc="the target's outline")
    target_width: float = setting(20.0, gt=0, doc="box width / triangle base, across the line of sight (cm)")
    target_depth: float = setting(6.0, gt=0, doc="box depth / triangle height, along the line of sight (cm)")
    speed: float = setting(0.0, ge=0, doc="target speed (cm/s); 0: fixed")
    travel: float = setting(30.0, ge=0, doc="a moving target's path length, end to end (cm)")
    distractor: bool = setting(False, doc="add a white rectangle to avoid")
    distractor_width: float = setting(20.0, gt=0, doc="the distractor's width (cm)")
    distractor_depth: float = setting(6.0, gt=0, doc="the distractor's depth (cm)")
    brightness: float = setting(1.0, ge=0, le=1, doc="grey level of target and distractor")
    wall_brightness: float = setting(0.0, ge=0, le=1, doc="grey level of the arena's walls")
    object_margin: float = setting(15.0, ge=0, doc="minimum distance of an object's centre from the walls")
    min_separation: float = setting(35.0, ge=0, doc="minimum distance between target and distractor")
    min_start_distance: float = setting(35.0, ge=0, doc="minimum start distance from each object")
    jitter_deg: float = setting(20.0, ge=0, le=180, doc="objects face the start within this angle")
    start_heading: str = setting("uniform", choices=("uniform", "objects"),
                                 doc="the robot's start heading: uniform, or towards the objects' midpoint")
    heading_jitter_deg: float = setting(15.0, ge=0, le=180, doc="with start_heading = objects: within this angle")
    beta: float = setting(1.0, ge=0, doc="weight of closing on the target")
    sigma: float = setting(1.0, ge=0, doc="weight of closing on the distractor (a penalty)")


def _outline(shape: str, width: float, depth: float) -> list[tuple[float, float]]:
    """Local outline facing +x (towards whoever it faces), centred on its bounding box."""
    w, d = width / 2, depth / 2
    if shape == "triangle":  # apex towards the viewer: two slanted faces
        return [(-d, -w), (d, 0.0), (-d, w)]
    return [(-d, -w), (d, -w), (d, w), (-d, w)]


@njit(cache=True)
def _score(poses: FloatArray, agent_body: IntArray, objects: IntArray, reach: FloatArray, beta: float,
           sigma: float, step: int, last: int, done: np.ndarray, failed: np.ndarray, values: FloatArray) -> None:
    """values[w] = (sum of beta c1 - sigma c2, D1, D2, d1, d2, min d1) (see the module docstring)."""
    n_obj = 2 if objects.shape[1] > 1 and objects[0, 1] >= 0 else 1
    for w in range(agent_body.shape[0]):
        if done[w] or failed[w]:
            continue
        a = agent_body[w]
        total = 0.0
        for k in range(n_obj):
            o = objects[w, k]
            d = math.hypot(poses[a, 0] - poses[o, 0], poses[a, 1] - poses[o, 1])
            if not math.isfinite(d):
                failed[w] = True
            if step == 0:
                values[w, 1 + k] = d
                if k == 0:
                    values[w, 5] = d
            c = (values[w, 1 + k] - d) / max(values[w, 1 + k] - reach[k], 1e-9)
            c = min(max(c, 0.0), 1.0)
            total += beta * c if k == 0 else -sigma * c
            values[w, 3 + k] = d
        values[w, 5] = min(values[w, 5], values[w, 3])
        values[w, 0] += total
        if step + 1 >= last:
            done[w] = True


@njit(cache=True)
def _steer(poses: FloatArray, objects: IntArray, origins: FloatArray, conditions: FloatArray, speed: float,
           half: float, velocities: FloatArray) -> None:
    """Reverse each moving target at the ends of its path (centred on its start, along the
    direction in ``conditions[w, 9]``); keep its velocity otherwise."""
    for w in range(objects.shape[0]):
        o = objects[w, 0]
        cx, cy = math.cos(conditions[w, 9]), math.sin(conditions[w, 9])
        p = (poses[o, 0] - origins[w, 0] - conditions[w, 3]) * cx + (poses[o, 1] - origins[w, 1] - conditions[w, 4]) * cy
        forward = velocities[o, 0] * cx + velocities[o, 1] * cy >= 0.0
        if forward and p >= half:
            forward = False
        elif not forward and p <= -half:
            forward = True
        sign = 1.0 if forward else -1.0
        velocities[o, 0], velocities[o, 1] = sign * speed * cx, sign * speed * cy


class VisualDiscrimination(RobotTask):
    """Approach the target, avoid the distractor, by vision (see the module docstring)."""

    name = "visual_discrimination"
    Spec = VisualDiscriminationSpec
    version = 1
    condition_names = ("x", "y", "heading", "target_x", "target_y", "target_angle", "distractor_x",
                       "distractor_y", "distractor_angle", "motion_angle", "noise_seed")

    def __init__(self, spec: Any, agent: AgentSpec, dt: float, where: str) -> None:
        super().__init__(spec, agent, dt, where)
        if agent.camera is None:
            raise ConfigError(f"{where}: visual_discrimination needs a camera (a [camera] table in the agent)")
        if spec.obstacles:
            raise ConfigError(f"{where}: visual_discrimination places its own objects; remove [[task.obstacles]]")
        self.steers_objects = spec.speed > 0  # a moving target
        free = min(spec.arena_width, spec.arena_height) / 2 - spec.object_margin - spec.travel / 2 * (spec.speed > 0)
        if free <= 0:
            raise ConfigError(f"{where}: `object_margin` {spec.object_margin} (and `travel`) leave no room for the objects")
        self.worst = -spec.sigma
        self.outlines = [_outline(spec.target_shape, spec.target_width, spec.target_depth)]
        if spec.distractor:
            self.outlines.append(_outline("box", spec.distractor_width, spec.distractor_depth))
        bound = [max(math.hypot(x, y) for x, y in o) for o in self.outlines]
        self.reach = np.array([r + self.radius + 1.0 for r in bound] + [0.0])

    def _place(self, rng: np.random.Generator, placed: list[tuple[float, float]]) -> tuple[float, float]:
        sp = self.spec
        hx = sp.arena_width / 2 - sp.object_margin - (sp.travel / 2 if sp.speed > 0 else 0.0)
        hy = sp.arena_height / 2 - sp.object_margin - (sp.travel / 2 if sp.speed > 0 else 0.0)
        for _ in range(10_000):
            x, y = float(rng.uniform(-hx, hx)), float(rng.uniform(-hy, hy))
            if all(math.hypot(x - px, y - py) >= sp.min_separation for px, py in placed):
                return x, y
        raise ConfigError(f"task {self.name}: `min_separation` {sp.min_separation} leaves no room for the objects")

    def conditions(self, rng: np.random.Generator) -> FloatArray:
        sp = self.spec
        rows = []
        for _ in range(sp.trials):
            objs = [self._place(rng, [])]
            if sp.distractor:
                objs.append(self._place(rng, objs))
            for _ in range(10_000):
                x, y, heading = self.start_pose(rng)
                if all(math.hypot(x - ox, y - oy) >= sp.min_start_distance for ox, oy in objs):
                    break
            else:
                raise ConfigError(f"task {self.name}: `min_start_distance` {sp.min_start_distance} is too large")
            if sp.start_heading == "objects":
                mx, my = np.mean(objs, axis=0)
                heading = math.atan2(my - y, mx - x) + math.radians(sp.heading_jitter_deg) * rng.uniform(-1.0, 1.0)
            row = [x, y, heading]
            for ox, oy in objs:  # turned to face the start, within the jitter
                facing = math.atan2(y - oy, x - ox) + math.radians(sp.jitter_deg) * rng.uniform(-1.0, 1.0)
                row += [ox, oy, facing]
            row += [0.0, 0.0, 0.0] * (2 - len(objs))
            row += [float(rng.uniform(-math.pi, math.pi)), float(rng.integers(NOISE_SEEDS))]
            rows.append(row)
        return np.array(rows, dtype=np.float64)

    def build_extra(self, world: World, space: int, cond: FloatArray) -> list[int]:
        sp = self.spec
        rows = []
        for k, outline in enumerate(self.outlines):
            ox, oy, angle = (float(v) for v in cond[3 + 3 * k: 6 + 3 * k])
            velocity = (0.0, 0.0)
            if k == 0 and sp.speed > 0:
                velocity = (sp.speed * math.cos(cond[9]), sp.speed * math.sin(cond[9]))
            row = world.add_body(space, (ox, oy), velocity=velocity, angle=angle)
            world.add_polygon(row, outline, sp.brightness)
            rows.append(row)
        return rows

    def steer_objects(self, frame: Frame, step: int, velocities: FloatArray) -> None:
        """Episode hook: reverse a moving target at the ends of its path (one numba call)."""
        if self.spec.speed > 0:
            _steer(frame.poses, frame.objects, frame.origins, frame.conditions, self.spec.speed,
                   self.spec.travel / 2, velocities)

    def new_scores(self, n: int) -> Scores:
        return Scores(np.zeros(n, np.bool_), np.zeros(n, np.bool_), np.zeros((n, 6)))

    def score(self, frame: Frame, step: int, scores: Scores) -> None:
        _score(frame.poses, frame.agent_body, frame.objects, self.reach, self.spec.beta, self.spec.sigma,
               step, self.max_steps, scores.done, scores.failed, scores.values)

    def fitness(self, scores: Scores, conditions: FloatArray) -> FloatArray:
        fit = scores.values[:, 0] / self.max_steps
        return np.where(scores.failed | ~scores.done, self.worst, fit)

    def diagnostics(self, scores: Scores, conditions: FloatArray) -> dict[str, FloatArray]:
        v = scores.values
        out = {"reached": (v[:, 5] <= self.reach[0]).astype(np.float64)}
        if self.spec.distractor:
            name = "nearer_triangle" if self.spec.target_shape == "triangle" else "nearer_target"
            out[name] = (v[:, 3] < v[:, 4]).astype(np.float64)
        return out
