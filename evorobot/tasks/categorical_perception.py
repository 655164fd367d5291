"""Categorical perception: catch falling circles, avoid falling diamonds (Beer 1996, 2003).

Description
    Beer's visually guided agent moves left and right along the bottom of a 2-D world while an
    object falls straight down towards it. It must catch circles (end centred under them) and
    avoid diamonds (end far from them): the categories can only be told apart by active scanning.
Sensors
    Seven distance rays over π/6 around the vertical, from the body's perimeter, range 220;
    input ``gain * (220 - d) / 220`` (``[agent.eye]``; gain 10 in Beer 2003, 1 in Izquierdo's).
Motors
    Two motor neurons; ``vx = gain * (o_left - o_right)`` (``[agent.motor]``; gain 5 or 8). The
    agent's x is held within ``±x_limit`` (the world is 400 wide).
Fitness
    ``d`` = horizontal distance between agent and object at the end of the trial; a circle scores
    ``1 - min(d, clip) / clip``, a diamond ``min(d, clip) / clip`` (clip 45; 75 in the izquierdo
    preset). The individual's fitness is the mean over trials; a failed trial scores 0.
Trials
    ``offsets`` horizontal start offsets evenly spaced over ``offset_range`` ([-50, 50]) for each
    of the two shapes: 24 trials by default, a fixed grid. Objects start at y = 275 and fall at
    vy = -3; the agent starts at x = 0, y = 0 with all neuron states reset.
Termination
    When the object's centre is ``end_distance`` (one body diameter, 30) above the agent's.
References
    Beer, R.D. (1996) Toward the evolution of dynamical neural networks for minimally cognitive
    behavior. SAB 4. Beer, R.D. (2003) The dynamics of active categorical perception in an evolved
    model agent. Adaptive Behavior 11(4). Adapted: the trial grid (12 offsets x 2 shapes) is the
    commonly used one [check against the paper]; the horizontal clip is applied through the
    kinematic body's velocity so that the body lands exactly on the limit; ``avoid_shape`` =
    "line" gives the circle-vs-line discrimination of Beer 1996 on the same agent.
Version
    1
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from evorobot._types import FloatArray, IntArray
from evorobot.agent import AgentSpec
from evorobot.errors import ConfigError
from evorobot.sim.world import World
from evorobot.spec import Range, setting
from evorobot.tasks.base import Scores, Task


@dataclass(frozen=True)
class CategoricalPerceptionSpec:
    """``[task]`` settings of categorical perception (defaults: Beer 2003)."""

    offsets: int = setting(12, ge=1, doc="horizontal start offsets per shape")
    offset_range: Range = setting((-50.0, 50.0), doc="range of the object's start offsets")
    avoid_shape: str = setting("diamond", choices=("diamond", "line"), doc="the shape to avoid")
    object_size: float = setting(30.0, gt=0, doc="circle diameter, diamond side, line length")
    object_y: float = setting(275.0, gt=0, doc="objects' start height")
    fall_speed: float = setting(3.0, gt=0, doc="objects' falling speed")
    end_distance: float = setting(30.0, gt=0, doc="trial ends when the object is this far above the agent")
    x_limit: float = setting(200.0, gt=0, doc="the agent's |x| limit (half the world's width)")
    distance_clip: float = setting(45.0, gt=0, doc="distances beyond this score as this")

    def validate(self, where: str) -> None:
        if self.object_y <= self.end_distance:
            raise ConfigError(
                f"{where}: `object_y` must exceed `end_distance` ({self.end_distance}), got {self.object_y}"
            )


@njit(cache=True)
def _score(poses: FloatArray, agent_body: IntArray, objects: IntArray, end: float,
           done: np.ndarray, failed: np.ndarray, values: FloatArray) -> None:
    for b in range(agent_body.shape[0]):
        if done[b] or failed[b]:
            continue
        a, o = agent_body[b], objects[b, 0]
        if poses[o, 1] - poses[a, 1] <= end:
            done[b] = True
            values[b, 0] = abs(poses[o, 0] - poses[a, 0])


def add_falling_object(world: World, space: int, shape: str, size: float, x: float, y: float, vy: float) -> int:
    """Add a kinematic circle, diamond or horizontal line falling at ``vy``; return its row."""
    row = world.add_body(space, (x, y), velocity=(0.0, vy))
    if shape == "circle":
        world.add_circle(row, size / 2)
    elif shape == "diamond":
        h = size / math.sqrt(2.0)  # a square of side ``size`` turned by 45 degrees
        world.add_polygon(row, [(h, 0.0), (0.0, h), (-h, 0.0), (0.0, -h)])
    elif shape == "line":
        world.add_segment(row, (-size / 2, 0.0), (size / 2, 0.0))
    else:
        raise ValueError(f"unknown object shape {shape!r}")
    return row


class CategoricalPerception(Task):
    """Beer's categorical perception task (see the module docstring)."""

    name = "categorical_perception"
    Spec = CategoricalPerceptionSpec
    version = 1
    condition_names = ("offset", "avoid")

    def __init__(self, spec: CategoricalPerceptionSpec, agent: AgentSpec, dt: float, where: str) -> None:
        super().__init__(spec, agent, dt, where)
        if agent.motor.type != "horizontal":
            raise ConfigError(f"{where}: needs an agent with a horizontal motor, got `{agent.motor.type}`")

    @property
    def x_limit(self) -> float:  # type: ignore[override]
        return self.spec.x_limit

    @property
    def n_trials(self) -> int:
        return 2 * self.spec.offsets

    def conditions(self, rng: np.random.Generator) -> FloatArray:
        lo, hi = self.spec.offset_range
        x = np.linspace(lo, hi, self.spec.offsets) if self.spec.offsets > 1 else np.array([(lo + hi) / 2])
        return np.array([(xi, avoid) for avoid in (0.0, 1.0) for xi in x], dtype=np.float64)

    def agent_start(self, cond: FloatArray) -> tuple[float, float, float]:
        return (0.0, 0.0, 0.0)

    def build(self, world: World, space: int, cond: FloatArray) -> list[int]:
        shape = self.spec.avoid_shape if cond[1] else "circle"
        s = self.spec
        return [add_falling_object(world, space, shape, s.object_size, float(cond[0]), s.object_y, -s.fall_speed)]

    @property
    def max_steps(self) -> int:
        s = self.spec
        return math.ceil((s.object_y - s.end_distance) / (s.fall_speed * self.dt)) + 10

    def new_scores(self, n: int) -> Scores:
        return Scores(np.zeros(n, np.bool_), np.zeros(n, np.bool_), np.zeros((n, 1)))

    def score(self, poses: FloatArray, agent_body: IntArray, objects: IntArray, step: int, scores: Scores) -> None:
        _score(poses, agent_body, objects, self.spec.end_distance, scores.done, scores.failed, scores.values)

    def fitness(self, scores: Scores, conditions: FloatArray) -> FloatArray:
        clip = self.spec.distance_clip
        near = np.minimum(scores.values[:, 0], clip) / clip
        fit = np.where(conditions[:, 1] > 0, near, 1.0 - near)
        return np.where(scores.failed | ~scores.done, self.worst, fit)
