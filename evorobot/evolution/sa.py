"""Simulated annealing (Kirkpatrick, Gelatt & Vecchi 1983) as a batch of independent chains.

Each of the ``population`` chains holds a current point and its fitness (maximised). A move
proposes a neighbour, every gene plus a Gaussian step of standard deviation ``step`` (clipped to
[-1, 1]), and the Metropolis rule decides: a proposal at least as fit as the current point is
accepted; a worse one with probability ``exp((f' - f) / T)``. The temperature cools geometrically,
``T <- cooling * T`` after every move; ``initial_temperature = 0`` makes each chain a stochastic
hill climber. ``T`` is in fitness units: choose it from the fitness differences of typical moves.

Adapted to the batched ask/tell contract: one generation is one move of every chain, so the
proposals of all chains are one batched evaluation. The first generation evaluates the initial
points themselves (a chain needs its current fitness); every later generation asks the proposals.
After ``k`` moves ``T = initial_temperature * cooling**k``.

Adapted for continuous genomes: the step shrinks with the temperature, ``step * step_decay**k``
after ``k`` moves. The paper anneals discrete configurations whose moves have a fixed size; with a
fixed Gaussian step a chain on a continuous problem wanders at the scale of the step however cold
it gets, and could not settle closer to an optimum than that (``step_decay = 1`` keeps it fixed).

A chain whose current fitness is not finite (a failed trial, or the first generation's) accepts
any proposal; a failed proposal (non-finite fitness) is never accepted by a chain with a finite
fitness. Under noisy fitness the current point keeps the value measured when it was accepted and
is not evaluated again (standard SA): a lucky measurement can hold a chain for a while, and the
temperature lets the chain leave it.

The chains start uniform in [-1, 1]; ``seed_population`` starts them at the given genomes. The
state (current points and fitness) resumes bit for bit; ``T`` and the step follow from the
generation count.

References
----------
S. Kirkpatrick, C. D. Gelatt & M. P. Vecchi (1983). Optimization by simulated annealing. Science
220(4598), 671-680.
N. Metropolis, A. W. Rosenbluth, M. N. Rosenbluth, A. H. Teller & E. Teller (1953). Equation of
state calculations by fast computing machines. Journal of Chemical Physics 21(6), 1087-1092.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from evorobot._types import BoolArray, FloatArray
from evorobot.evolution.base import GenomeLayout, Optimizer, get_bounded, get_fitness, worst_is_minus_inf
from evorobot.evolution.operators import creep
from evorobot.spec import setting

__all__ = ["SimulatedAnnealing", "SimulatedAnnealingSpec", "metropolis_accept"]


def metropolis_accept(current: FloatArray, proposed: FloatArray, temperature: float,
                      u: FloatArray) -> BoolArray:
    """Metropolis acceptance for maximisation, given uniforms ``u`` in [0, 1): accept where the
    current fitness is not finite, where ``proposed >= current``, or where
    ``u < exp((proposed - current) / temperature)`` (never when ``temperature`` is 0)."""
    cur = worst_is_minus_inf(current)
    new = worst_is_minus_inf(proposed)
    known = np.isfinite(cur)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        delta = np.where(known, new - cur, 0.0)
        chance = np.exp(delta / temperature) if temperature > 0 else np.zeros_like(delta)
    return ~known | (new >= cur) | (u < chance)


@dataclass(frozen=True)
class SimulatedAnnealingSpec:
    """Settings of the ``[optimizer]`` table for ``type = "sa"``."""

    population: int = setting(16, ge=1, doc="independent chains, each one move per generation")
    initial_temperature: float = setting(
        0.01, ge=0, doc="T of the first move, in fitness units; 0: accept only moves that are no worse")
    cooling: float = setting(0.99, gt=0, le=1, doc="T <- cooling * T after every move")
    step: float = setting(0.05, ge=0, doc="standard deviation of the Gaussian step of each gene at the first move")
    step_decay: float = setting(0.999, gt=0, le=1, doc="step <- step_decay * step after every move; 1: fixed")


class SimulatedAnnealing(Optimizer):
    """Independent simulated-annealing chains on the optimizer contract (see the module docstring)."""

    name: ClassVar[str] = "sa"
    Spec: ClassVar[type] = SimulatedAnnealingSpec

    def __init__(self, spec: SimulatedAnnealingSpec, layout: GenomeLayout, seed: np.random.SeedSequence,
                 where: str = "[optimizer]") -> None:
        super().__init__(spec, layout, seed, where)
        self.current: FloatArray = self.rng.uniform(-1.0, 1.0, (spec.population, self.genome_size))
        self.fitness: FloatArray = np.full(spec.population, -np.inf)  # not known before the first tell

    @property
    def moves(self) -> int:
        """Moves made so far (the first generation evaluates the starting points)."""
        return max(self.generation - 1, 0)

    @property
    def temperature(self) -> float:
        """The temperature of the next move."""
        return float(self.spec.initial_temperature * self.spec.cooling ** self.moves)

    @property
    def step(self) -> float:
        """The per-gene standard deviation of the next move's step."""
        return float(self.spec.step * self.spec.step_decay ** self.moves)

    def _ask(self) -> FloatArray:
        if self.generation == 0:
            return self.current.copy()
        return creep(self.current, self.step, 1.0, self.rng)

    def _tell(self, genomes: FloatArray, fitness: FloatArray) -> None:
        f = worst_is_minus_inf(fitness)
        if self.generation == 0:
            self.current, self.fitness = genomes.copy(), f
            return
        accept = metropolis_accept(self.fitness, f, self.temperature, self.rng.random(f.size))
        self.current = np.where(accept[:, None], genomes, self.current)
        self.fitness = np.where(accept, f, self.fitness)

    def _seed(self, genomes: FloatArray) -> None:
        self.current = genomes.copy()

    def _state(self) -> dict[str, Any]:
        return {"current": self.current.copy(), "current_fitness": self.fitness.copy()}

    def _load(self, state: dict[str, Any], where: str) -> None:
        p = self.spec.population
        self.current = get_bounded(state, "current", (p, self.genome_size), where)
        self.fitness = get_fitness(state, "current_fitness", p, where)
