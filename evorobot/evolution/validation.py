"""Post-evaluation: the champion is chosen on a fixed set of trials that selection never sees.

With trials drawn afresh every generation, an individual's fitness is a noisy estimate, and the
best fitness of a generation is biased upwards: the best-ever individual is mostly the luckiest
one. Evolutionary robotics practice is to re-test the best individuals of each generation on many
more trials and to keep the one that does best there (the "post-evaluation" of Nolfi's Evorobot
simulators; Nolfi & Floreano 2000, *Evolutionary Robotics*, MIT Press). Adapted: the re-test
happens every generation during the run, on one fixed set of trials, so that the champion file is
always the best validated individual so far and replays exactly.

``[evolution] validation_trials = N`` (0: off) and ``validation_top = k``: after each generation
the ``k`` individuals with the highest fitness of that generation (ties in index order) are
evaluated on ``N`` trials drawn once per run from :func:`~evorobot.seeding.validation_rng` (a
stream evolution never draws from), and the champion is the individual with the best validation
fitness so far. Selection itself is unchanged: a run's population, history of fitness and every
other result are bit for bit those of the same run without validation. The champion file then
holds the validation trials' fitness, its experiment carries ``task.trials = N``, and its
``trial_set`` is ``"validation"``, so that ``evorobot replay`` re-runs exactly those trials.
"""

from __future__ import annotations

import numpy as np

from evorobot._types import FloatArray, IntArray
from evorobot.config import Experiment, with_trials
from evorobot.evolution.backends import Backend
from evorobot.evolution.evaluate import Evaluation, evaluate
from evorobot.seeding import validation_rng
from evorobot.setup import Setup, build

_CACHE_LIMIT = 4096


class Validation:
    """The validation trials of a run and the evaluation of each generation's best on them."""

    def __init__(self, exp: Experiment) -> None:
        spec = exp.evolution
        self.top = spec.validation_top
        self.setup: Setup = build(with_trials(exp, spec.validation_trials,
                                              f"{exp.source} [evolution] `validation_trials` {spec.validation_trials}"))
        self.conditions: FloatArray = self.setup.task.conditions(validation_rng(exp.experiment.seed))
        self._seen: dict[bytes, tuple[FloatArray, int]] = {}

    def candidates(self, fitness: FloatArray) -> IntArray:
        """Indices of the generation's ``top`` best finite fitness values, best first."""
        finite = np.flatnonzero(np.isfinite(fitness))
        order = finite[np.argsort(-fitness[finite], kind="stable")]
        return order[: self.top]

    def run(self, genomes: FloatArray, fitness: FloatArray, chunk_size: int,
            backend: Backend | None) -> tuple[IntArray, Evaluation]:
        """Validate the generation's best: ``(indices, their Evaluation on the validation trials)``.

        A genome validated before (an elite carried over) is not evaluated again: its result is
        deterministic, so the cache changes the cost only.
        """
        idx = self.candidates(fitness)
        keys = [genomes[i].tobytes() for i in idx]
        results = {k: self._seen[k] for k in keys if k in self._seen}
        new = [int(i) for i, k in zip(idx, keys, strict=True) if k not in results]
        lost: tuple[str, ...] = ()
        if new:
            ev = evaluate(self.setup, genomes[new], self.conditions, chunk_size, backend)
            lost = ev.lost
            fresh = {genomes[i].tobytes(): (ev.trials[j], int(ev.failed[j])) for j, i in enumerate(new)}
            results.update(fresh)
            if not lost:  # a lost chunk scored worst: not a result to remember
                if len(self._seen) + len(fresh) > _CACHE_LIMIT:
                    self._seen.clear()
                self._seen.update(fresh)
        trials = np.array([results[k][0] for k in keys]).reshape(len(idx), self.conditions.shape[0])
        failed = np.array([results[k][1] for k in keys], dtype=np.int64)
        return idx, Evaluation(np.array([self.setup.task.individual_fitness(t) for t in trials]), trials, failed, lost)
