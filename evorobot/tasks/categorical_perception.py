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
    of the two shapes: 24 trials by default, a fixed grid. ``offset_skip`` > 0 leaves the band
    ``(-offset_skip, offset_skip)`` out of the grid (half the offsets on each side of it), so that
    no object starts straight above the agent, as in Izquierdo's grids (default 0: none left out).
    ``mirrored_offsets`` makes the grid exactly antisymmetric (offset ``i`` is minus offset
    ``n-1-i`` bit for bit; ``[simulation] mirror_exact`` turns it on). Objects start at y = 275 and fall at
    vy = -3; the agent starts at x = 0, y = 0 with all neuron states reset.
Termination
    When the object's centre is ``end_distance`` (one body diameter, 30) above the agent's.
References
    Beer, R.D. (1996) Toward the evolution of dynamical neural networks for minimally cognitive
    behavior. SAB 4. Beer, R.D. (2003) The dynamics of active categorical perception in an evolved
    model agent. Adaptive Behavior 11(4). Adapted: the trial grid (12 offsets x 2 shapes) is the
    commonly used one [check against the paper]; the horizontal clip is applied through the
    kinematic body's velocity so that the body lands exactly on the limit; ``avoid_shape`` =
    "line" gives the circle-vs-line discrimination of Beer 1996 on the same agent: that task is
    this one with a horizontal line of length 30 [check] in place of the diamond
    (worlds/circle_line.toml), not a module of its own.
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
from evorobot.tasks.falling import (
    FallingSpec,
    FallingTask,
    add_falling_object,
    check_mirrored,
    check_skip,
    skip_grid,
)

__all__ = ["CategoricalPerception", "CategoricalPerceptionSpec", "add_falling_object"]


@dataclass(frozen=True)
class CategoricalPerceptionSpec(FallingSpec):
    """``[task]`` settings of categorical perception (defaults: Beer 2003; the object, limits and
    clip are :class:`~evorobot.tasks.falling.FallingSpec`'s)."""

    offsets: int = setting(12, ge=1, doc="horizontal start offsets per shape")
    offset_range: Range = setting((-50.0, 50.0), doc="range of the object's start offsets")
    offset_skip: float = setting(
        0.0, ge=0, doc="offsets within this distance of 0 are left out of the grid (0: none)"
    )
    mirrored_offsets: bool = setting(
        False, doc="offset grid exactly antisymmetric: offset i is minus offset n-1-i bit for bit (needs a "
                   "symmetric offset_range; the default linspace is not)")
    avoid_shape: str = setting("diamond", choices=("diamond", "line"), doc="the shape to avoid")
    fall_speed: float = setting(3.0, gt=0, doc="objects' falling speed")

    def validate(self, where: str) -> None:
        super().validate(where)
        check_skip(self.offsets, self.offset_range, 0.0, self.offset_skip, "offsets offset_range offset_skip", where)
        check_mirrored(self.offset_range, self.mirrored_offsets, "mirrored_offsets offset_range", where)


class CategoricalPerception(FallingTask):
    """Beer's categorical perception task (see the module docstring)."""

    name = "categorical_perception"
    Spec = CategoricalPerceptionSpec
    version = 1
    condition_names = ("offset", "avoid")

    def __init__(self, spec: CategoricalPerceptionSpec, agent: AgentSpec, dt: float, where: str) -> None:
        super().__init__(spec, agent, dt, where)
        self.set_slots((spec.fall_speed,), (spec.end_distance,))

    @property
    def n_trials(self) -> int:
        return 2 * self.spec.offsets

    def conditions(self, rng: np.random.Generator) -> FloatArray:
        x = skip_grid(self.spec.offsets, *self.spec.offset_range, 0.0, self.spec.offset_skip,
                      self.spec.mirrored_offsets)
        return np.array([(xi, avoid) for avoid in (0.0, 1.0) for xi in x], dtype=np.float64)

    def build(self, world: World, space: int, cond: FloatArray) -> list[int]:
        shape = self.spec.avoid_shape if cond[1] else "circle"
        s = self.spec
        return [add_falling_object(world, space, shape, s.object_size, float(cond[0]), s.object_y, -s.fall_speed)]

    def fitness(self, scores: Scores, conditions: FloatArray) -> FloatArray:
        clip = self.spec.distance_clip
        near = np.minimum(np.abs(self.arrival_offsets(scores)[:, 0]), clip) / clip
        return self.finish(scores, np.where(conditions[:, 1] > 0, near, 1.0 - near))
