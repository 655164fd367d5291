"""Beer's real-valued generational GA (the TSearch library), in ask/tell form.

Genes lie in [-1, 1] and start uniform. Each generation the population is sorted by fitness
(maximised); an elite is copied unchanged; the other places are filled from parents drawn by
linear rank selection (the best expects ``max_expected_offspring`` offspring, the worst
``2 - max_expected_offspring``) with stochastic universal sampling (Baker 1987), optionally
crossed over in pairs, then mutated along a random unit direction by a Gaussian step whose
*variance* is ``mutation_variance`` (:func:`~evorobot.evolution.operators.mutate`).

Non-finite fitness (a trial that blew up) ranks below every finite one and never becomes the best
or an elite. Settings (:class:`GASpec`) are kept apart from the evolving state, which
:meth:`GA.state_dict` captures completely, random generator included, so that a resumed run is
bitwise identical to an uninterrupted one.

References: R. D. Beer, TSearch (C++ search library used in his CTRNN agent studies);
J. E. Baker (1987), Reducing bias and inefficiency in the selection algorithm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from evorobot._types import FloatArray
from evorobot.errors import ChampionFileError
from evorobot.evolution.operators import (
    linear_rank_expectations,
    mutate,
    stochastic_universal_sampling,
    two_point_crossover,
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
        0.0, ge=0, le=1, doc="probability that a pair of parents swaps a block of genes"
    )


class GA:
    """Beer's TSearch GA: ``ask()`` the ``(P, G)`` genomes, ``tell(fitness)`` their fitness.

    ``best_genome`` / ``best_fitness`` hold the best individual ever evaluated (``None`` and
    ``-inf`` until a finite fitness has been told); ``generation`` counts completed tells.
    """

    name: ClassVar[str] = "ga"
    Spec: ClassVar[type] = GASpec

    def __init__(self, spec: GASpec, genome_size: int, seed: np.random.SeedSequence) -> None:
        if genome_size < 1:
            raise ValueError(f"genome_size must be >= 1, got {genome_size}")
        self.spec = spec
        self.genome_size = int(genome_size)
        self.rng = np.random.Generator(np.random.PCG64(seed))
        self.population: FloatArray = self.rng.uniform(-1.0, 1.0, (spec.population, genome_size))
        self.generation = 0
        self.best_genome: FloatArray | None = None
        self.best_fitness = -math.inf

    @property
    def n_elite(self) -> int:
        """``elite_fraction * P`` rounded half up (0.02 * 96 = 1.92 -> 2; 0.5 -> 1)."""
        size = self.spec.population
        return min(size, math.floor(self.spec.elite_fraction * size + 0.5))

    def ask(self) -> FloatArray:
        """A copy of the current ``(P, G)`` population, genes in [-1, 1], to be evaluated."""
        return self.population.copy()

    def tell(self, fitness: FloatArray) -> dict[str, Any]:
        """Record the fitness (maximised) of the asked population and breed the next one.

        Returns ``{"best", "mean", "std", "failed", "best_index"}`` over the finite values:
        ``failed`` counts NaN/inf entries; when none is finite the statistics are NaN and
        ``best_index`` is -1. Evolution proceeds either way.
        """
        f = np.asarray(fitness, dtype=np.float64)
        size = self.spec.population
        if f.shape != (size,):
            raise ValueError(f"fitness must have shape ({size},), got {f.shape}")
        finite = np.isfinite(f)
        n_finite = int(finite.sum())
        # Non-finite counts as worst; a stable sort keeps ties in index order.
        order = np.argsort(-np.where(finite, f, -np.inf), kind="stable")
        if n_finite:
            best_index = int(order[0])
            values = f[finite]
            stats = {
                "best": float(f[best_index]),
                "mean": float(values.mean()),
                "std": float(values.std()),
                "failed": size - n_finite,
                "best_index": best_index,
            }
            if f[best_index] > self.best_fitness:
                self.best_fitness = float(f[best_index])
                self.best_genome = self.population[best_index].copy()
        else:
            nan = float("nan")
            stats = {"best": nan, "mean": nan, "std": nan, "failed": size, "best_index": -1}
        self.population = self._breed(order, min(self.n_elite, n_finite))
        self.generation += 1
        return stats

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
            crossed = self.rng.random(n_children // 2) < self.spec.crossover_rate
            for k in np.flatnonzero(crossed):
                i, j = 2 * k, 2 * k + 1
                children[i], children[j] = two_point_crossover(children[i], children[j], self.rng)
        children = mutate(children, self.spec.mutation_variance, self.rng)
        return np.concatenate([ranked[:n_elite], children])

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue bit for bit; the spec is not included.

        Keys: ``population`` ((P, G) array), ``best_genome`` ((G,) array or None), ``generation``
        (int), ``best_fitness`` (float or None while nothing finite has been told) and
        ``rng_state`` (the PCG64 ``bit_generator.state``, a JSON-ready dict of ints).
        Everything but the arrays is JSON-serialisable, with no NaN or infinity.
        """
        state = self.rng.bit_generator.state
        return {
            "population": self.population.copy(),
            "best_genome": None if self.best_genome is None else self.best_genome.copy(),
            "generation": self.generation,
            "best_fitness": self.best_fitness if math.isfinite(self.best_fitness) else None,
            "rng_state": {
                "bit_generator": state["bit_generator"],
                "state": {k: int(v) for k, v in state["state"].items()},
                "has_uint32": int(state["has_uint32"]),
                "uinteger": int(state["uinteger"]),
            },
        }

    @classmethod
    def from_state_dict(cls, spec: GASpec, genome_size: int, state: dict[str, Any]) -> GA:
        """Rebuild a GA from :meth:`state_dict`; raise ChampionFileError if it does not fit."""
        ga = cls(spec, genome_size, np.random.SeedSequence(0))
        try:
            population = np.array(state["population"], dtype=np.float64)
            best = state["best_genome"]
            best_genome = None if best is None else np.array(best, dtype=np.float64)
            best_fitness = state["best_fitness"]
            generation = state["generation"]
            rng_state = state["rng_state"]
        except (KeyError, TypeError, ValueError) as exc:
            raise ChampionFileError(f"GA checkpoint state is malformed: {exc!r}") from None
        if population.shape != (spec.population, genome_size):
            raise ChampionFileError(
                f"GA checkpoint population has shape {population.shape}, "
                f"expected ({spec.population}, {genome_size})"
            )
        if (best_genome is None) != (best_fitness is None) or (
            best_genome is not None and best_genome.shape != (genome_size,)
        ):
            raise ChampionFileError("GA checkpoint best_genome and best_fitness do not match")
        is_int = isinstance(generation, (int, np.integer)) and not isinstance(generation, bool)
        if not is_int or generation < 0:
            raise ChampionFileError(
                f"GA checkpoint generation must be an integer >= 0, got {generation!r}"
            )
        if not isinstance(rng_state, dict) or rng_state.get("bit_generator") != "PCG64":
            raise ChampionFileError("GA checkpoint rng_state is not a PCG64 state")
        try:
            ga.rng.bit_generator.state = rng_state
        except (KeyError, TypeError, ValueError) as exc:
            raise ChampionFileError(f"GA checkpoint rng_state is malformed: {exc!r}") from None
        ga.population = population
        ga.generation = int(generation)
        ga.best_genome = best_genome
        ga.best_fitness = -math.inf if best_fitness is None else float(best_fitness)
        return ga
