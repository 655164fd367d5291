"""Visually guided orientation: centre the body under a falling circle (Beer 1996).

Description
    The first task of Beer's minimal-cognition program: a circle falls towards the agent from a
    range of horizontal offsets, and the agent must move so as to end centred beneath it.
Sensors
    Beer's eye (``[agent.eye]``): seven distance rays over π/6 around the vertical, from the
    body's perimeter, range 220; input ``gain * (220 - d) / 220``.
Motors
    Two motor neurons, ``vx = gain * (o_left - o_right)`` (``[agent.motor]``); ``|x| <= x_limit``.
Fitness
    ``d`` = horizontal distance between the agent's and the circle's centres when the circle
    arrives (``end_distance`` above the agent); trial fitness ``1 - min(d, clip) / clip``
    (``distance_clip`` 45, as for Beer's catch trials). The individual's fitness is the mean
    over trials; a failed trial scores 0.
Trials
    A fixed grid: ``offsets`` start offsets evenly spaced over ``offset_range`` ([-50, 50])
    times ``drifts`` horizontal velocities evenly spaced over ``drift_range`` ([0, 0], i.e. a
    straight fall). 24 trials by default. The circle (diameter 30) starts at y = 275 and falls
    at ``fall_speed`` (3); the agent starts at x = 0 with its neuron states reset.
Termination
    When the circle's centre is ``end_distance`` (30, one body diameter) above the agent's.
References
    Beer, R.D. (1996) Toward the evolution of dynamical neural networks for minimally cognitive
    behavior. SAB 4, 421-429. Beer, R.D. (1997) The dynamics of adaptive behavior: a research
    program. Robotics and Autonomous Systems 20, 257-289.
    Adapted: the agent, object, start height, end of trial and catch score are those of Beer's
    categorical-perception set-up (Beer 2003; see TASKS.md section 1), so that the whole suite
    runs on one agent; the offsets are a fixed, evenly spaced grid rather than random draws, so
    that fitness is deterministic. [check] Beer 1996 may also have varied the circle's
    horizontal and vertical velocity from trial to trial: ``drift_range`` / ``drifts`` offer
    the horizontal part, off by default.
Version
    1
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evorobot._types import FloatArray
from evorobot.agent import AgentSpec
from evorobot.sim.world import World
from evorobot.spec import Range, setting
from evorobot.tasks.base import Scores
from evorobot.tasks.falling import FallingSpec, FallingTask, add_falling_object, catch_score, grid


@dataclass(frozen=True)
class OrientationSpec(FallingSpec):
    """``[task]`` settings of orientation (defaults: Beer 1996 / 2003)."""

    offsets: int = setting(24, ge=1, doc="horizontal start offsets of the circle")
    offset_range: Range = setting((-50.0, 50.0), doc="range of the circle's start offsets")
    drifts: int = setting(1, ge=1, doc="horizontal velocities of the circle")
    drift_range: Range = setting((0.0, 0.0), doc="range of the circle's horizontal velocity [check]")
    fall_speed: float = setting(3.0, gt=0, doc="the circle's falling speed")


class Orientation(FallingTask):
    """Centre under a falling circle (see the module docstring)."""

    name = "orientation"
    Spec = OrientationSpec
    version = 1
    condition_names = ("offset", "drift")

    def __init__(self, spec: OrientationSpec, agent: AgentSpec, dt: float, where: str) -> None:
        super().__init__(spec, agent, dt, where)
        self.set_slots((spec.fall_speed,), (spec.end_distance,))

    @property
    def n_trials(self) -> int:
        return self.spec.offsets * self.spec.drifts

    def conditions(self, rng: np.random.Generator) -> FloatArray:
        s = self.spec
        return np.array([(x, v) for v in grid(s.drifts, *s.drift_range) for x in grid(s.offsets, *s.offset_range)],
                        dtype=np.float64)

    def build(self, world: World, space: int, cond: FloatArray) -> list[int]:
        s = self.spec
        return [add_falling_object(world, space, "circle", s.object_size, float(cond[0]), s.object_y,
                                   -s.fall_speed, float(cond[1]))]

    def fitness(self, scores: Scores, conditions: FloatArray) -> FloatArray:
        return self.finish(scores, catch_score(self.arrival_offsets(scores)[:, 0], self.spec.distance_clip))
