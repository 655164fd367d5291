"""A naive implementation of phototaxis: the robot baseline of ``evorobot bench``.

The per-agent code ARCHITECTURE.md §5 warns against, as :mod:`evorobot.bench.naive` is for
categorical perception: one :class:`pymunk.Space` per trial holding the task's arena (the wall
boxes, obstacles, as static shapes) and the robot (a dynamic body of the agent's mass and moment,
friction 0, as :meth:`evorobot.sim.world.World.add_robot` makes it); the body read and written
through its Python properties (``body.position``, ``body.velocity = ...``); one
``Space.segment_query_first`` per IR ray and per light-sensor line of sight (the robot's own shape
excluded by a :class:`pymunk.ShapeFilter` group); one jitted call per agent per tick for the CTRNN
(:func:`evorobot.bench.naive.ctrnn_euler_step`); ``substeps`` calls of ``Space.step`` per tick.

It has the semantics of :class:`evorobot.episode.Episode` on the phototaxis task, so it computes
the same per-trial fitness up to floating-point noise (tests/test_bench.py checks this):

- IR: ray from the perimeter at ``heading + angle``, reading ``exp(-d / decay)`` when it hits
  within ``range`` (distance 0 from inside a shape: pymunk's query reports alpha 0 there);
- light: ``intensity * f(d) * cos a`` per light within half the aperture and in sight;
- noise: ``amplitude * noise[step, i]``, the trial's rows of :func:`evorobot.sim.sensors.draw_noise`
  from its seed; each reading clipped to [0, 1];
- differential drive as :func:`evorobot.sim.motors.differential` (velocities written once per
  tick, then ``substeps`` physics steps), the velocity cut off the arena's static shapes by
  :func:`evorobot.sim.motors.project_one` with ``[simulation] project_contacts``; a non-finite
  command fails the trial;
- fitness: the mean over the trial of the closeness ``clip((d0 - d) / (d0 - reach), 0, 1)`` (1
  within ``reach``) scored after each tick, ``d0`` the distance at the start pose (phototaxis v2); a failed or unfinished trial scores
  the task's worst.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, cast

import numpy as np
import pymunk

from evorobot._types import FloatArray
from evorobot.bench.naive import NaiveResult, ctrnn_euler_step, worst_scores
from evorobot.sim.motors import project_one
from evorobot.sim.sensors import LINEAR, RobotSensors, draw_noise
from evorobot.sim.world import CIRCLE, POLYGON, STATIC, World

if TYPE_CHECKING:
    from evorobot.setup import Setup

_ROBOT_GROUP = 1
"""ShapeFilter group of the robot's shape: queries made with this group skip it."""


class _ArenaSpace:
    """Stands in for :class:`World` while the task builds its arena: static shapes and lights go
    straight into one plain pymunk Space, at the origin."""

    def __init__(self, space: pymunk.Space) -> None:
        self.space = space
        self.lights: list[tuple[float, float, float]] = []
        self.statics: list[tuple[int, tuple[float, float], float, list[tuple[float, float]]]] = []
        """(kind, centre, bounding radius, vertices) of each static shape, for the contact projection."""

    def _add(self, shape: pymunk.Shape) -> None:
        shape.friction = 0.0
        self.space.add(shape)

    def add_polygon(self, row: int, verts: list[tuple[float, float]], brightness: float = 1.0) -> None:
        assert row == STATIC
        poly = pymunk.Poly(self.space.static_body, verts)
        self._add(poly)
        vs = [(v.x, v.y) for v in poly.get_vertices()]
        cx, cy = sum(v[0] for v in vs) / len(vs), sum(v[1] for v in vs) / len(vs)
        self.statics.append((POLYGON, (cx, cy), max(math.hypot(x - cx, y - cy) for x, y in vs), vs))

    def add_circle(self, row: int, radius: float, brightness: float = 1.0,
                   offset: tuple[float, float] = (0.0, 0.0)) -> None:
        assert row == STATIC
        self._add(pymunk.Circle(self.space.static_body, radius, offset))
        self.statics.append((CIRCLE, (float(offset[0]), float(offset[1])), float(radius), []))

    def add_light(self, position: tuple[float, float], intensity: float = 1.0) -> None:
        self.lights.append((float(position[0]), float(position[1]), float(intensity)))


