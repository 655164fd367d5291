"""CMA-ES (Hansen & Ostermeier 2001) in ask/tell form, through pycma.

The covariance matrix adaptation evolution strategy samples ``population`` (lambda) genomes from
a Gaussian ``mean + sigma N(0, C)``, recombines the better half into the new mean with
rank-based weights, and adapts ``C`` (rank-one and rank-mu updates, active CMA) and ``sigma``
(cumulative step-size adaptation), as described in Hansen (2016). The algorithm is pycma's
``CMAEvolutionStrategy`` with its default parameters, driven through its ask/tell interface.
``diagonal = true`` sets pycma's ``CMA_diagonal`` (sep-CMA-ES, Ros & Hansen 2008): a diagonal
``C`` whose cost is linear in the number of genes, for genomes of hundreds of genes.

Settings: ``population`` defaults to 16 (pycma's own default, 4 + floor(3 ln G), depends on the
genome size, which a settings table cannot refer to; it is 10 for 10 genes, 19 for 200);
``sigma0`` 0.3 in gene units; the mean starts at zero (``initial_mean = "zero"``) or uniform in
[-1, 1].

Adapted here:

- **bounds**: pycma's ``bounds = [-1, 1]`` with its default ``BoundTransform``. The strategy
  samples in an unbounded genotype space, and a smooth, piecewise quadratic-linear map (the
  identity on [-0.9, 0.9]) takes each sample into [-1, 1]; the genome asked is that image, and
  pycma updates from the genotype. (It is also clipped to [-1, 1], a no-op guarding rounding.)
- **fitness**: pycma minimises, so it is told ``-fitness``; a non-finite (failed) fitness is told
  as a cost worse than every finite one of its generation.
- **randomness**: pycma draws its normal samples through its ``randn`` option, given a function
  of this optimizer's ``rng``; its ``seed`` option is NaN, which pycma reads as "do not touch
  numpy's global random state". Output and log files are off (``verbose = -9``,
  ``verb_log = 0``, ``verb_disp = 0``).
- **state without pickle**: pycma saves itself by pickling, which checkpoints may not do. The
  state is instead the starting point (mean ``x0`` and the ``rng`` state when the strategy was
  built) and every generation's fitness vector; loading rebuilds the strategy by replaying
  ask/tell, which is deterministic, then checks that the replay ends on the stored ``rng`` state,
  mean and sigma (and asked genomes), and refuses the state (ChampionFileError) otherwise: a
  tampered history, or a pycma version that computes differently. Replaying costs what the
  strategy itself cost, evaluations excepted, and the history grows by ``population`` numbers per
  generation.
- ``seed_population`` rebuilds the strategy centred on the mean of the given genomes (same
  ``sigma0``, fresh covariance).

References
----------
N. Hansen & A. Ostermeier (2001). Completely derandomized self-adaptation in evolution
strategies. Evolutionary Computation 9(2), 159-195.
N. Hansen (2016). The CMA evolution strategy: a tutorial. arXiv:1604.00772.
R. Ros & N. Hansen (2008). A simple modification in CMA-ES achieving linear time and space
complexity. PPSN X, 296-305.
N. Hansen et al., pycma (https://github.com/CMA-ES/pycma).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from evorobot._types import FloatArray
from evorobot.errors import ChampionFileError
from evorobot.evolution.base import GenomeLayout, Optimizer, rng_state, check_population, get_array
from evorobot.spec import setting

__all__ = ["CMAES", "CMAESSpec", "cma_costs"]


def _cma() -> Any:
    """pycma, imported on first use (it takes half a second) without its matplotlib warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import cma
    return cma


def cma_costs(fitness: FloatArray) -> list[float]:
    """``-fitness`` for pycma (which minimises), failures worse than every finite cost."""
    f = np.asarray(fitness, dtype=np.float64)
    finite = np.isfinite(f)
    cost = np.where(finite, -f, 0.0)
    if finite.any() and not finite.all():
        worst = float(cost[finite].max())
        cost[~finite] = min(worst + max(1.0, abs(worst)), np.finfo(np.float64).max)
    return [float(c) for c in cost]


