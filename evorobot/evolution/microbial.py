"""Harvey's microbial GA in ask/tell form.

The microbial GA (Harvey 2009) keeps a population on a ring. A tournament picks an individual and a
second one within ``deme`` places of it on the ring (the paper's deme size), compares their fitness
(maximised), and the loser is overwritten in place: each of its genes is replaced by the winner's
with probability ``recombination`` ("infection"), then each gene mutates with probability
``mutation_rate``. The winner is unchanged, so a good genome is only lost by losing a tournament
(an implicit elitism). The paper's genes are bits and mutation flips them; genes here are real, and
a mutation is a Gaussian creep of standard deviation ``mutation_std``, clipped to [-1, 1].

Adapted to the batched ask/tell contract: the paper is steady state (one tournament at a time,
each evaluation immediately used). Here one generation is ``population / 2`` tournaments between
disjoint pairs, so that every individual fights exactly once and the whole generation is one
batched evaluation (hence ``population`` must be even). The pairs respect the demes: the ring is
cut, from a random offset, into blocks of about ``deme + 1`` places, each paired at random so that
both members of a pair lie within ``deme`` places of each other (:func:`ring_pairs`); the offset
moves the blocks every generation, so genes still flow round the ring. ``ask`` returns the whole
population every generation (winners unchanged, losers changed) and everyone is evaluated again:
under noisy fitness (new trial conditions each generation) a tournament thus compares two fresh
measurements, as the paper's tournaments evaluate both contestants, instead of trusting a winner's
lucky old score; on a deterministic task this costs the winners' re-evaluations. Ties go to the
first member of the (randomly ordered) pair; non-finite fitness loses to every finite one.

The population starts uniform in [-1, 1]; ``seed_population`` replaces it. The state is the
population (and the random generator), so a resumed run is bitwise identical.

References
----------
I. Harvey (2009). The microbial genetic algorithm. In Advances in Artificial Life, ECAL 2009,
LNCS 5778, 126-133. Springer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from evorobot._types import FloatArray, IntArray
from evorobot.errors import ConfigError
from evorobot.evolution.base import GenomeLayout, PopulationOptimizer, worst_is_minus_inf
from evorobot.evolution.operators import creep
from evorobot.spec import setting

__all__ = ["MicrobialGA", "MicrobialSpec", "microbial_tournaments",
           "ring_pairs"]


# -- helpers shared with sa.py and pso.py ------------------------------------------------------


# -- the microbial GA --------------------------------------------------------------------------


def ring_pairs(size: int, deme: int, rng: np.random.Generator) -> IntArray:
    """``size / 2`` disjoint pairs covering ``range(size)`` (shape ``(size / 2, 2)``), the two
    members of each pair within ring distance ``deme`` of each other, every distance from 1 to
    ``deme`` possible.

    From a random offset the ring is cut into consecutive blocks of ``L = min(size, the smallest
    even number > deme)`` places (the last block takes the even remainder) and each block is paired
    at random. When ``L = deme + 2`` a block's two ends are too far apart: if they were paired
    together, they swap partners with the next pair of the block. Draws one integer, then one
    permutation per block.
    """
    if size < 2 or size % 2:
        raise ValueError(f"size must be even and >= 2, got {size}")
    if deme < 1:
        raise ValueError(f"deme must be >= 1, got {deme}")
    block = min(size, deme + 1 if deme % 2 else deme + 2)
    places = (int(rng.integers(size)) + np.arange(size)) % size
    pairs = []
    for start in range(0, size, block):
        n = min(block, size - start)
        local = rng.permutation(n).reshape(-1, 2)
        if n == deme + 2 and n < size:
            k = int(np.flatnonzero((local == 0).any(axis=1))[0])
            if local[k].max() == n - 1:  # the two ends, deme + 1 apart
                other = local[(k + 1) % len(local)].copy()
                local[k], local[(k + 1) % len(local)] = (0, other[0]), (n - 1, other[1])
        pairs.append(places[start + local])
    return np.concatenate(pairs).astype(np.int64)


def microbial_tournaments(population: FloatArray, fitness: FloatArray, pairs: IntArray, recombination: float,
                          mutation_rate: float, mutation_std: float, rng: np.random.Generator) -> FloatArray:
    """The population after one tournament per row of ``pairs``: each loser takes every gene of
    its winner with probability ``recombination``, then :func:`creep` mutates it. The first of a
    pair wins ties; non-finite fitness is worst. Returns a new array."""
    f = worst_is_minus_inf(fitness)
    first, second = pairs[:, 0], pairs[:, 1]
    first_wins = f[first] >= f[second]
    winners = np.where(first_wins, first, second)
    losers = np.where(first_wins, second, first)
    infected = rng.random((losers.size, population.shape[1])) < recombination
    children = np.where(infected, population[winners], population[losers])
    out = population.copy()
    out[losers] = creep(children, mutation_std, mutation_rate, rng)
    return out


@dataclass(frozen=True)
class MicrobialSpec:
    """Settings of the ``[optimizer]`` table for ``type = "microbial"``."""

    population: int = setting(96, ge=2, doc="individuals on the ring, even: population / 2 tournaments per generation")
    deme: int = setting(5, ge=1, doc="the two contestants lie within this many places of each other on the ring")
    recombination: float = setting(0.5, ge=0, le=1, doc="probability that the loser takes each gene of the winner")
    mutation_rate: float = setting(0.1, ge=0, le=1, doc="probability that each gene of the loser mutates")
    mutation_std: float = setting(0.1, ge=0, doc="standard deviation of the Gaussian creep of a mutated gene")

    def validate(self, where: str) -> None:
        """Disjoint pairs need an even population."""
        if self.population % 2:
            raise ConfigError(f"{where}: `population` must be even (disjoint pairs), got {self.population}")


class MicrobialGA(PopulationOptimizer):
    """Harvey's microbial GA on the optimizer contract (see the module docstring)."""

    name: ClassVar[str] = "microbial"
    Spec: ClassVar[type] = MicrobialSpec

    def __init__(self, spec: MicrobialSpec, layout: GenomeLayout, seed: np.random.SeedSequence,
                 where: str = "[optimizer]") -> None:
        spec.validate(where)
        super().__init__(spec, layout, seed, where)

    def _tell(self, genomes: FloatArray, fitness: FloatArray) -> None:
        s = self.spec
        pairs = ring_pairs(s.population, s.deme, self.rng)
        self.population = microbial_tournaments(genomes, fitness, pairs, s.recombination, s.mutation_rate,
                                                s.mutation_std, self.rng)
