"""Beer's real-valued generational GA (the TSearch library), in ask/tell form.

Genes lie in [-1, 1] and start uniform. Each generation the population is sorted by fitness
(maximised); an elite is copied unchanged; the other places are filled from parents drawn by
linear rank selection (the best expects ``max_expected_offspring`` offspring, the worst
``2 - max_expected_offspring``) with stochastic universal sampling (Baker 1987), optionally
crossed over in pairs, then mutated along a random unit direction by a Gaussian step whose
*variance* is ``mutation_variance`` (:func:`~evorobot.evolution.operators.mutate`).

Non-finite fitness (a trial that blew up) ranks below every finite one and never becomes the best
or an elite. ``crossover = "uniform"`` takes each gene of a crossed pair from either parent
with probability 1/2 (the two children are complementary), as TSearch's UNIFORM mode does. Settings (:class:`GASpec`) are kept apart from the evolving state, which
:meth:`GA.state_dict` captures completely, random generator included, so that a resumed run is
bitwise identical to an uninterrupted one.

References: R. D. Beer, TSearch (C++ search library used in his CTRNN agent studies);
J. E. Baker (1987), Reducing bias and inefficiency in the selection algorithm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from evorobot._types import FloatArray
from evorobot.evolution.base import PopulationOptimizer, worst_is_minus_inf
from evorobot.evolution.operators import (
    linear_rank_expectations,
    mutate,
    stochastic_universal_sampling,
    two_point_crossover,
    uniform_crossover,
)
from evorobot.spec import setting


@dataclass(frozen=True)
class GASpec:
    """Settings of the ``[optimizer]`` table for ``type = "ga"``."""

    population: int = setting(96, ge=2, doc="individuals per generation")
    mutation_variance: float = setting(
        0.05, gt=0, doc="variance (not s.d.) of the Gaussian mutation step length"
    )
    elite_fraction: float = setting(
        0.02, ge=0, le=1, doc="fraction of the best copied unchanged (rounded half up)"
    )
    max_expected_offspring: float = setting(
        1.1, ge=1, le=2, doc="offspring expected of the best under linear rank selection"
    )
    crossover_rate: float = setting(
        0.0, ge=0, le=1, doc="probability that a pair of parents is crossed over"
    )
    crossover: str = setting(
        "two_point", choices=("two_point", "uniform"),
        doc="two_point: swap one block of genes; uniform: each gene from either parent (TSearch offers both)",
    )


class GA(PopulationOptimizer):
    """Beer's TSearch GA on the optimizer contract (:mod:`evorobot.evolution.base`).

    The population is drawn uniformly in [-1, 1] at construction; :meth:`ask` returns it (elites
    first after the first generation). ``seed_population`` replaces it.
    """

    name: ClassVar[str] = "ga"
    Spec: ClassVar[type] = GASpec

    @property
    def n_elite(self) -> int:
        """``elite_fraction * P`` rounded half up (0.02 * 96 = 1.92 -> 2; 0.5 -> 1)."""
        size = self.spec.population
        return min(size, math.floor(self.spec.elite_fraction * size + 0.5))

    def _tell(self, genomes: FloatArray, fitness: FloatArray) -> None:
        f = worst_is_minus_inf(fitness)
        n_finite = int(np.isfinite(f).sum())
        # Non-finite counts as worst; a stable sort keeps ties in index order.
        order = np.argsort(-f, kind="stable")
        self.population = self._breed(order, min(self.n_elite, n_finite))

    def _breed(self, order: np.ndarray, n_elite: int) -> FloatArray:
        """Next population: ``n_elite`` elites, then rank-selected, crossed, mutated offspring."""
        size = self.spec.population
        ranked = self.population[order]
        n_children = size - n_elite
        expected = linear_rank_expectations(size, self.spec.max_expected_offspring)
        expected *= n_children / size
        parents = stochastic_universal_sampling(expected, n_children, self.rng)
        children = ranked[self.rng.permutation(parents)]
        if self.spec.crossover_rate > 0 and n_children >= 2:
            cross = uniform_crossover if self.spec.crossover == "uniform" else two_point_crossover
            crossed = self.rng.random(n_children // 2) < self.spec.crossover_rate
            for k in np.flatnonzero(crossed):
                i, j = 2 * k, 2 * k + 1
                children[i], children[j] = cross(children[i], children[j], self.rng)
        children = mutate(children, self.spec.mutation_variance, self.rng)
        return np.concatenate([ranked[:n_elite], children])
