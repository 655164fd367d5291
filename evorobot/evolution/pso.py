"""Particle swarm optimization (Kennedy & Eberhart 1995) with Clerc & Kennedy's constriction.

Each of the ``population`` particles has a position ``x`` (a genome), a velocity ``v``, and the
best position it has visited, ``p`` (its personal best, with that fitness). After each generation's
evaluation the personal bests are updated (strict improvement), each particle finds the best
personal best of its neighbourhood, ``n``, and moves (Clerc & Kennedy 2002, type 1''):

    v <- chi * (v + c1 r1 (p - x) + c2 r2 (n - x)),   x <- x + v

with ``r1``, ``r2`` uniform in [0, 1) drawn per gene, ``chi = 0.7298`` and ``c1 = c2 = 2.05``
(``phi = c1 + c2 = 4.1``, the constriction that makes the swarm converge without an inertia weight).
``topology = "ring"`` (the default) is the lbest ring: a particle's neighbours are the two next to it
in index order; ``"global"`` uses the best of the whole swarm. The ring is the standard of Bratton &
Kennedy (2007): it converges more slowly than the global best but is much less prone to premature
convergence, which matters more on evolutionary-robotics fitness landscapes than speed on a sphere.

Bounds: each velocity component is clamped to ``max_velocity * 2`` (a fraction of the gene range
[-1, 1]; the default 0.5 is Eberhart & Shi's Vmax = Xmax); a position leaving [-1, 1] is put back on
the wall and that velocity component is set to zero (an "absorbing" wall), so the particle is not
pushed out again at the next step and may leave the wall under the attraction of its bests.
Velocities start at zero (Engelbrecht 2012: random initial velocities mostly throw particles out
of the box); positions start uniform in [-1, 1], or at the genomes of ``seed_population``.

Adapted to the batched ask/tell contract: ``ask`` returns all the positions, one batched evaluation
per generation; the moves use the personal bests as updated by that generation (synchronous PSO).
Under noisy fitness a personal best keeps the fitness measured when it was found; it is not
re-evaluated (as in the original algorithm). Ties between bests go to the particle itself (ring)
or the lowest index (global); non-finite fitness never becomes a personal best. The state (positions,
velocities, personal bests and their fitness) resumes bit for bit.

References
----------
J. Kennedy & R. Eberhart (1995). Particle swarm optimization. Proceedings of ICNN'95, 1942-1948.
M. Clerc & J. Kennedy (2002). The particle swarm - explosion, stability, and convergence in a
multidimensional complex space. IEEE Transactions on Evolutionary Computation 6(1), 58-73.
R. C. Eberhart & Y. Shi (2000). Comparing inertia weights and constriction factors in particle
swarm optimization. Proceedings of CEC 2000, 84-88.
D. Bratton & J. Kennedy (2007). Defining a standard for particle swarm optimization. Proceedings of
the IEEE Swarm Intelligence Symposium 2007, 120-127.
A. P. Engelbrecht (2012). Particle swarm optimization: velocity initialization. Proceedings of CEC
2012, 1-8.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from evorobot._types import FloatArray, IntArray
from evorobot.evolution.base import GenomeLayout, Optimizer, get_bounded, get_fitness, worst_is_minus_inf
from evorobot.spec import setting

__all__ = ["ParticleSwarm", "ParticleSwarmSpec", "constricted_velocity", "move_within_walls",
           "neighbourhood_best"]


def constricted_velocity(v: FloatArray, x: FloatArray, pbest: FloatArray, nbest: FloatArray, r1: FloatArray,
                         r2: FloatArray, chi: float, c1: float, c2: float, vmax: float) -> FloatArray:
    """``clip(chi * (v + c1 r1 (pbest - x) + c2 r2 (nbest - x)), -vmax, vmax)``, element-wise."""
    return np.clip(chi * (v + c1 * r1 * (pbest - x) + c2 * r2 * (nbest - x)), -vmax, vmax)


def move_within_walls(x: FloatArray, v: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``x + v`` clipped to [-1, 1], and ``v`` with the components that hit a wall set to zero."""
    moved = x + v
    out = np.abs(moved) > 1.0
    return np.clip(moved, -1.0, 1.0), np.where(out, 0.0, v)


