"""Cooperative Synapse Neuroevolution, CoSyNE (Gomez, Schmidhuber & Miikkulainen 2008), ask/tell.

CoSyNE coevolves one subpopulation per gene (per synaptic weight). The population is a ``(P, G)``
matrix: column ``i`` is the subpopulation of gene ``i``, row ``j`` the network (genome) made of
the ``j``-th entry of every column. Each generation (the paper's Algorithm 1):

1. the ``P`` rows are evaluated (one batched :meth:`~CoSyNE.ask`) and sorted by fitness;
2. the top quarter (``elite_fraction``) is recombined: each parent of rank ``r`` mates with a
   random parent of higher rank (the best with a random other parent), one-point crossover
   giving two children, and each child's genes are mutated with probability ``mutation_rate``
   by Cauchy-distributed noise of scale ``mutation_scale``; the ``l = 2 q`` children replace the
   ``l`` worst rows;
3. probabilistic permutation: in the evaluated rows that survive, each entry ``x_ij`` is marked
   with probability (the paper's Eq. 1)::

       p_j = 1 - ((f_j - f_min) / (f_max - f_min)) ** (1 / G)

   where ``f_j`` is the fitness of the network (row) that held it and ``f_min``, ``f_max`` are
   the extremes of the generation. The ``1/G`` root makes the chance that no gene of row ``j``
   is marked, ``(1 - p_j) ** G``, equal to its normalised fitness: the best row stays whole, the
   worst is dispersed. The marked entries of each column are then shuffled among themselves
   (:func:`permute_marked`), so a gene moves to another network of the same subpopulation.

Adapted to the batched contract, and why:

- The children are not permuted: the marking needs a fitness and the children have none yet
  (our reading of Algorithm 1, where permutation runs over the evaluated survivors). The matrix
  asked next is the permuted survivors (best first) then the children.
- Non-finite fitness (a failed trial) counts as ``f_min`` (``p = 1``), and ``f_min``/``f_max``
  are taken over the finite values; when they are equal, every finite row counts as the best
  (``p = 0``): without fitness differences nothing is dispersed.
- Genes live in [-1, 1]: mutated genes are clipped there. Crossover is one-point (the paper
  leaves the operator open; ESP uses one-point) and mating is ESP's "with a higher-ranking
  parent". The pure operators here (:func:`one_point_crossover`, :func:`cauchy_mutation`,
  :func:`recombine`) are shared with :mod:`evorobot.evolution.esp`.
- ``seed_population`` takes the given genomes as the matrix. The state (the matrix and the random
  generator) resumes bit for bit.

References
----------
F. Gomez, J. Schmidhuber & R. Miikkulainen (2008). Accelerated neural evolution through
cooperatively coevolved synapses. Journal of Machine Learning Research 9, 937-965.
F. Gomez & R. Miikkulainen (1999). Solving non-Markovian control tasks with neuroevolution.
Proceedings of IJCAI 1999, 1356-1361.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from evorobot._types import BoolArray, FloatArray
from evorobot.evolution.base import PopulationOptimizer, worst_is_minus_inf
from evorobot.spec import setting

__all__ = ["CoSyNE", "CoSyNESpec", "cauchy_mutation", "mark_for_permutation", "one_point_crossover",
           "permutation_probability", "permute_marked", "recombine"]


@dataclass(frozen=True)
class CoSyNESpec:
    """Settings of the ``[optimizer]`` table for ``type = "cosyne"``."""

    population: int = setting(40, ge=4, doc="networks per generation (entries per gene subpopulation)")
    elite_fraction: float = setting(
        0.25, gt=0, le=0.5, doc="fraction recombined (the top quarter); twice as many worst rows are replaced"
    )
    mutation_rate: float = setting(0.3, ge=0, le=1, doc="probability that a child's gene gets Cauchy noise")
    mutation_scale: float = setting(0.05, gt=0, doc="scale of the Cauchy noise (genes span [-1, 1])")


def one_point_crossover(a: FloatArray, b: FloatArray, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """Two children of parents ``a``, ``b`` (shape ``(L,)``), swapping the genes after a cut drawn
    uniformly in ``1 .. L - 1``; with ``L < 2`` (no cut possible) copies, drawing nothing."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.size < 2:
        return a.copy(), b.copy()
    cut = int(rng.integers(1, a.size))
    return np.concatenate([a[:cut], b[cut:]]), np.concatenate([b[:cut], a[cut:]])


