"""What the natural evolution strategies (:mod:`~evorobot.evolution.xnes`,
:mod:`~evorobot.evolution.snes`) share: the rank-based utilities and the ask/tell skeleton.

Utilities (Wierstra et al. 2014, section 3.1, "fitness shaping"): the sample of rank ``k``
(``k = 1`` the best) of ``n`` gets

    u_k = max(0, ln(n/2 + 1) - ln k) / sum_j max(0, ln(n/2 + 1) - ln j)  -  1/n

so that the utilities are invariant to monotone transformations of the fitness, only the better
half get more than the minimum ``-1/n``, and they sum to zero. Non-finite fitness ranks below every finite one;
ties keep index order (a stable sort).

The skeleton draws ``n`` standard-normal vectors ``z`` per generation, maps them through the
type's distribution (:meth:`NESOptimizer._transform`) and asks the samples **clipped** to
[-1, 1]; the update (:meth:`NESOptimizer._update`) uses the unclipped ``z``, the usual
"clip at evaluation" practice: the strategy updates as if it had evaluated its own draws (a
genome outside the box is evaluated at the nearest point of the box). The mean itself is clipped
to [-1, 1] after each update so that it cannot drift along the plateau that clipping creates
beyond the box.

References
----------
D. Wierstra, T. Schaul, T. Glasmachers, Y. Sun, J. Peters & J. Schmidhuber (2014). Natural
evolution strategies. Journal of Machine Learning Research 15, 949-980.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from evorobot._types import FloatArray
from evorobot.evolution.base import GenomeLayout, Optimizer, check_population, get_array, worst_is_minus_inf
from evorobot.spec import setting

__all__ = ["NESOptimizer", "NESSpec", "rank_utilities", "sample_utilities"]


def rank_utilities(n: int) -> FloatArray:
    """``u_1 >= ... >= u_n``, the utility of the ``k``-th best of ``n`` samples (module docstring)."""
    k = np.arange(1, n + 1, dtype=np.float64)
    raw = np.maximum(0.0, math.log(n / 2.0 + 1.0) - np.log(k))
    return raw / raw.sum() - 1.0 / n


def sample_utilities(fitness: FloatArray) -> FloatArray:
    """The utility of each sample (in the order given) from its fitness (maximised)."""
    f = worst_is_minus_inf(fitness)
    u = np.empty(f.size, dtype=np.float64)
    u[np.argsort(-f, kind="stable")] = rank_utilities(f.size)
    return u


@dataclass(frozen=True)
class NESSpec:
    """Settings both NES types share (each adds its learning rates)."""

    population: int = setting(16, ge=2, doc="samples per generation (the papers' default is 4 + floor(3 ln G))")
    sigma0: float = setting(0.3, gt=0, doc="initial standard deviation of the search distribution, in gene units")
    initial_mean: str = setting("zero", choices=("zero", "uniform"),
                                doc="zero: the centre of the box; uniform: each gene uniform in [-1, 1]")
    eta_mu: float = setting(1.0, gt=0, doc="learning rate of the mean (the papers' 1)")


class NESOptimizer(Optimizer):
    """Ask/tell skeleton of a natural evolution strategy (see the module docstring).

    Subclasses keep their distribution's shape apart from ``mean`` and implement
    :meth:`_transform`, :meth:`_update`, :meth:`_shape_state` and :meth:`_load_shape`.
    ``_seed`` centres the distribution on the mean of the given genomes (shape unchanged).
    """

    def __init__(self, spec: NESSpec, layout: GenomeLayout, seed: np.random.SeedSequence,
                 where: str = "[optimizer]") -> None:
        super().__init__(spec, layout, seed, where)
        check_population(spec, 2, where)
        g = self.genome_size
        self.mean: FloatArray = (self.rng.uniform(-1.0, 1.0, g) if spec.initial_mean == "uniform"
                                 else np.zeros(g))
        self._z: FloatArray | None = None  # the draws of the asked, untold generation

    @abstractmethod
    def _transform(self, z: FloatArray) -> FloatArray:
        """Samples (P, G) of the current distribution from standard-normal draws ``z`` (P, G)."""

    @abstractmethod
    def _update(self, z: FloatArray, u: FloatArray) -> None:
        """Natural-gradient step from the draws ``z`` (P, G) and their utilities ``u`` (P,)."""

    @abstractmethod
    def _shape_state(self) -> dict[str, Any]:
        """The distribution's state apart from ``mean``."""

    @abstractmethod
    def _load_shape(self, state: dict[str, Any], where: str) -> None:
        """Restore :meth:`_shape_state`'s keys."""

    def _ask(self) -> FloatArray:
        self._z = self.rng.standard_normal((self.population_size, self.genome_size))
        return np.clip(self._transform(self._z), -1.0, 1.0)

    def _tell(self, genomes: FloatArray, fitness: FloatArray) -> None:
        assert self._z is not None, "tell without ask"
        self._update(self._z, sample_utilities(fitness))
        np.clip(self.mean, -1.0, 1.0, out=self.mean)
        self._z = None

    def _seed(self, genomes: FloatArray) -> None:
        self.mean = genomes.mean(axis=0)
        self._z = None

    def _state(self) -> dict[str, Any]:
        state = {"mean": self.mean.copy(), **self._shape_state()}
        if self._z is not None:
            state["draws"] = self._z.copy()
        return state

    def _load(self, state: dict[str, Any], where: str) -> None:
        self.mean = get_array(state, "mean", (self.genome_size,), where)
        self._load_shape(state, where)
        self._z = None
        if self._asked is not None:  # from_state_dict restored an asked, untold generation
            self._z = get_array(state, "draws", (self.population_size, self.genome_size), where)
