"""Random streams of a run, all derived from one ``SeedSequence(run seed)`` (ARCHITECTURE §4).

Streams are addressed by purpose and coordinates through ``spawn_key``, so that they never depend
on the order in which anything was evaluated, on the number of workers, or on what else was in a
batch:

- ``optimizer_seed(seed)``: the optimizer's own stream;
- ``conditions_rng(seed, generation)``: the trial set-ups of one generation, shared by every
  individual of that generation so they are compared on the same trials;
- ``trial_rng(seed, generation, individual, trial)``: sensor and motor noise of one trial;
- ``evaluation_rng(seed)``: fresh trials for testing a champion after evolution
  (``evorobot replay --trials N --seed S``), a stream evolution never uses;
- ``validation_rng(seed)``: the validation trials on which a run picks its champion
  (``[evolution] validation_trials``), drawn once, never seen by selection.
"""

from __future__ import annotations

import numpy as np

_OPTIMIZER, _CONDITIONS, _TRIAL, _EVALUATION, _VALIDATION = 0, 1, 2, 3, 4


def optimizer_seed(seed: int) -> np.random.SeedSequence:
    """SeedSequence of the optimizer's stream."""
    return np.random.SeedSequence(seed, spawn_key=(_OPTIMIZER,))


def conditions_rng(seed: int, generation: int) -> np.random.Generator:
    """Generator for the trial conditions of ``generation``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_CONDITIONS, generation)))


def trial_rng(seed: int, generation: int, individual: int, trial: int) -> np.random.Generator:
    """Generator for the noise of one trial of one individual."""
    ss = np.random.SeedSequence(seed, spawn_key=(_TRIAL, generation, individual, trial))
    return np.random.default_rng(ss)


def evaluation_rng(seed: int) -> np.random.Generator:
    """Generator for fresh test trials, independent of every stream of evolution."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_EVALUATION,)))


def validation_rng(seed: int) -> np.random.Generator:
    """Generator for a run's validation trials (:mod:`evorobot.evolution.validation`), drawn once
    per run; selection never sees them."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_VALIDATION,)))
