"""A naive implementation of categorical perception: the baseline of ``evorobot bench``.

This is the code one writes first, and what ARCHITECTURE.md §5 warns against: one
:class:`pymunk.Space` per agent holding the agent's body and the object's body with real pymunk
shapes, every body read and written through its Python properties (``body.position``,
``body.velocity = ...``), the seven rays cast with ``Space.segment_query_first`` from the agent's
perimeter (the agent's own shape excluded by a :class:`pymunk.ShapeFilter` group), and one
jitted call per agent per step for the CTRNN (a plain single-network Euler step). Each trial runs
alone, one Python tick at a time.

It has the semantics of :class:`evorobot.episode.Episode` on the categorical-perception task, so
it computes the same per-trial fitness up to floating-point noise (tests/test_bench.py checks
this; that is what makes it an honest baseline):

- objects fall at ``vy = -fall_speed``; the motor sets ``vx = gain * (o_left - o_right)``, cut
  so that the agent's x lands exactly on ``±x_limit``; a non-finite command fails the trial;
- a ray starting inside a circle or polygon reads distance 0 (pymunk's query reports alpha 0);
- a trial ends when the object's centre is ``end_distance`` above the agent's; its fitness is
  Beer's clipped distance score (circle: ``1 - min(d, clip) / clip``, avoided shape:
  ``min(d, clip) / clip``), a failed or unfinished trial scores the task's worst.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pymunk
from numba import njit

from evorobot._types import FloatArray

if TYPE_CHECKING:
    from evorobot.setup import Setup

_AGENT_GROUP = 1
"""ShapeFilter group of the agent's shape: queries made with this group skip it."""


@njit(cache=True)
def ctrnn_euler_step(tau, bias, gain, w, w_in, y, o, x, dt, acc):  # pragma: no cover - jitted
    """One Euler step of ONE CTRNN (Beer's EulerStep order), in place; ``acc`` is scratch (N,)."""
    n = y.shape[0]
    for i in range(n):
        s = 0.0
        for k in range(x.shape[0]):
            s += w_in[i, k] * x[k]
        for j in range(n):
            s += w[i, j] * o[j]
        acc[i] = s
    for i in range(n):
        y[i] += dt / tau[i] * (acc[i] - y[i])
    for i in range(n):
        o[i] = 1.0 / (1.0 + np.exp(-gain[i] * (y[i] + bias[i])))


class NaiveResult(NamedTuple):
    """Per-trial fitness (n_individuals, n_trials) and the number of agent-steps simulated."""

    fitness: FloatArray
    failed: np.ndarray
    agent_steps: int


class NaiveTrial:
    """One agent and its falling object in a Space of their own."""

    def __init__(self, setup: "Setup", cond: FloatArray) -> None:
        task, agent = setup.task, setup.experiment.agent
        spec = task.spec
        self.space = space = pymunk.Space()
        x, y, heading = task.agent_start(cond)
        self.agent = pymunk.Body(body_type=pymunk.Body.KINEMATIC)
        self.agent.position, self.agent.angle = (x, y), heading
        own = pymunk.Circle(self.agent, agent.body.radius)
        own.filter = pymunk.ShapeFilter(group=_AGENT_GROUP)
        space.add(self.agent, own)
        self.obj = pymunk.Body(body_type=pymunk.Body.KINEMATIC)
        self.obj.position = (float(cond[0]), spec.object_y)
        self.obj.velocity = (0.0, -spec.fall_speed)
        shape_name = spec.avoid_shape if cond[1] else "circle"
        size = spec.object_size
        if shape_name == "circle":
            self.shape: pymunk.Shape = pymunk.Circle(self.obj, size / 2)
        elif shape_name == "diamond":
            h = size / math.sqrt(2.0)
            self.shape = pymunk.Poly(self.obj, [(h, 0.0), (0.0, h), (-h, 0.0), (0.0, -h)])
        else:  # "line"
            self.shape = pymunk.Segment(self.obj, (-size / 2, 0.0), (size / 2, 0.0), 0.0)
        space.add(self.obj, self.shape)
        self.avoid = bool(cond[1])


class NaiveEye(NamedTuple):
    """Constants of the agent's rays."""

    cos: list[float]  # ray directions relative to the heading
    sin: list[float]
    start: float  # the body's radius: rays leave the perimeter
    range: float
    gain: float
    filter: pymunk.ShapeFilter  # skips the agent's own shape

    @classmethod
    def of(cls, setup: "Setup") -> "NaiveEye":
        agent = setup.experiment.agent
        angles = [float(a) for a in agent.eye.angles()]
        return cls([math.cos(a) for a in angles], [math.sin(a) for a in angles], float(agent.body.radius),
                    float(agent.eye.range), float(agent.eye.gain), pymunk.ShapeFilter(group=_AGENT_GROUP))


