"""The optimizer contract.

An optimizer type is a small Python class whose operators are pure functions taking an explicit
``np.random.Generator`` (ARCHITECTURE.md sections 3 and 8). It knows nothing of robots: it sees
genomes, rows of ``G`` genes in [-1, 1], and one fitness per genome, which it **maximises**.

An optimizer type must provide:

1. ``name``: its registry key, and ``Spec``: a frozen settings dataclass parsed from the world
   file's ``[optimizer]`` table with :func:`evorobot.spec.parse` (the ``type`` key is the
   registry's). Every ``Spec`` has ``population``, the number of genomes ``ask`` returns (the CLI's
   ``--population``).
2. ``__init__(spec, layout, seed, where)``: draw the initial state from a generator seeded by
   ``seed`` (the run's :func:`~evorobot.seeding.optimizer_seed`), after checking ``spec`` against
   the :class:`GenomeLayout` (raise :class:`~evorobot.errors.ConfigError` naming ``where``).
   Subclasses call ``super().__init__`` first: it sets ``spec``, ``layout``, ``genome_size``,
   ``rng`` and ``generation``.
3. ``_ask() -> (P, G)``: the genomes of the next generation, every gene finite and in [-1, 1]
   (each type documents how it keeps them there). :meth:`Optimizer.ask` calls it once per
   generation: asking again before telling returns the same genomes.
4. ``_tell(genomes, fitness)``: update from the fitness of the asked genomes. Non-finite fitness
   (a blown-up trial) counts as worse than every finite value; :func:`worst_is_minus_inf` turns
   it into ``-inf``.
5. ``_seed(genomes)``: start from the given ``(P, G)`` genomes instead of the initial draw
   (``--init-from`` another run, a center-crossing start). Population-based types take them as
   their population; distribution-based types centre their search distribution on them (each
   type's docstring says how).
6. ``_state() -> dict`` and ``_load(state, where)``: the type's evolving state (not its settings)
   as JSON-ready values and numpy arrays at the top level of the dict, and its restoration, with
   :class:`~evorobot.errors.ChampionFileError` for a state that does not fit (use
   :func:`get_array`, :func:`get_float`, :func:`get_int`). :meth:`Optimizer.state_dict` adds the
   generation, the random generator's state and any asked-but-untold genomes, so that an optimizer
   rebuilt with :meth:`Optimizer.from_state_dict` continues bit for bit.

The best individual ever evaluated is not the optimizer's business: the runner keeps it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

from evorobot._types import FloatArray, IntArray
from evorobot.errors import ChampionFileError, ConfigError

__all__ = ["GenerationStats", "GenomeLayout", "Optimizer", "OptimizerUsageError", "PopulationOptimizer", "centered_ranks",
           "check_population", "generation_stats", "get_array", "get_bounded", "get_fitness", "get_float",
           "get_int", "rng_state", "worst_is_minus_inf"]

O = TypeVar("O", bound="Optimizer")


class OptimizerUsageError(RuntimeError):
    """The contract was called out of order or with arrays of the wrong shape (a caller's bug)."""


class GenerationStats(NamedTuple):
    """What :meth:`Optimizer.tell` reports of one generation, over its finite fitness values."""

    best: float  # NaN when no value is finite
    mean: float
    std: float
    failed: int  # non-finite fitness values
    best_index: int  # row of the asked genomes with the best finite fitness (first of equals); -1 if none


@dataclass(frozen=True, eq=False)
class GenomeLayout:
    """What an optimizer may know of a genome: its size and, when the controller declares them,
    the genes of each neuron (:meth:`evorobot.controllers.base.Controller.gene_groups`).

    ``groups`` partitions ``range(size)``: one array of gene indices per neuron, then the genes
    that belong to no neuron (the controller's rest, such as output biases; the sensor morphology's
    genes as a group of their own). ``None`` when the controller cannot say (ESP refuses such a
    layout).
    """

    size: int
    groups: tuple[IntArray, ...] | None = None

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ValueError(f"a genome needs at least one gene, got size {self.size}")
        if self.groups is not None:
            flat = np.sort(np.concatenate([np.asarray(g, dtype=np.int64) for g in self.groups]))
            if not np.array_equal(flat, np.arange(self.size)):
                raise ValueError("gene groups must partition the genome")


def generation_stats(fitness: FloatArray) -> GenerationStats:
    """Best, mean and standard deviation of the finite values; ``failed`` counts the others."""
    f = np.asarray(fitness, dtype=np.float64)
    finite = np.isfinite(f)
    if not finite.any():
        nan = float("nan")
        return GenerationStats(nan, nan, nan, int(f.size), -1)
    values = f[finite]
    best = int(np.flatnonzero(finite)[np.argmax(values)])
    return GenerationStats(float(f[best]), float(values.mean()), float(values.std()), int(f.size - finite.sum()), best)


def worst_is_minus_inf(fitness: FloatArray) -> FloatArray:
    """``fitness`` with every non-finite value (NaN, +-inf) replaced by ``-inf``."""
    f = np.asarray(fitness, dtype=np.float64)
    return np.where(np.isfinite(f), f, -np.inf)


def centered_ranks(fitness: FloatArray) -> FloatArray:
    """Ranks mapped linearly onto [-0.5, 0.5], best highest (Salimans et al. 2017's fitness
    shaping); ties and non-finite values are ranked in index order after a stable sort."""
    f = worst_is_minus_inf(fitness)
    n = f.size
    ranks = np.empty(n, dtype=np.float64)
    ranks[np.argsort(f, kind="stable")] = np.arange(n, dtype=np.float64)
    return ranks / max(n - 1, 1) - 0.5


def rng_state(rng: np.random.Generator) -> dict[str, Any]:
    s = rng.bit_generator.state
    return {"bit_generator": s["bit_generator"], "state": {k: int(v) for k, v in s["state"].items()},
            "has_uint32": int(s["has_uint32"]), "uinteger": int(s["uinteger"])}


def _plain(v: Any) -> Any:
    """numpy scalars -> Python numbers, so the non-array state is JSON-ready."""
    if isinstance(v, np.ndarray):
        return v.copy()
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def get_array(state: dict[str, Any], key: str, shape: tuple[int, ...], where: str, finite: bool = True) -> FloatArray:
    """``state[key]`` as a float64 array of ``shape``, every value finite unless ``finite`` is False
    (fitness records, where -inf marks a failure); ChampionFileError naming ``where`` otherwise. A
    loaded state is validated, not only checksummed: a forged checkpoint with a recomputed checksum
    must not restore an optimizer that emits NaN genomes."""
    try:
        a = np.array(state[key], dtype=np.float64)
    except (KeyError, TypeError, ValueError) as exc:
        raise ChampionFileError(f"{where}: optimizer state `{key}` is missing or malformed ({exc!r})") from None
    if a.shape != shape:
        raise ChampionFileError(f"{where}: optimizer state `{key}` has shape {a.shape}, expected {shape}")
    if finite and not np.all(np.isfinite(a)):
        raise ChampionFileError(f"{where}: optimizer state `{key}` holds non-finite values")
    return a


def get_float(state: dict[str, Any], key: str, where: str) -> float:
    """``state[key]`` as a float (a number, not a bool)."""
    v = state.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ChampionFileError(f"{where}: optimizer state `{key}` must be a number, got {v!r}")
    return float(v)


def get_int(state: dict[str, Any], key: str, where: str, lo: int = 0) -> int:
    """``state[key]`` as an int >= ``lo``."""
    v = state.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise ChampionFileError(f"{where}: optimizer state `{key}` must be an integer >= {lo}, got {v!r}")
    return int(v)


def get_bounded(state: dict[str, Any], key: str, shape: tuple[int, ...], where: str,
                bound: float = 1.0) -> FloatArray:
    """``state[key]`` as a finite array of ``shape`` within [-bound, bound] (genes: bound 1)."""
    a = get_array(state, key, shape, where)
    if not (np.all(np.isfinite(a)) and np.all(np.abs(a) <= bound)):
        raise ChampionFileError(f"{where}: optimizer state `{key}` must be finite and within [-{bound}, {bound}]")
    return a


def get_fitness(state: dict[str, Any], key: str, size: int, where: str) -> FloatArray:
    """``state[key]`` as ``size`` fitness values, each finite or ``-inf`` (failed or not yet known)."""
    f = get_array(state, key, (size,), where, finite=False)
    if np.any(np.isnan(f)) or np.any(f == np.inf):
        raise ChampionFileError(f"{where}: optimizer state `{key}` must hold finite values or -inf")
    return f


class Optimizer(ABC):
    """Abstract base of every optimizer (see the module docstring for the contract).

    ``generation`` counts completed tells; ``rng`` is the optimizer's only source of randomness.
    """

    name: ClassVar[str]
    Spec: ClassVar[type]

    def __init__(self, spec: Any, layout: GenomeLayout, seed: np.random.SeedSequence,
                 where: str = "[optimizer]") -> None:
        self.spec = spec
        self.layout = layout
        self.genome_size = int(layout.size)
        self.where = where
        self.rng = np.random.Generator(np.random.PCG64(seed))
        self.generation = 0
        self._asked: FloatArray | None = None

    @property
    def population_size(self) -> int:
        """Number of genomes each :meth:`ask` returns."""
        return int(self.spec.population)

    # -- the public protocol (final) ---------------------------------------------------------

    def ask(self) -> FloatArray:
        """The ``(P, G)`` genomes of the current generation (a copy), genes in [-1, 1]."""
        if self._asked is None:
            g = np.ascontiguousarray(self._ask(), dtype=np.float64)
            if g.shape != (self.population_size, self.genome_size):
                raise OptimizerUsageError(f"{self.name}: _ask returned shape {g.shape}, expected "
                                          f"({self.population_size}, {self.genome_size})")
            if not (np.all(np.isfinite(g)) and np.all(np.abs(g) <= 1.0)):
                raise OptimizerUsageError(f"{self.name}: _ask returned genes outside [-1, 1]")
            self._asked = g
        return self._asked.copy()

    def tell(self, fitness: npt.ArrayLike) -> GenerationStats:
        """Report the fitness (maximised; non-finite = failed) of the genomes of :meth:`ask`."""
        if self._asked is None:
            raise OptimizerUsageError(f"{self.name}: tell() before ask()")
        f = np.asarray(fitness, dtype=np.float64)
        if f.shape != (self._asked.shape[0],):
            raise OptimizerUsageError(f"{self.name}: tell() needs {self._asked.shape[0]} fitness values "
                                      f"(one per asked genome), got shape {f.shape}")
        stats = generation_stats(f)
        self._tell(self._asked, f)
        self._asked = None
        self.generation += 1
        return stats

    def seed_population(self, genomes: npt.ArrayLike) -> None:
        """Start from ``genomes`` (P, G) instead of the initial draw; only before the first tell
        (it discards genomes asked but not told)."""
        if self.generation:
            raise OptimizerUsageError(f"{self.name}: seed_population() after the first tell")
        g = np.array(genomes, dtype=np.float64)
        if g.shape != (self.population_size, self.genome_size):
            raise OptimizerUsageError(f"{self.name}: seed_population() needs shape "
                                      f"({self.population_size}, {self.genome_size}), got {g.shape}")
        if not (np.all(np.isfinite(g)) and np.all(np.abs(g) <= 1.0)):
            raise OptimizerUsageError(f"{self.name}: seed_population() needs genes in [-1, 1]")
        self._asked = None
        self._seed(g)

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue bit for bit (not the settings): JSON-ready values and
        numpy arrays at the top level, no NaN or infinity outside arrays."""
        state = {k: _plain(v) for k, v in self._state().items()}
        for key in ("generation", "rng_state", "asked"):
            if key in state:
                raise OptimizerUsageError(f"{self.name}: _state() may not use the key `{key}`")
        state["generation"] = self.generation
        state["rng_state"] = rng_state(self.rng)
        if self._asked is not None:
            state["asked"] = self._asked.copy()
        return state

    @classmethod
    def from_state_dict(cls: type[O], spec: Any, layout: GenomeLayout, state: dict[str, Any],
                        where: str = "[optimizer]") -> O:
        """Rebuild from :meth:`state_dict`; ChampionFileError if the state does not fit."""
        if not isinstance(state, dict):
            raise ChampionFileError(f"{where}: optimizer state must be a table")
        opt = cls(spec, layout, np.random.SeedSequence(0), where)
        opt.generation = get_int(state, "generation", where)
        rng = state.get("rng_state")
        if not isinstance(rng, dict) or rng.get("bit_generator") != "PCG64":
            raise ChampionFileError(f"{where}: optimizer rng_state is not a PCG64 state")
        try:
            opt.rng.bit_generator.state = rng
        except (KeyError, TypeError, ValueError) as exc:
            raise ChampionFileError(f"{where}: optimizer rng_state is malformed: {exc!r}") from None
        if "asked" in state:
            opt._asked = get_bounded(state, "asked", (opt.population_size, opt.genome_size), where)
        opt._load(state, where)
        return opt

    # -- what a type implements --------------------------------------------------------------

    @abstractmethod
    def _ask(self) -> FloatArray:
        """The next generation's ``(P, G)`` genomes in [-1, 1]."""

    @abstractmethod
    def _tell(self, genomes: FloatArray, fitness: FloatArray) -> None:
        """Update from ``fitness`` (P,) of ``genomes`` (P, G); non-finite means failed."""

    @abstractmethod
    def _seed(self, genomes: FloatArray) -> None:
        """Start from ``genomes`` (P, G), checked to be in [-1, 1]."""

    @abstractmethod
    def _state(self) -> dict[str, Any]:
        """The evolving state (arrays and JSON-ready values)."""

    @abstractmethod
    def _load(self, state: dict[str, Any], where: str) -> None:
        """Restore :meth:`_state`'s keys from ``state``."""


class PopulationOptimizer(Optimizer):
    """An optimizer whose state is a ``(P, G)`` population, drawn uniformly in [-1, 1] at
    construction (after ``minimum_population`` is checked): :meth:`ask` returns it,
    ``seed_population`` replaces it. A subtype implements ``_tell`` (breed the next population)."""

    minimum_population: ClassVar[int] = 2

    def __init__(self, spec: Any, layout: GenomeLayout, seed: np.random.SeedSequence,
                 where: str = "[optimizer]") -> None:
        super().__init__(spec, layout, seed, where)
        check_population(spec, self.minimum_population, where)
        self.population: FloatArray = self.rng.uniform(-1.0, 1.0, (spec.population, self.genome_size))

    def _ask(self) -> FloatArray:
        return self.population.copy()

    def _seed(self, genomes: FloatArray) -> None:
        self.population = genomes.copy()

    def _state(self) -> dict[str, Any]:
        return {"population": self.population.copy()}

    def _load(self, state: dict[str, Any], where: str) -> None:
        self.population = get_bounded(state, "population", (self.population_size, self.genome_size), where)


def check_population(spec: Any, minimum: int, where: str, why: str = "") -> None:
    """ConfigError naming ``where`` when ``spec.population`` is below ``minimum``."""
    if spec.population < minimum:
        raise ConfigError(f"{where}: `population` must be >= {minimum}{why}, got {spec.population}")
