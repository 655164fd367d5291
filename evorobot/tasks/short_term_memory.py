"""Short-term memory: catch a circle that vanishes partway down (Slocum et al. 2000).

Description
    A circle falls towards the agent, drifting sideways, and vanishes from the agent's sensors
    once it has fallen to ``hide_height`` above the agent; it keeps falling (and drifting)
    unseen, and the agent must still end centred beneath it. In the dark every ray reads
    nothing in every trial, so a controller without internal state makes the same move in every
    trial: catching requires remembering which way the circle was going.
Sensors
    Beer's eye (``[agent.eye]``): seven distance rays over π/6 around the vertical, range 220;
    the hidden circle is not seen (the rays skip shapes whose ``visible`` flag is off).
Motors
    Two motor neurons, ``vx = gain * (o_left - o_right)`` (``[agent.motor]``); ``|x| <= x_limit``.
Fitness
    ``d`` = horizontal distance between agent and circle when the circle arrives
    (``end_distance`` above the agent); trial fitness ``1 - min(d, clip) / clip`` (clip 45). The
    individual's fitness is the mean over trials; a failed trial scores 0.
Trials
    A fixed grid: ``offsets`` start offsets over ``offset_range`` ([-30, 30]) times ``drifts``
    horizontal velocities over ``drift_range`` ([-1, 1]: one each way): 24 trials. The circle
    (diameter 30) starts at y = 275, falls at 3 and is hidden while its centre is at most
    ``hide_height`` (150) above the agent's: visible for the first 42 time units, unseen for the
    last 40, during which it drifts 40 further sideways.
Termination
    When the circle's centre is ``end_distance`` (30) above the agent's.
References
    Slocum, A.C., Downey, D.C. & Beer, R.D. (2000) Further experiments in the evolution of
    minimally cognitive behavior: from perceiving affordances to selective attention. SAB 6,
    430-439. Beer, R.D. (1996) SAB 4 (agent and objects).
    Adapted: the agent, object, fall and catch score are Beer's categorical-perception ones. The
    sideways drift is ours [check against the paper]: the agent moves up to 5 units per time
    unit, so a circle falling straight down could be reached and centred under long before it
    vanished, and a controller with no memory at all (keep still when nothing is seen) would
    catch it; with the drift the circle is still moving when it vanishes, and a catch needs the
    remembered direction. ``drift_range = [0, 0]`` with ``drifts = 1`` gives the straight fall.
    The hiding height (about half-way down) is a setting [check].
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
class ShortTermMemorySpec(FallingSpec):
    """``[task]`` settings of short-term memory."""

    offsets: int = setting(12, ge=1, doc="horizontal start offsets of the circle")
    offset_range: Range = setting((-30.0, 30.0), doc="range of the circle's start offsets")
    drifts: int = setting(2, ge=1, doc="horizontal velocities of the circle")
    drift_range: Range = setting((-1.0, 1.0), doc="range of the circle's horizontal velocity [check]")
    fall_speed: float = setting(3.0, gt=0, doc="the circle's falling speed")
    hide_height: float = setting(
        150.0, doc="the circle is unseen while its centre is at most this far above the agent's [check]"
    )

    def validate(self, where: str) -> None:
        super().validate(where)
        if not self.end_distance <= self.hide_height < self.object_y:
            raise ConfigError(
                f"{where}: `hide_height` must lie in [end_distance, object_y) = "
                f"[{self.end_distance}, {self.object_y}), got {self.hide_height}"
            )


class ShortTermMemory(FallingTask):
    """Catch a circle that vanishes partway down (see the module docstring)."""

    name = "short_term_memory"
    Spec = ShortTermMemorySpec
    version = 1
    condition_names = ("offset", "drift")

    def __init__(self, spec: ShortTermMemorySpec, agent: AgentSpec, dt: float, where: str) -> None:
        super().__init__(spec, agent, dt, where)
        self.set_slots((spec.fall_speed,), (spec.end_distance,), hide_below=(spec.hide_height,))

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

    @property
    def dark_time(self) -> float:
        """How long the circle falls unseen before it arrives."""
        s = self.spec
        return max(0.0, (s.hide_height - s.end_distance) / s.fall_speed)

    def fitness(self, scores: Scores, conditions: FloatArray) -> FloatArray:
        return self.finish(scores, catch_score(self.arrival_offsets(scores)[:, 0], self.spec.distance_clip))