def cauchy_mutation(genes: FloatArray, rate: float, scale: float, rng: np.random.Generator) -> FloatArray:
    """Each gene, with probability ``rate``, plus ``scale`` times a standard Cauchy draw; clipped
    to [-1, 1]. Draws a uniform and a Cauchy variate per gene whatever ``rate`` is."""
    g = np.asarray(genes, dtype=np.float64)
    hit = rng.random(g.shape) < rate
    noise = rng.standard_cauchy(g.shape)
    return np.clip(np.where(hit, g + scale * noise, g), -1.0, 1.0)


def recombine(ranked: FloatArray, n_parents: int, rate: float, scale: float,
              rng: np.random.Generator) -> FloatArray:
    """Children ``(2 n_parents, L)`` of the first ``n_parents`` rows of ``ranked`` (best first).

    Parent ``r`` mates with a parent of higher rank drawn uniformly from ``0 .. r - 1`` (the best
    with one of ``1 .. n_parents - 1``, or itself when alone); :func:`one_point_crossover` gives
    children ``2r`` and ``2r + 1``; then :func:`cauchy_mutation` on every child.
    """
    ranked = np.asarray(ranked, dtype=np.float64)
    if not 1 <= n_parents <= ranked.shape[0]:
        raise ValueError(f"n_parents must be in 1..{ranked.shape[0]}, got {n_parents}")
    children = np.empty((2 * n_parents, ranked.shape[1]))
    for r in range(n_parents):
        if r > 0:
            mate = int(rng.integers(0, r))
        else:
            mate = int(rng.integers(1, n_parents)) if n_parents > 1 else 0
        children[2 * r], children[2 * r + 1] = one_point_crossover(ranked[r], ranked[mate], rng)
    return cauchy_mutation(children, rate, scale, rng)


def permutation_probability(fitness: FloatArray, n_genes: int) -> FloatArray:
    """CoSyNE's marking probability of each row's genes (Eq. 1 of Gomez et al. 2008).

    ``p_j = 1 - ((f_j - f_min) / (f_max - f_min)) ** (1 / n_genes)`` over the finite values;
    non-finite fitness gives ``p = 1``; when ``f_max == f_min`` every finite row gets ``p = 0``.
    """
    f = np.asarray(fitness, dtype=np.float64)
    finite = np.isfinite(f)
    if not finite.any():
        return np.ones(f.shape)
    lo, hi = f[finite].min(), f[finite].max()
    if hi > lo:
        norm = np.where(finite, (np.where(finite, f, lo) - lo) / (hi - lo), 0.0)
    else:
        norm = finite.astype(np.float64)
    return 1.0 - norm ** (1.0 / n_genes)


def mark_for_permutation(fitness: FloatArray, n_genes: int, rng: np.random.Generator) -> BoolArray:
    """Marks ``(m, n_genes)``: entry ``(j, i)`` is marked with row ``j``'s
    :func:`permutation_probability`; one uniform draw per entry, in C order."""
    p = permutation_probability(fitness, n_genes)
    return rng.random((p.size, n_genes)) < p[:, None]


def permute_marked(matrix: FloatArray, marks: BoolArray, rng: np.random.Generator) -> FloatArray:
    """Copy of ``matrix`` ``(m, n)`` whose marked entries are shuffled within each column (one
    :meth:`~numpy.random.Generator.permutation` per column with two or more marks)."""
    out = np.array(matrix, dtype=np.float64)
    for i in range(out.shape[1]):
        rows = np.flatnonzero(marks[:, i])
        if rows.size > 1:
            out[rows, i] = out[rows[rng.permutation(rows.size)], i]
    return out


class CoSyNE(PopulationOptimizer):
    """CoSyNE on the optimizer contract (see the module docstring).

    The ``(P, G)`` matrix starts uniform in [-1, 1]; :meth:`ask` returns it.
    """

    name: ClassVar[str] = "cosyne"
    Spec: ClassVar[type] = CoSyNESpec

    minimum_population: ClassVar[int] = 4

    @property
    def n_parents(self) -> int:
        """``elite_fraction * P`` rounded half up, at least 1 and at most ``P / 2`` (a quarter of 40: 10)."""
        size = self.spec.population
        return max(1, min(size // 2, math.floor(self.spec.elite_fraction * size + 0.5)))

    def _tell(self, genomes: FloatArray, fitness: FloatArray) -> None:
        f = worst_is_minus_inf(fitness)
        order = np.argsort(-f, kind="stable")  # best first, failures last, ties in index order
        ranked, ranked_f = self.population[order], f[order]
        q = self.n_parents
        s = self.spec
        children = recombine(ranked, q, s.mutation_rate, s.mutation_scale, self.rng)
        keep = ranked.shape[0] - children.shape[0]
        marks = mark_for_permutation(ranked_f, self.genome_size, self.rng)[:keep]
        survivors = permute_marked(ranked[:keep], marks, self.rng)
        self.population = np.concatenate([survivors, children])