class NaiveRobotTrial:
    """One robot in its arena, in a Space of its own."""

    def __init__(self, setup: "Setup", cond: FloatArray) -> None:
        task, agent = setup.task, setup.experiment.agent
        self.space = space = pymunk.Space()
        arena = _ArenaSpace(space)
        task.build(cast(World, arena), 0, cond)
        self.lights = arena.lights
        st = arena.statics  # the static shapes as arrays, for motors.project_one
        self.kinds = np.array([k for k, _, _, _ in st], dtype=np.int64)
        self.centres = np.array([c for _, c, _, _ in st], dtype=np.float64).reshape(-1, 2)
        self.radii = np.array([r for _, _, r, _ in st], dtype=np.float64)
        self.vcount = np.array([len(v) for _, _, _, v in st], dtype=np.int64)
        self.vstart = np.concatenate([[0], np.cumsum(self.vcount)[:-1]]).astype(np.int64)
        self.verts = np.array([p for _, _, _, v in st for p in v], dtype=np.float64).reshape(-1, 2)
        x, y, heading = task.agent_start(cond)
        radius, mass = agent.body.radius, agent.body.mass
        self.body = pymunk.Body(mass, pymunk.moment_for_circle(mass, 0.0, radius))
        self.body.position, self.body.angle = (x, y), heading
        own = pymunk.Circle(self.body, radius)
        own.friction = 0.0
        own.filter = pymunk.ShapeFilter(group=_ROBOT_GROUP)
        space.add(self.body, own)


class NaiveSensors:
    """Constants of the robot's sensors as plain Python numbers and lists."""

    def __init__(self, setup: "Setup") -> None:
        s = RobotSensors(setup.experiment.agent)
        if s.sectors:
            raise ValueError("the naive robot baseline implements IR and light sensors only (no bumper)")
        self.radius = float(s.radius)
        if s.ir_rays != 1:
            raise ValueError("the naive baseline implements one ray per IR sensor only")
        self.ir_angles = [float(a) for a in s.ir_angles]
        self.ir_range, self.ir_decay, self.ir_noise = float(s.ir_range), float(s.ir_decay), float(s.ir_noise)
        self.light_angles = [float(a) for a in s.light_angles]
        self.cos_half, self.linear, self.r0 = float(s.cos_half), s.falloff == LINEAR, float(s.r0)
        self.light_noise = float(s.light_noise)
        self.filter = pymunk.ShapeFilter(group=_ROBOT_GROUP)

    def sense(self, trial: NaiveRobotTrial, pos: pymunk.Vec2d, heading: float, noise: FloatArray | None,
              x: FloatArray) -> None:
        """Fill ``x`` with the IR then light readings of the robot at ``pos``, ``heading``."""
        space, r, rng = trial.space, self.radius, self.ir_range
        i = 0
        for a in self.ir_angles:
            ux, uy = math.cos(heading + a), math.sin(heading + a)
            x0, y0 = pos.x + r * ux, pos.y + r * uy
            info = space.segment_query_first((x0, y0), (x0 + rng * ux, y0 + rng * uy), 0.0, self.filter)
            d = rng if info is None else info.alpha * rng
            v = math.exp(-d / self.ir_decay) if d < rng else 0.0
            if noise is not None:
                v += self.ir_noise * noise[i]
            x[i] = min(max(v, 0.0), 1.0)
            i += 1
        for a in self.light_angles:
            ax, ay = math.cos(heading + a), math.sin(heading + a)
            sx, sy = pos.x + r * ax, pos.y + r * ay
            v = 0.0
            for lx, ly, intensity in trial.lights:
                vx, vy = lx - sx, ly - sy
                d = math.sqrt(vx * vx + vy * vy)
                c = 1.0 if d == 0.0 else (vx * ax + vy * ay) / d
                if c < self.cos_half or c <= 0.0:
                    continue
                if d > 0.0 and space.segment_query_first((sx, sy), (lx, ly), 0.0, self.filter) is not None:
                    continue  # something stands between the sensor and the light
                f = 1.0 / (1.0 + d / self.r0) if self.linear else (self.r0 / max(d, self.r0)) ** 2
                v += intensity * f * c
            if noise is not None:
                v += self.light_noise * noise[i]
            x[i] = min(max(v, 0.0), 1.0)
            i += 1


