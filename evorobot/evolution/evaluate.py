"""Evaluation of a population: fixed-size chunks of individuals mapped over a backend.

The population is cut into chunks of ``chunk_size`` individuals whatever the number of workers,
and each individual's trials live in a pymunk Space of their own (:mod:`evorobot.sim.world`), so
an individual's fitness is bitwise the same with any backend, any worker count, any chunk
neighbours, or alone.

A work unit (:data:`ChunkTask`) is plain data: the resolved experiment as JSON text, the chunk's
genomes and the generation's trial conditions. :func:`evaluate_chunk` rebuilds the
:class:`~evorobot.setup.Setup` from that JSON once per process (cached by the text's sha256), so
workers never receive pickled numba dispatchers or pymunk Spaces. Backends
(:mod:`evorobot.evolution.backends`) map it over the chunks in order; a chunk they could not
evaluate comes back as :class:`ChunkFailed`, and its individuals score the task's worst fitness on
every trial, marked failed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from evorobot._types import BoolArray, FloatArray, IntArray
from evorobot.episode import Episode, evaluate_individuals
from evorobot.evolution.backend_base import Backend, ChunkFailed, Initializer
from evorobot.setup import Setup, setup_from_dict

if TYPE_CHECKING:
    from evorobot.config import Experiment

ChunkTask = tuple[str, FloatArray, FloatArray]
"""``(experiment JSON, genomes (n, G), conditions (T, k))``: everything a worker receives."""

ChunkResult = tuple[FloatArray, BoolArray]
"""``(fitness (n, T), failed (n, T))`` of one chunk."""


class Evaluation(NamedTuple):
    """Outcome of evaluating a population."""

    fitness: FloatArray  # (P,) mean over trials; failed trials count as the task's worst
    trials: FloatArray  # (P, T)
    failed: IntArray  # (P,) number of failed trials per individual
    lost: tuple[str, ...] = ()  # one message per chunk whose individuals were scored worst


def chunks(n: int, size: int) -> list[slice]:
    """Consecutive slices of ``size`` individuals covering ``range(n)``."""
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def experiment_json(exp: "Experiment") -> str:
    """The resolved experiment as canonical JSON text: the key of a worker's Setup cache."""
    return json.dumps(exp.to_dict(), sort_keys=True, allow_nan=False)


_SETUPS: dict[str, Setup] = {}
_SETUPS_LOCK = threading.Lock()


def setup_for(exp_json: str) -> Setup:
    """The Setup of ``exp_json``, built once per process (dask workers may be threaded)."""
    key = hashlib.sha256(exp_json.encode()).hexdigest()
    with _SETUPS_LOCK:
        setup = _SETUPS.get(key)
        if setup is None:
            # the budget was checked against this machine's memory by the main process; a worker's
            # view of free memory must not decide a chunk's result
            setup = setup_from_dict(json.loads(exp_json), "<resolved experiment>", machine=False)
            if len(_SETUPS) >= 4:
                _SETUPS.clear()
            _SETUPS[key] = setup
        return setup


def evaluate_chunk(task: ChunkTask) -> ChunkResult:
    """Evaluate one chunk; runs in a worker (or in-process for the serial backend)."""
    exp_json, genomes, conditions = task
    result = evaluate_individuals(setup_for(exp_json), genomes, conditions)
    return result.fitness, result.failed


def warm_up_json(exp_json: str) -> None:
    """Build the Setup of ``exp_json`` in this process and :func:`warm_up` it."""
    warm_up(setup_for(exp_json))


def initializer(exp: "Experiment") -> Initializer:
    """The backend initializer of ``exp`` (:meth:`Backend.prepare`): each process builds its Setup and
    compiles (or loads from numba's cache) every kernel before its first chunk."""
    return functools.partial(warm_up_json, experiment_json(exp))


def warm_up(setup: Setup) -> None:
    """Compile (or load from numba's cache) every kernel an evaluation calls: one individual,
    one trial, two ticks."""
    from evorobot.seeding import conditions_rng

    conditions = setup.task.conditions(conditions_rng(0, 0))[:1]
    episode = Episode(setup, np.zeros((1, setup.genome_size)), conditions)
    episode.tick()
    episode.tick()
    episode.result()


def evaluate(
    setup: Setup,
    genomes: FloatArray,
    conditions: FloatArray,
    chunk_size: int,
    backend: Backend | None = None,
) -> Evaluation:
    """Evaluate ``genomes`` (P, G) on every trial of ``conditions``.

    With no ``backend`` the chunks run here on ``setup``; otherwise they go to ``backend.map`` as
    :data:`ChunkTask` s built from ``setup.experiment``.
    """
    slices = chunks(genomes.shape[0], chunk_size)
    if backend is None:
        results: list[Any] = [evaluate_individuals(setup, genomes[sl], conditions)[:2] for sl in slices]
    else:
        text = experiment_json(setup.experiment)
        results = list(backend.map(evaluate_chunk, [(text, genomes[sl], conditions) for sl in slices]))
    n_trials = conditions.shape[0]
    trials = np.empty((genomes.shape[0], n_trials))
    failed = np.empty((genomes.shape[0], n_trials), dtype=bool)
    lost = []
    for sl, res in zip(slices, results, strict=True):
        if isinstance(res, ChunkFailed):
            trials[sl], failed[sl] = setup.task.worst, True
            lost.append(f"individuals {sl.start}-{sl.stop - 1} scored worst: {res.reason}")
        else:
            trials[sl], failed[sl] = res
    fitness = np.array([setup.task.individual_fitness(row) for row in trials])
    return Evaluation(fitness, trials, failed.sum(axis=1).astype(np.int64), tuple(lost))
