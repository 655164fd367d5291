"""Size categorisation: catch circles smaller than the body, avoid larger ones (Izquierdo, after Beer).

Description
    Beer's visually guided agent moves left and right along the bottom of a 2-D world while a
    circle falls straight down towards it. Circles smaller than the agent's body must be caught
    (end centred under them), circles larger than it avoided (end far from them): the agent has
    to perceive the object's size relative to its own, and the size differs from trial to trial.
Sensors
    Beer's eye (``[agent.eye]``): distance rays over π/6 around the vertical, from the body's
    perimeter, range 220; input ``gain * (220 - d) / 220`` (gain 1 in Izquierdo's code).
Motors
    Two motor neurons, ``vx = gain * (o_left - o_right)`` (``[agent.motor]``; gain 8 in
    Izquierdo's code); ``|x| <= x_limit``.
Fitness
    ``d`` = horizontal distance between the agent's and the circle's centres when the circle
    arrives (``end_distance`` above the agent's centre). A circle smaller than the body's diameter
    scores ``1 - min(d, clip) / clip``, a larger one ``min(d, clip) / clip`` (clip 75). The
    individual's fitness is the mean over trials; a failed trial scores 0.
Trials
    A fixed grid: ``offsets`` start offsets evenly spaced over ``offset_range`` ([2, 24]: 2, 4,
    ..., 24) times ``sizes`` circle diameters evenly spaced over ``size_range`` ([20, 40]) with
    the diameters within ``size_skip`` (2) of the body's diameter left out (20, 22, ..., 28 catch;
    32, ..., 40 avoid): 120 trials. ``offset_skip`` > 0 leaves the offsets within it of 0 out (for
    a two-sided grid such as [-24, 24] with ``offset_skip`` 2; ``mirrored_offsets`` makes such a
    grid exactly antisymmetric, offset ``i`` minus offset ``n-1-i`` bit for bit). The circle
    starts ``object_y`` (240) above the agent's centre and falls at ``fall_speed`` (3); the agent starts at x = 0
    with its neuron states reset.
Termination
    When the circle's centre is ``end_distance`` (30, one body diameter) above the agent's.
References
    Izquierdo, E.J. VisuallyGuidedAgent (public C++ code, github.com/edizquierdo/
    VisuallyGuidedAgent, 2022), ``CircleSizeCategorization`` in main.cpp, after Beer, R.D. (2003)
    The dynamics of active categorical perception in an evolved model agent. Adaptive Behavior
    11(4), 209-243. The constants are his: sizes 20 to 40 in steps of 2 without the body's 30,
    offsets 2 to 24 in steps of 2 (one side only: his agent is bilaterally symmetric; the
    commented-out alternative in his code runs from -25), start height 240, fall speed 3, the
    trial ending at 30, clip 75. Adapted: he runs every trial twice (``REPS``) with no noise, which
    leaves the mean unchanged, so each trial runs once here; his score of a small circle is
    ``(75 - d) / 75`` where ours is ``1 - d / 75``, equal up to rounding. His agent has 15 rays and
    7 interneurons in that code; worlds/size_categorisation.toml takes his 7 interneurons and
    keeps Beer's 7 rays.
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
from evorobot.tasks.falling import (
    DropSpec,
    FallingTask,
    add_falling_object,
    catch_score,
    check_mirrored,
    check_skip,
    skip_grid,
)


@dataclass(frozen=True)
class SizeCategorisationSpec(DropSpec):
    """``[task]`` settings of size categorisation (defaults: Izquierdo's VisuallyGuidedAgent)."""

    object_y: float = setting(240.0, gt=0, doc="the circle's start height above the agent's centre")
    distance_clip: float = setting(75.0, gt=0, doc="distances beyond this score 0 (catch) or 1 (avoid)")
    sizes: int = setting(10, ge=1, doc="circle diameters per offset")
    size_range: Range = setting((20.0, 40.0), doc="range of the circle's diameter")
    size_skip: float = setting(
        2.0, ge=0, doc="diameters within this distance of the body's diameter are left out (0: none)"
    )
    offsets: int = setting(12, ge=1, doc="horizontal start offsets")
    offset_range: Range = setting((2.0, 24.0), doc="range of the circle's start offsets")
    offset_skip: float = setting(
        0.0, ge=0, doc="offsets within this distance of 0 are left out of the grid (0: none)"
    )
    mirrored_offsets: bool = setting(
        False, doc="offset grid exactly antisymmetric: offset i is minus offset n-1-i bit for bit (needs a "
                   "symmetric offset_range)")
    fall_speed: float = setting(3.0, gt=0, doc="the circle's falling speed")

    def validate(self, where: str) -> None:
        super().validate(where)
        if self.size_range[0] <= 0:
            raise ConfigError(f"{where}: `size_range` must be > 0, got {list(self.size_range)}")
        check_skip(self.offsets, self.offset_range, 0.0, self.offset_skip, "offsets offset_range offset_skip", where)
        check_mirrored(self.offset_range, self.mirrored_offsets, "mirrored_offsets offset_range", where)


class SizeCategorisation(FallingTask):
    """Catch small circles, avoid large ones (see the module docstring)."""

    name = "size_categorisation"
    Spec = SizeCategorisationSpec
    version = 1
    condition_names = ("offset", "size", "avoid")

    def __init__(self, spec: SizeCategorisationSpec, agent: AgentSpec, dt: float, where: str) -> None:
        super().__init__(spec, agent, dt, where)
        self.set_slots((spec.fall_speed,), (spec.end_distance,))
        self.body_width = 2.0 * agent.body.radius
        check_skip(spec.sizes, spec.size_range, self.body_width, spec.size_skip, "sizes size_range size_skip", where)
        sizes = self._sizes()
        if np.any(sizes == self.body_width):
            raise ConfigError(f"{where}: a circle of the body's diameter {self.body_width} is neither small nor "
                              f"large; leave it out with `size_skip` or move `size_range` {list(spec.size_range)}")

    def _sizes(self) -> FloatArray:
        s = self.spec
        return skip_grid(s.sizes, *s.size_range, self.body_width, s.size_skip)

    @property
    def n_trials(self) -> int:
        return self.spec.sizes * self.spec.offsets

    def conditions(self, rng: np.random.Generator) -> FloatArray:
        s = self.spec
        offsets = skip_grid(s.offsets, *s.offset_range, 0.0, s.offset_skip, s.mirrored_offsets)
        return np.array([(x, d, float(d > self.body_width)) for x in offsets for d in self._sizes()],
                        dtype=np.float64)

    def build(self, world: World, space: int, cond: FloatArray) -> list[int]:
        s = self.spec
        return [add_falling_object(world, space, "circle", float(cond[1]), float(cond[0]), s.object_y, -s.fall_speed)]

    def fitness(self, scores: Scores, conditions: FloatArray) -> FloatArray:
        clip = self.spec.distance_clip
        d = self.arrival_offsets(scores)[:, 0]
        avoid = np.minimum(np.abs(d), clip) / clip
        return self.finish(scores, np.where(conditions[:, 2] > 0, avoid, catch_score(d, clip)))
