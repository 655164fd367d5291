"""Enforced SubPopulations, ESP (Gomez & Miikkulainen 1999), in ask/tell form.

ESP coevolves neurons: one subpopulation of ``subpopulation`` individuals per neuron of the
network, an individual being that neuron's chromosome (its genes, as the controller declares them
in :meth:`~evorobot.controllers.base.Controller.gene_groups`: for a hidden neuron, its input,
recurrent and outgoing weights and its bias). Each generation:

1. ``population`` networks are assembled, each from one individual of every subpopulation
   (:func:`assemble`), and evaluated (one batched :meth:`~ESP.ask`);
2. each individual's fitness is the **mean** fitness of the networks it took part in (the
   paper's average; :func:`attribute`);
3. in each subpopulation, sorted by that fitness, the top quarter recombines (one-point crossover
   within the neuron's chromosome, each parent with a random higher-ranking one) and the
   children, mutated with Cauchy noise (probability ``mutation_rate`` per gene, scale
   ``mutation_scale``; :func:`~evorobot.evolution.cosyne.recombine`), replace the bottom half
   (twice the top quarter);
4. burst mutation (Gomez 2003): when the best network fitness has not improved for
   ``stagnation`` generations, every subpopulation is re-created around its piece of the best
   network found so far: individual 0 is that piece, the others that piece plus Cauchy noise of
   scale ``burst_scale`` on every gene (clipped to [-1, 1]).

Adapted to the batched contract, and why:

- Trials per individual. In the paper each neuron takes part in about 10 networks per generation,
  picked at random. Here ``population`` must be a multiple of ``subpopulation``: each
  subpopulation is drawn ``population / subpopulation`` times as a random permutation, so every
  individual takes part in exactly that many networks (the defaults, 120 and 12, give the
  paper's 10) and none is left unevaluated. The assembly of the next generation is drawn at the
  end of each tell and kept in the state, so that ``ask`` is a pure function of the state.
- The rest group. Genes of no neuron (output biases, a sensor morphology) form one more
  subpopulation, evolved exactly like a neuron's. ESP refuses a layout without groups.
- A failed network (non-finite fitness) counts as ``-inf``, so an individual that took part in
  one has mean ``-inf`` and ranks last (ties in index order).
- Burst mutation re-centres on the best network's pieces (Gomez's thesis); ESP's adaptation of
  the number of neurons after repeated bursts is left out: the genome has a fixed size.
- Genes live in [-1, 1]: mutated genes are clipped there. ``seed_population`` takes the first
  ``subpopulation`` given genomes as individuals ``0 .. subpopulation - 1`` of every subpopulation.

The state is the ``(subpopulation, G)`` matrix whose row ``k`` holds, for each group, individual
``k`` of that group's subpopulation; the next assembly; the best network and its fitness; the
stagnation counter; and the random generator: a resumed run is bitwise identical.

References
----------
F. Gomez & R. Miikkulainen (1999). Solving non-Markovian control tasks with neuroevolution.
Proceedings of IJCAI 1999, 1356-1361.
F. Gomez (2003). Robust non-linear control through neuroevolution. PhD thesis, University of
Texas at Austin (burst mutation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from evorobot._types import FloatArray, IntArray
from evorobot.errors import ChampionFileError, ConfigError
from evorobot.evolution.base import (
    GenomeLayout,
    Optimizer,
    get_array,
    get_bounded,
    get_fitness,
    get_int,
    worst_is_minus_inf,
)
from evorobot.evolution.cosyne import recombine
from evorobot.spec import setting

__all__ = ["ESP", "ESPSpec", "assemble", "attribute", "compose"]


@dataclass(frozen=True)
class ESPSpec:
    """Settings of the ``[optimizer]`` table for ``type = "esp"``."""

    population: int = setting(120, ge=4, doc="networks per generation (a multiple of `subpopulation`)")
    subpopulation: int = setting(12, ge=4, doc="individuals per neuron's subpopulation")
    mutation_rate: float = setting(0.1, ge=0, le=1, doc="probability that a child's gene gets Cauchy noise")
    mutation_scale: float = setting(0.05, gt=0, doc="scale of the children's Cauchy noise (genes span [-1, 1])")
    stagnation: int = setting(20, ge=1, doc="generations without a better network before a burst mutation")
    burst_scale: float = setting(0.1, gt=0, doc="scale of the Cauchy noise around the best network in a burst")

    def validate(self, where: str) -> None:
        """Cross-key checks (called by :func:`evorobot.spec.parse`)."""
        if self.population % self.subpopulation:
            raise ConfigError(f"{where}: `population` ({self.population}) must be a multiple of `subpopulation` "
                              f"({self.subpopulation}), so that every individual takes part in as many networks")


def assemble(n_groups: int, subpopulation: int, population: int, rng: np.random.Generator) -> IntArray:
    """Which individual of each subpopulation every network takes: ``(population, n_groups)``.

    Column ``g`` is ``population / subpopulation`` random permutations of ``0 .. subpopulation - 1``
    one after the other, so each individual appears exactly that many times. Draws one
    ``(n_groups, population)`` array of uniforms.
    """
    if subpopulation < 1 or population % subpopulation:
        raise ValueError(f"population {population} is not a multiple of subpopulation {subpopulation}")
    r = population // subpopulation
    keys = rng.random((n_groups, r, subpopulation))
    return np.argsort(keys, axis=2, kind="stable").reshape(n_groups, population).T.astype(np.int64)


def compose(individuals: FloatArray, groups: Sequence[IntArray], assignment: IntArray) -> FloatArray:
    """Genomes ``(P, G)``: network ``n`` takes the genes ``groups[g]`` from row ``assignment[n, g]``
    of ``individuals`` ``(subpopulation, G)``."""
    ind = np.asarray(individuals, dtype=np.float64)
    out = np.empty((assignment.shape[0], ind.shape[1]))
    for g, idx in enumerate(groups):
        out[:, idx] = ind[assignment[:, g]][:, idx]
    return out


def attribute(assignment: IntArray, fitness: FloatArray, subpopulation: int) -> FloatArray:
    """Mean fitness ``(subpopulation, n_groups)`` of the networks each individual took part in;
    ``-inf`` for an individual in none or in a failed (non-finite) one."""
    f = worst_is_minus_inf(fitness)
    out = np.full((subpopulation, assignment.shape[1]), -np.inf)
    for g in range(assignment.shape[1]):
        col = assignment[:, g]
        count = np.bincount(col, minlength=subpopulation)
        total = np.bincount(col, weights=f, minlength=subpopulation)
        np.divide(total, count, out=out[:, g], where=count > 0)
    return out


class ESP(Optimizer):
    """ESP on the optimizer contract (see the module docstring); needs ``layout.groups``.

    The individuals start uniform in [-1, 1].
    """

    name: ClassVar[str] = "esp"
    Spec: ClassVar[type] = ESPSpec

    def __init__(self, spec: ESPSpec, layout: GenomeLayout, seed: np.random.SeedSequence,
                 where: str = "[optimizer]") -> None:
        super().__init__(spec, layout, seed, where)
        if layout.groups is None:
            raise ConfigError(f"{where}: optimizer `esp` needs the controller's neuron gene groups; "
                              f"this controller declares none (use another optimizer)")
        spec.validate(where)
        self.groups: tuple[IntArray, ...] = tuple(np.asarray(g, dtype=np.int64) for g in layout.groups)
        self.individuals: FloatArray = self.rng.uniform(-1.0, 1.0, (spec.subpopulation, self.genome_size))
        self.assignment: IntArray = self._assemble()
        self.best_genome: FloatArray = self.individuals[0].copy()
        self.best_fitness = -np.inf
        self.stagnation = 0

    @property
    def n_parents(self) -> int:
        """The top quarter of a subpopulation (at least 1); their children replace twice as many."""
        return max(1, self.spec.subpopulation // 4)

    def _assemble(self) -> IntArray:
        return assemble(len(self.groups), self.spec.subpopulation, self.spec.population, self.rng)

    def _ask(self) -> FloatArray:
        return compose(self.individuals, self.groups, self.assignment)

    def _tell(self, genomes: FloatArray, fitness: FloatArray) -> None:
        f = worst_is_minus_inf(fitness)
        best = int(np.argmax(f))
        if f[best] > self.best_fitness:  # -inf never beats the initial -inf
            self.best_fitness, self.best_genome, self.stagnation = float(f[best]), genomes[best].copy(), 0
        else:
            self.stagnation += 1
        if self.stagnation >= self.spec.stagnation:
            self._burst()
            self.stagnation = 0
        else:
            self._breed(attribute(self.assignment, f, self.spec.subpopulation))
        self.assignment = self._assemble()

    def _breed(self, merit: FloatArray) -> None:
        """Per subpopulation: sort by ``merit`` (stable), children of the top quarter replace the
        bottom of the ranking."""
        s = self.spec
        keep = s.subpopulation - 2 * self.n_parents
        for g, idx in enumerate(self.groups):
            ranked = self.individuals[np.argsort(-merit[:, g], kind="stable")][:, idx]
            children = recombine(ranked, self.n_parents, s.mutation_rate, s.mutation_scale, self.rng)
            self.individuals[:, idx] = np.concatenate([ranked[:keep], children])

    def _burst(self) -> None:
        """Re-create every subpopulation around its piece of the best network (Gomez 2003)."""
        noise = self.rng.standard_cauchy((self.spec.subpopulation - 1, self.genome_size))
        around = np.clip(self.best_genome + self.spec.burst_scale * noise, -1.0, 1.0)
        self.individuals = np.concatenate([self.best_genome[None, :], around])

    def _seed(self, genomes: FloatArray) -> None:
        self.individuals = genomes[: self.spec.subpopulation].copy()

    def _state(self) -> dict[str, Any]:
        return {"individuals": self.individuals.copy(), "assignment": self.assignment.astype(np.float64),
                "best_genome": self.best_genome.copy(), "best_fitness": np.array([self.best_fitness]),
                "stagnation": self.stagnation}

    def _load(self, state: dict[str, Any], where: str) -> None:
        s, g = self.spec, self.genome_size
        self.individuals = get_bounded(state, "individuals", (s.subpopulation, g), where)
        a = get_array(state, "assignment", (s.population, len(self.groups)), where)
        if not (np.all(a == np.round(a)) and np.all((a >= 0) & (a < s.subpopulation))):
            raise ChampionFileError(f"{where}: optimizer state `assignment` must hold individual indices "
                                    f"0..{s.subpopulation - 1}")
        self.assignment = a.astype(np.int64)
        self.best_genome = get_bounded(state, "best_genome", (g,), where)
        self.best_fitness = float(get_fitness(state, "best_fitness", 1, where)[0])
        self.stagnation = get_int(state, "stagnation", where)