def neighbourhood_best(best_fitness: FloatArray, topology: str) -> IntArray:
    """For each particle, the index of the best personal best it sees: of the whole swarm
    (``"global"``, lowest index among equals), or of itself and its two ring neighbours (``"ring"``,
    itself first, then the previous, then the next among equals)."""
    f = worst_is_minus_inf(best_fitness)
    size = f.size
    if topology == "global":
        return np.full(size, int(np.argmax(f)), dtype=np.int64)
    i = np.arange(size)
    candidates = np.stack([i, (i - 1) % size, (i + 1) % size])  # (3, P), preference order
    return candidates[np.argmax(f[candidates], axis=0), i].astype(np.int64)


@dataclass(frozen=True)
class ParticleSwarmSpec:
    """Settings of the ``[optimizer]`` table for ``type = "pso"``."""

    population: int = setting(50, ge=1, doc="particles (Bratton & Kennedy's standard swarm: 50)")
    topology: str = setting("ring", choices=("ring", "global"),
                            doc="ring: each particle sees its two index neighbours (lbest); global: the whole swarm")
    chi: float = setting(0.7298, gt=0, le=1, doc="constriction coefficient (Clerc & Kennedy 2002)")
    c1: float = setting(2.05, ge=0, doc="acceleration towards the particle's own best")
    c2: float = setting(2.05, ge=0, doc="acceleration towards the neighbourhood's best")
    max_velocity: float = setting(0.5, gt=0, le=1,
                                  doc="velocity clamp per gene, a fraction of the gene range [-1, 1] (0.5: 1.0)")


class ParticleSwarm(Optimizer):
    """Constricted particle swarm on the optimizer contract (see the module docstring)."""

    name: ClassVar[str] = "pso"
    Spec: ClassVar[type] = ParticleSwarmSpec

    def __init__(self, spec: ParticleSwarmSpec, layout: GenomeLayout, seed: np.random.SeedSequence,
                 where: str = "[optimizer]") -> None:
        super().__init__(spec, layout, seed, where)
        shape = (spec.population, self.genome_size)
        self.position: FloatArray = self.rng.uniform(-1.0, 1.0, shape)
        self.velocity: FloatArray = np.zeros(shape)
        self.best: FloatArray = self.position.copy()
        self.best_fitness: FloatArray = np.full(spec.population, -np.inf)

    @property
    def vmax(self) -> float:
        """The velocity clamp in gene units (the range [-1, 1] is 2 wide)."""
        return 2.0 * self.spec.max_velocity

    def _ask(self) -> FloatArray:
        return self.position.copy()

    def _tell(self, genomes: FloatArray, fitness: FloatArray) -> None:
        s = self.spec
        f = worst_is_minus_inf(fitness)
        better = f > self.best_fitness
        self.best = np.where(better[:, None], genomes, self.best)
        self.best_fitness = np.where(better, f, self.best_fitness)
        nbest = self.best[neighbourhood_best(self.best_fitness, s.topology)]
        r1 = self.rng.random(genomes.shape)
        r2 = self.rng.random(genomes.shape)
        v = constricted_velocity(self.velocity, genomes, self.best, nbest, r1, r2, s.chi, s.c1, s.c2, self.vmax)
        self.position, self.velocity = move_within_walls(genomes, v)

    def _seed(self, genomes: FloatArray) -> None:
        self.position = genomes.copy()
        self.best = genomes.copy()

    def _state(self) -> dict[str, Any]:
        return {"position": self.position.copy(), "velocity": self.velocity.copy(), "best": self.best.copy(),
                "best_fitness": self.best_fitness.copy()}

    def _load(self, state: dict[str, Any], where: str) -> None:
        shape = (self.spec.population, self.genome_size)
        self.position = get_bounded(state, "position", shape, where)
        self.velocity = get_bounded(state, "velocity", shape, where, bound=self.vmax)
        self.best = get_bounded(state, "best", shape, where)
        self.best_fitness = get_fitness(state, "best_fitness", self.spec.population, where)