def sense(trial: NaiveTrial, eye: NaiveEye, pos: pymunk.Vec2d, heading: float, x: FloatArray) -> None:
    """Fill ``x`` with the ray inputs of the agent at ``pos``, ``heading``: one pymunk query per ray."""
    hc, hs = math.cos(heading), math.sin(heading)
    max_range = eye.range
    for r in range(len(eye.cos)):
        ux = hc * eye.cos[r] - hs * eye.sin[r]
        uy = hs * eye.cos[r] + hc * eye.sin[r]
        x0, y0 = pos.x + eye.start * ux, pos.y + eye.start * uy
        info = trial.space.segment_query_first((x0, y0), (x0 + max_range * ux, y0 + max_range * uy),
                                               0.0, eye.filter)
        # from inside a shape pymunk reports alpha = 0, as the kernel does
        d = max_range if info is None else info.alpha * max_range
        x[r] = eye.gain * (max_range - d) / max_range


def worst_scores(setup: "Setup", genomes: FloatArray, conditions: FloatArray) -> tuple[FloatArray, np.ndarray]:
    """Per-trial fitness (n, T) at the task's worst, and ``failed`` flags (n, T), all False."""
    shape = (genomes.shape[0], conditions.shape[0])
    return np.full(shape, setup.task.worst), np.zeros(shape, dtype=bool)


def run_naive(setup: "Setup", genomes: FloatArray, conditions: FloatArray, max_steps: int | None = None) -> NaiveResult:
    """Run every trial of ``genomes`` (n, G) under ``conditions`` (T, 2), one agent at a time.

    ``max_steps`` cuts every trial short (for timing); an unfinished trial scores the worst.
    """
    task, ctrl = setup.task, setup.controller
    if task.name != "categorical_perception" or ctrl.name != "ctrnn" or ctrl.spec.integrator != "euler":
        raise ValueError("the naive baseline implements categorical perception with an Euler CTRNN only")
    genomes = np.ascontiguousarray(genomes, dtype=np.float64)
    exp = setup.experiment
    motor, spec, dt = exp.agent.motor, task.spec, exp.simulation.dt
    limit = task.max_steps if max_steps is None else min(max_steps, task.max_steps)
    eye = NaiveEye.of(setup)
    first, x_limit, clip = ctrl.hidden, float(spec.x_limit), float(spec.distance_clip)
    p = ctrl.decode(genomes)
    fitness, failed = worst_scores(setup, genomes, conditions)
    n_ind, n_trials = fitness.shape
    agent_steps = 0
    for i in range(n_ind):
        # each network's own contiguous arrays, as a per-agent program holds them (decode may store the
        # batch in another layout)
        tau, bias, gain, w, w_in = (np.ascontiguousarray(a[i]) for a in (p.tau, p.bias, p.gain, p.w, p.w_in))
        for t in range(n_trials):
            trial = NaiveTrial(setup, conditions[t])
            space, agent, obj = trial.space, trial.agent, trial.obj
            y = np.zeros(tau.shape[0])
            o = 1.0 / (1.0 + np.exp(-gain * (y + bias)))
            x = np.empty(len(eye.cos))
            acc = np.empty(tau.shape[0])
            done = bad = False
            value = 0.0
            step = 0
            while step < limit:
                pos = agent.position
                sense(trial, eye, pos, agent.angle, x)  # seven pymunk segment queries
                # think: one jitted call for this one network
                ctrnn_euler_step(tau, bias, gain, w, w_in, y, o, x, dt, acc)
                # act: horizontal motor, clipped to the world's edge
                vx = motor.gain * (o[first] - o[first + 1])
                if not math.isfinite(vx):
                    bad = True
                    break
                nxt = pos.x + vx * dt
                if nxt > x_limit:
                    vx = (x_limit - pos.x) / dt
                elif nxt < -x_limit:
                    vx = (-x_limit - pos.x) / dt
                agent.velocity = (vx, 0.0)
                space.step(dt)
                step += 1
                # score
                apos, opos = agent.position, obj.position
                if opos.y - apos.y <= spec.end_distance:
                    done, value = True, abs(opos.x - apos.x)
                    break
            agent_steps += step
            failed[i, t] = bad or not done
            if not failed[i, t]:
                near = min(value, clip) / clip
                fitness[i, t] = near if trial.avoid else 1.0 - near
    return NaiveResult(fitness, failed, agent_steps)