def run_naive_robot(setup: "Setup", genomes: FloatArray, conditions: FloatArray,
                    max_steps: int | None = None) -> NaiveResult:
    """Run every phototaxis trial of ``genomes`` (n, G) under ``conditions`` (T, 6), one robot at a time.

    ``max_steps`` cuts every trial short (for timing); an unfinished trial scores the worst.
    """
    task, ctrl, exp = setup.task, setup.controller, setup.experiment
    if task.name != "phototaxis" or ctrl.name != "ctrnn" or ctrl.spec.integrator != "euler" or ctrl.spec.sensor_neurons:
        raise ValueError("the naive robot baseline implements phototaxis with an Euler CTRNN only")
    genomes = np.ascontiguousarray(genomes, dtype=np.float64)
    agent, dt, substeps = exp.agent, exp.simulation.dt, exp.simulation.substeps
    project = exp.simulation.project_contacts
    motor, reach, h = agent.motor, float(task.spec.reach), dt / substeps
    max_speed, wheel_distance = float(motor.max_speed), float(motor.wheel_distance)
    limit = task.max_steps if max_steps is None else min(max_steps, task.max_steps)
    sensors = NaiveSensors(setup)
    n_in = agent.n_inputs
    first = ctrl.n_neurons - agent.n_outputs  # the motor neurons come last
    noisy = sensors.ir_noise > 0 or sensors.light_noise > 0
    p = ctrl.decode(genomes)
    fitness, failed = worst_scores(setup, genomes, conditions)
    n_ind, n_trials = fitness.shape
    agent_steps = 0
    for t in range(n_trials):
        noise = draw_noise(conditions[t : t + 1, -1], task.max_steps, n_in)[0] if noisy else None
        for i in range(n_ind):
            # each network's own contiguous arrays, as a per-agent program holds them (decode may store the
            # batch in another layout)
            tau, bias, gain, w, w_in = (np.ascontiguousarray(a[i]) for a in (p.tau, p.bias, p.gain, p.w, p.w_in))
            trial = NaiveRobotTrial(setup, conditions[t])
            space, body = trial.space, trial.body
            light_x, light_y = float(conditions[t, 3]), float(conditions[t, 4])
            y = p.y0[i].copy()
            o = 1.0 / (1.0 + np.exp(-gain * (y + bias)))
            x, acc = np.empty(n_in), np.empty(tau.shape[0])
            bad = False
            total, d0 = 0.0, math.hypot(float(conditions[t, 0]) - light_x, float(conditions[t, 1]) - light_y)
            step = 0
            while step < limit:
                # sense: one pymunk query per IR ray and per light in the aperture
                sensors.sense(trial, body.position, body.angle, None if noise is None else noise[step], x)
                # think: one jitted call for this one network
                ctrnn_euler_step(tau, bias, gain, w, w_in, y, o, x, dt, acc)
                # act: differential drive, then the physics substeps
                left, right = 2.0 * o[first] - 1.0, 2.0 * o[first + 1] - 1.0
                if not (math.isfinite(left) and math.isfinite(right)):
                    bad = True
                    break
                left, right = min(max(left, -1.0), 1.0), min(max(right, -1.0), 1.0)
                v, heading = 0.5 * max_speed * (left + right), body.angle
                vx, vy = v * math.cos(heading), v * math.sin(heading)
                if project:  # [simulation] project_contacts: one jitted call for this one robot
                    pos = body.position
                    vx, vy = project_one(pos.x, pos.y, vx, vy, sensors.radius, dt, trial.kinds, trial.centres,
                                         trial.radii, trial.vstart, trial.vcount, trial.verts)
                body.velocity = (vx, vy)
                body.angular_velocity = max_speed * (right - left) / wheel_distance
                for _ in range(substeps):
                    space.step(h)
                # score: closeness to the light
                pos = body.position
                d = math.hypot(pos.x - light_x, pos.y - light_y)
                if not math.isfinite(d):
                    bad = True
                    break
                total += 1.0 if d <= reach else min(max((d0 - d) / max(d0 - reach, 1e-9), 0.0), 1.0)
                step += 1
            agent_steps += step
            failed[i, t] = bad or step < task.max_steps
            if not failed[i, t]:
                fitness[i, t] = total / task.max_steps
    return NaiveResult(fitness, failed, agent_steps)
