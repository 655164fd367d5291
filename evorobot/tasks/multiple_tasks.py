"""Two tasks, one fitness: the product of the aperture and size-categorisation scores (Izquierdo).

Description
    One agent is evaluated on the trials of two falling-object tasks: perceiving affordances
    (:mod:`evorobot.tasks.aperture`, pass through gaps wider than the body, avoid narrower ones)
    and size categorisation (:mod:`evorobot.tasks.size_categorisation`, catch circles smaller than
    the body, avoid larger ones). The trials are the union of the two tasks' trial sets.
Sensors
    Beer's eye (``[agent.eye]``), as in both tasks.
Motors
    Two motor neurons, ``vx = gain * (o_left - o_right)`` (``[agent.motor]``); ``|x| <= x_limit``.
Fitness
    Each trial scores as in its own task (:meth:`SizeAndAperture.fitness`). The individual's
    fitness is **not** the mean over trials: it is the mean score of the aperture trials times the
    mean score of the size trials (:meth:`SizeAndAperture.individual_fitness`, each mean
    correctly rounded as :func:`evorobot.fitness.mean_fitness`), so that an agent must do both
    tasks: one that does only one scores about half of its best.
Trials
    The aperture trials (``gaps`` x ``offsets``), then the size trials (``sizes`` x ``offsets``),
    both on the one offset grid; row ``(task, offset, width, flag)``: ``task`` 0 aperture, 1 size;
    ``width`` the gap's width or the circle's diameter; ``flag`` 1 for a gap to pass through
    (aperture) or a circle to avoid (size). Defaults: Izquierdo's, 120 + 120 trials.
Termination
    When the objects' centres are ``end_distance`` (30) above the agent's.
References
    Izquierdo, E.J. VisuallyGuidedAgent (public C++ code, github.com/edizquierdo/
    VisuallyGuidedAgent, 2022), main.cpp: ``MultipleTasks`` returns ``PerceiveAffordance(v) *
    CircleSizeCategorization(v)``, each the mean over its own trials, and is the evaluation
    function of his evolution. Adapted as in the two task modules.
Version
    1
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from evorobot._types import FloatArray
from evorobot.agent import AgentSpec
from evorobot.fitness import mean_fitness
from evorobot.sim.world import World
from evorobot.spec import Range, setting
from evorobot.tasks.aperture import Aperture, ApertureSpec
from evorobot.tasks.base import Scores
from evorobot.tasks.falling import FallingTask
from evorobot.tasks.size_categorisation import (
    SizeCategorisation,
    SizeCategorisationSpec,
)

APERTURE, SIZE = 0.0, 1.0
"""Values of the ``task`` column."""


@dataclass(frozen=True)
class SizeAndApertureSpec(SizeCategorisationSpec, ApertureSpec):
    """``[task]`` settings: those of both tasks (one offset grid, start height, arrival and clip
    shared), Izquierdo's defaults."""

    end_distance: float = setting(
        30.0, ge=0, doc="a trial ends when the objects' centres are this far above the agent's"
    )
    object_shape: str = setting("line", choices=("circle", "diamond", "line"), doc="shape of the aperture's walls")
    gaps: int = setting(10, ge=1, doc="gap widths between the walls' facing edges")
    gap_range: Range = setting((20.0, 40.0), doc="range of the gap widths")
    gap_skip: float = setting(2.0, ge=0, doc="gap widths within this distance of the body's diameter are left out")
    avoid_clip: float = setting(75.0, ge=0, doc="aperture's avoid score clip (0: the clearance)")


def _part(spec: Any, cls: type) -> Any:
    """The ``cls`` settings held in ``spec``."""
    return cls(**{f.name: getattr(spec, f.name) for f in fields(cls)})


class SizeAndAperture(FallingTask):
    """Izquierdo's two tasks with the product of their mean scores (see the module docstring)."""

    name = "size_and_aperture"
    Spec = SizeAndApertureSpec
    version = 1
    condition_names = ("task", "offset", "width", "flag")

    def __init__(self, spec: SizeAndApertureSpec, agent: AgentSpec, dt: float, where: str) -> None:
        super().__init__(spec, agent, dt, where)
        self.aperture = Aperture(_part(spec, ApertureSpec), agent, dt, where)
        self.size = SizeCategorisation(_part(spec, SizeCategorisationSpec), agent, dt, where)
        self.set_slots((spec.fall_speed,) * 2, (spec.end_distance,) * 2)
        self.groups = np.repeat([APERTURE, SIZE], [self.aperture.n_trials, self.size.n_trials])

    @property
    def n_trials(self) -> int:
        return self.aperture.n_trials + self.size.n_trials

    def conditions(self, rng: np.random.Generator) -> FloatArray:
        rows = [self.aperture.conditions(rng), self.size.conditions(rng)]
        return np.hstack([self.groups[:, None], np.vstack(rows)])

    def build(self, world: World, space: int, cond: FloatArray) -> list[int]:
        task = self.size if cond[0] == SIZE else self.aperture
        return task.build(world, space, cond[1:])

    def fitness(self, scores: Scores, conditions: FloatArray) -> FloatArray:
        fit = np.empty(conditions.shape[0])
        for value, task in ((APERTURE, self.aperture), (SIZE, self.size)):
            m = conditions[:, 0] == value
            part = Scores(scores.done[m], scores.failed[m], scores.values[m])
            fit[m] = task.fitness(part, conditions[m, 1:])
        return fit

    fitness_name = "fitness (aperture mean x size mean)"

    def individual_fitness(self, trials: FloatArray) -> float:
        """The aperture trials' mean score times the size trials' (``trials`` in the order of
        :meth:`conditions`)."""
        return mean_fitness(trials[self.groups == APERTURE]) * mean_fitness(trials[self.groups == SIZE])