@dataclass(frozen=True)
class CMAESSpec:
    """Settings of the ``[optimizer]`` table for ``type = "cmaes"``."""

    population: int = setting(16, ge=2, doc="lambda, samples per generation (pycma's default is 4 + floor(3 ln G))")
    sigma0: float = setting(0.3, gt=0, doc="initial step size, in gene units")
    diagonal: bool = setting(False, doc="separable CMA-ES (pycma's CMA_diagonal): a diagonal covariance, "
                                        "for large genomes")
    initial_mean: str = setting("zero", choices=("zero", "uniform"),
                                doc="zero: the centre of the box; uniform: each gene uniform in [-1, 1]")


class CMAES(Optimizer):
    """pycma's CMA-ES on the optimizer contract (see the module docstring)."""

    name: ClassVar[str] = "cmaes"
    Spec: ClassVar[type] = CMAESSpec

    def __init__(self, spec: CMAESSpec, layout: GenomeLayout, seed: np.random.SeedSequence,
                 where: str = "[optimizer]") -> None:
        super().__init__(spec, layout, seed, where)
        check_population(spec, 2, where)
        g = self.genome_size
        self._start(self.rng.uniform(-1.0, 1.0, g) if spec.initial_mean == "uniform" else np.zeros(g))

    def _randn(self, *shape: int) -> FloatArray:
        """pycma's ``randn(*shape)``, drawn from :attr:`rng`."""
        return self.rng.standard_normal(shape)

    def _start(self, x0: FloatArray) -> None:
        """A fresh strategy centred on ``x0``; the history restarts from the current rng state."""
        self._x0 = np.array(x0, dtype=np.float64)
        self._start_rng = rng_state(self.rng)
        self._history: list[FloatArray] = []
        self._pending: list[FloatArray] | None = None  # pycma's solutions of the asked generation
        options = {
            "popsize": self.population_size, "bounds": [-1.0, 1.0],
            "CMA_diagonal": True if self.spec.diagonal else 0,
            "randn": self._randn, "seed": np.nan,
            "verbose": -9, "verb_log": 0, "verb_disp": 0, "verb_plot": 0, "verb_time": False,
        }
        self.es = _cma().CMAEvolutionStrategy(self._x0.copy(), self.spec.sigma0, options)

    def _ask(self) -> FloatArray:
        if self._pending is None:
            self._pending = self.es.ask()
        return np.clip(np.array(self._pending, dtype=np.float64), -1.0, 1.0)

    def _tell(self, genomes: FloatArray, fitness: FloatArray) -> None:
        assert self._pending is not None, "tell without ask"
        self.es.tell(self._pending, cma_costs(fitness))
        self._history.append(np.array(fitness, dtype=np.float64))
        self._pending = None

    def _seed(self, genomes: FloatArray) -> None:
        self._start(genomes.mean(axis=0))

    def _state(self) -> dict[str, Any]:
        fitness = (np.array(self._history) if self._history
                   else np.zeros((0, self.population_size)))
        return {"x0": self._x0.copy(), "start_rng": self._start_rng, "fitness": fitness,
                "mean": np.array(self.es.mean, dtype=np.float64), "sigma": np.array([self.es.sigma]),
                "cma_version": _cma().__version__}

    def _load(self, state: dict[str, Any], where: str) -> None:
        g, p = self.genome_size, self.population_size
        x0 = get_array(state, "x0", (g,), where)
        history = get_array(state, "fitness", (self.generation, p), where, finite=False)
        mean = get_array(state, "mean", (g,), where)
        sigma = get_array(state, "sigma", (1,), where)
        final = self.rng.bit_generator.state
        try:
            self.rng.bit_generator.state = state["start_rng"]
        except (KeyError, TypeError, ValueError) as exc:
            raise ChampionFileError(
                f"{where}: optimizer state `start_rng` is missing or malformed ({exc!r})") from None
        self._start(x0)
        for fitness in history:  # replay: the same draws, the same updates
            self._ask()
            self._tell(self._x0, fitness)  # _tell reads pycma's own solutions, not `genomes`
        same = True
        if self._asked is not None:  # from_state_dict restored an asked, untold generation
            same = np.array_equal(self._ask(), self._asked)
        same = (same and self.rng.bit_generator.state == final
                and np.array_equal(np.asarray(self.es.mean, dtype=np.float64), mean)
                and float(self.es.sigma) == float(sigma[0]))
        if not same:
            version = state.get("cma_version")
            raise ChampionFileError(
                f"{where}: replaying the CMA-ES fitness history does not reproduce the stored state "
                f"(a modified history, or pycma {version} then and {_cma().__version__} now)")
