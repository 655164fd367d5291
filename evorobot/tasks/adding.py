"""The adding problem: output the sum of two marked values at the end of a long sequence.

Description
    Hochreiter & Schmidhuber's (1997) experiment 4, a long-time-lag task with continuous values.
    Each element of a sequence is a pair ``(value, marker)``: values uniform in [-1, 1]; one of
    the first ten pairs is marked (marker 1, value X1) and one of the first ``T/2 - 1`` still
    unmarked pairs (X2); the first and final pairs have marker -1 (unless marked), the rest 0;
    when the first pair is marked its value is set to 0. The sequence length is a random integer
    in ``[T, T + T/10]`` (:func:`~evorobot.tasks.datasets.adding`).
Inputs
    Two: ``value`` in [-1, 1] and ``marker`` in {-1, 0, 1}.
Outputs
    One, ``o`` in [0, 1], read at the sequence's last tick; target ``0.5 + (X1 + X2) / 4``
    (the paper's scaling of the sum into [0, 1]).
Fitness
    Per trial ``1 - (o - target)^2`` at the last tick (graded; the paper's criterion is binary);
    mean over trials; a non-finite output fails the trial (0). A sequence is solved when
    ``|o - target| < 0.04`` (the paper's criterion; diagnostics ``solved``). Held-out test:
    ``error_rate``, the fraction of the test sequences not solved: the paper reports the number
    of wrong predictions on a test set of 2560 sequences [check: from the paper's results table
    as remembered, not re-read].
Trials
    ``trials`` sequences drawn every generation (without replacement, from the generation's
    rng) from a fixed pool of ``train_pool`` train sequences: the paper trains on a stream of
    fresh random sequences. The test split is ``test_sequences`` (2560) sequences from an
    independent stream of ``data_seed``.
Termination
    After the sequence's last pair (sequences of different lengths end on their own tick).
References
    Hochreiter, S. & Schmidhuber, J. (1997) Long short-term memory. Neural Computation
    9(8):1735-1780, section 5.4 (experiment 4; T = 100, 500, 1000). Adapted: the network is
    evolved, not trained by gradient; the default ``length`` T = 50 is shorter than the paper's
    shortest (100, worlds/adding_100.toml) to keep a generation cheap; the fitness is graded.
Version
    1
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evorobot._types import FloatArray
from evorobot.agent import AgentSpec
from evorobot.errors import ConfigError
from evorobot.spec import setting
from evorobot.tasks.base import Scores
from evorobot.tasks.datasets import adding
from evorobot.tasks.sequence import SequenceData, SequenceTask, split_rngs

__all__ = ["Adding", "AddingSpec"]


@dataclass(frozen=True)
class AddingSpec:
    """``[task]`` settings of the adding problem (test set and criterion: the paper's)."""

    data_seed: int = setting(0, ge=0, doc="seed of the generated sequences")
    length: int = setting(50, ge=22, doc="minimal sequence length T (lengths in [T, T + T/10])")
    trials: int = setting(20, ge=1, doc="train sequences per individual and generation")
    train_pool: int = setting(1000, ge=1, doc="train sequences the trials are drawn from")
    test_sequences: int = setting(2560, ge=1, doc="held-out test sequences")
    tolerance: float = setting(0.04, gt=0, doc="a sequence is solved when |error| < tolerance")


def adding_split(n: int, length: int, rng: np.random.Generator) -> SequenceData:
    """``n`` adding sequences, the target scored at each one's last tick."""
    pairs, lengths, targets = adding(n, length, rng)
    rows = np.arange(n)
    weights = np.zeros(pairs.shape[:2])
    weights[rows, lengths - 1] = 1.0
    y = np.zeros(pairs.shape[:2] + (1,))
    y[rows, lengths - 1, 0] = targets
    return SequenceData(pairs, y, weights, lengths)


class Adding(SequenceTask):
    """The adding problem (see the module docstring)."""

    name = "adding"
    Spec = AddingSpec
    input_names = ("value", "marker")
    output_names = ("sum",)
    held_out_metric = "error_rate"

    def __init__(self, spec: AddingSpec, agent: AgentSpec | None, dt: float, where: str) -> None:
        super().__init__(spec, agent, dt, where)
        if spec.trials > spec.train_pool:
            raise ConfigError(f"{where}: `trials` = {spec.trials} exceeds `train_pool` = {spec.train_pool}")
        self.tolerance = spec.tolerance
        train_rng, test_rng = split_rngs(spec.data_seed)
        self.set_data(adding_split(spec.train_pool, spec.length, train_rng),
                      adding_split(spec.test_sequences, spec.length, test_rng))

    @property
    def n_trials(self) -> int:
        return self.spec.trials

    def conditions(self, rng: np.random.Generator) -> FloatArray:
        """``trials`` train sequences drawn from the pool without replacement."""
        return self.rows(0, rng.choice(self.n_train, self.spec.trials, replace=False))

    def fitness(self, scores: Scores, conditions: FloatArray) -> FloatArray:
        return np.where(scores.failed, self.worst, 1.0 - self.mean_of(scores, "sse"))

    def diagnostics(self, scores: Scores, conditions: FloatArray) -> dict[str, FloatArray]:
        return {"solved": np.where(scores.failed, 0.0, self.mean_of(scores, "within"))}

    def held_out_score(self, scores: Scores, conditions: FloatArray) -> float:
        return 1.0 - self.held_out_mean(scores, conditions, "within", failed_value=0.0)
