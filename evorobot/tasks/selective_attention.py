"""Selective attention: catch two circles falling at different speeds (Slocum et al. 2000).

Description
    Two circles fall at once from different horizontal positions, one faster than the other.
    The agent must catch the fast one first, attending to it while the slow one is also in
    view, and then move to catch the slow one, which by then may have left its field of view.
Sensors
    Beer's eye (``[agent.eye]``): seven distance rays over π/6 around the vertical, range 220.
    A circle that has been caught (has arrived) is removed from view when ``hide_caught``.
Motors
    Two motor neurons, ``vx = gain * (o_left - o_right)`` (``[agent.motor]``); ``|x| <= x_limit``.
Fitness
    For each circle, ``d`` = horizontal distance between agent and circle when that circle
    arrives (``end_distance`` above the agent) and its catch score ``1 - min(d, clip) / clip``
    (clip 45); the trial's fitness is the mean of the two. The individual's fitness is the mean
    over trials; a failed trial scores 0. Catching only the fast circle scores about 0.58 on the
    default grid, keeping still 0.33.
Trials
    A fixed grid: every ordered pair of distinct start offsets (fast circle's, slow circle's)
    from ``offsets`` (4) values over ``offset_range`` ([-45, 45]): 12 trials. Both circles
    (diameter 30) start at y = 275; they fall at ``fast_speed`` (3) and ``slow_speed`` (2).
    When the fast one is caught the slow one is 112 above the agent, where the field of view is
    about 80 wide: pairs further apart must be remembered or searched for.
Termination
    When the slow circle arrives (both have arrived).
References
    Slocum, A.C., Downey, D.C. & Beer, R.D. (2000) Further experiments in the evolution of
    minimally cognitive behavior: from perceiving affordances to selective attention. SAB 6,
    430-439.
    Adapted: agent, circles, start height and catch score are Beer's (2003), the fast circle
    keeps Beer's speed of 3; the slow speed and the offsets are ours [check against the paper].
    A caught circle is hidden (``hide_caught``) because it would otherwise keep falling through
    the agent's body, where rays starting inside it read a distance of 0 (a full-strength
    stimulus that has nothing to do with the task).
Version
    1
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evorobot._types import FloatArray
from evorobot.agent import AgentSpec
from evorobot.errors import ConfigError
from evorobot.sim.world import World
from evorobot.spec import Range, setting
from evorobot.tasks.base import Scores
from evorobot.tasks.falling import FallingSpec, FallingTask, add_falling_object, catch_score, grid


@dataclass(frozen=True)
class SelectiveAttentionSpec(FallingSpec):
    """``[task]`` settings of selective attention."""

    offsets: int = setting(4, ge=2, doc="start offsets; every ordered pair of distinct ones is a trial")
    offset_range: Range = setting((-45.0, 45.0), doc="range of the circles' start offsets [check]")
    fast_speed: float = setting(3.0, gt=0, doc="falling speed of the first circle to arrive")
    slow_speed: float = setting(2.0, gt=0, doc="falling speed of the second circle [check]")
    hide_caught: bool = setting(True, doc="remove a circle from view once it has arrived")

    def validate(self, where: str) -> None:
        super().validate(where)
        if self.slow_speed >= self.fast_speed:
            raise ConfigError(
                f"{where}: `slow_speed` must be below `fast_speed` ({self.fast_speed}), got {self.slow_speed}"
            )
        if self.offset_range[0] == self.offset_range[1]:
            raise ConfigError(f"{where}: `offset_range` must span distinct offsets, got {list(self.offset_range)}")


class SelectiveAttention(FallingTask):
    """Catch a fast and then a slow circle (see the module docstring)."""

    name = "selective_attention"
    Spec = SelectiveAttentionSpec
    version = 1
    condition_names = ("fast_offset", "slow_offset")

    def __init__(self, spec: SelectiveAttentionSpec, agent: AgentSpec, dt: float, where: str) -> None:
        super().__init__(spec, agent, dt, where)
        ends = (spec.end_distance,) * 2
        self.set_slots((spec.fast_speed, spec.slow_speed), ends, hide_below=ends if spec.hide_caught else None)

    @property
    def n_trials(self) -> int:
        return self.spec.offsets * (self.spec.offsets - 1)

    def conditions(self, rng: np.random.Generator) -> FloatArray:
        x = grid(self.spec.offsets, *self.spec.offset_range)
        return np.array([(a, b) for i, a in enumerate(x) for j, b in enumerate(x) if i != j], dtype=np.float64)

    def build(self, world: World, space: int, cond: FloatArray) -> list[int]:
        s = self.spec
        return [add_falling_object(world, space, "circle", s.object_size, float(x), s.object_y, -v)
                for x, v in ((cond[0], s.fast_speed), (cond[1], s.slow_speed))]

    def fitness(self, scores: Scores, conditions: FloatArray) -> FloatArray:
        both = catch_score(self.arrival_offsets(scores), self.spec.distance_clip)
        return self.finish(scores, both.mean(axis=1))

