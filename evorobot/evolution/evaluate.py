"""Evaluation of a population: fixed-size chunks of individuals mapped over a backend.

A backend needs only an ordered ``map(fn, iterable)``. The population is cut into chunks of
``chunk_size`` individuals whatever the number of workers, and each individual's trials live in a
pymunk Space of their own (:mod:`evorobot.sim.world`), so an individual's fitness is bitwise the
same with any backend, any worker count, any chunk neighbours, or alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import math

import numpy as np

from evorobot._types import FloatArray, IntArray
from evorobot.episode import EpisodeResult, evaluate_individuals
from evorobot.setup import Setup

MapFn = Callable[[Callable[[Any], Any], Iterable[Any]], Iterator[Any]]


class Evaluation(NamedTuple):
    """Outcome of evaluating a population."""

    fitness: FloatArray  # (P,) mean over trials; failed trials count as the task's worst
    trials: FloatArray  # (P, T)
    failed: IntArray  # (P,) number of failed trials per individual


def mean_fitness(trials: FloatArray) -> float:
    """An individual's fitness: the mean of its trials, correctly rounded (``math.fsum``), so it is
    the same however the trials were batched or summed."""
    return math.fsum(trials) / len(trials) if np.all(np.isfinite(trials)) else float(np.mean(trials))


def chunks(n: int, size: int) -> list[slice]:
    """Consecutive slices of ``size`` individuals covering ``range(n)``."""
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def evaluate(
    setup: Setup,
    genomes: FloatArray,
    conditions: FloatArray,
    chunk_size: int,
    map_fn: MapFn = map,
) -> Evaluation:
    """Evaluate ``genomes`` (P, G) on every trial of ``conditions``."""
    parts = [genomes[sl] for sl in chunks(genomes.shape[0], chunk_size)]
    results: list[EpisodeResult] = list(map_fn(lambda g: evaluate_individuals(setup, g, conditions), parts))
    trials = np.concatenate([r.fitness for r in results], axis=0)
    failed = np.concatenate([r.failed for r in results], axis=0)
    fitness = np.array([mean_fitness(row) for row in trials])
    return Evaluation(fitness, trials, failed.sum(axis=1).astype(np.int64))
